import { containersGoneEvent, killStepEvent, seconds } from './termination-timeline';

const at = Date.parse('2030-01-01T00:00:01.250Z');

describe('the termination timeline', () => {
  it('names each step of a container stop, with its moment', () => {
    expect(killStepEvent({ kind: 'preStopStarted', container: 'app', handler: 'exec', at })).toEqual({
      type: 'Normal',
      reason: 'PreStopHookStarted',
      message: 'Running the preStop hook (exec) of container app',
      at: new Date(at),
    });
    expect(killStepEvent({ kind: 'preStopFinished', container: 'app', result: { handler: 'exec', status: 'ok', durationMs: 1234 }, at })).toMatchObject({
      type: 'Normal',
      reason: 'PreStopHookFinished',
      message: 'PreStop hook of container app finished in 1.2s',
    });
    const failed = { handler: 'httpGet' as const, status: 'failed' as const, message: 'HTTP 500 from http://10.0.0.5:80/', durationMs: 40 };
    expect(killStepEvent({ kind: 'preStopFinished', container: 'app', result: failed, at })).toMatchObject({
      type: 'Warning',
      reason: 'FailedPreStopHook',
      message: 'PreStopHook of container app failed after 0s: HTTP 500 from http://10.0.0.5:80/',
    });
    expect(killStepEvent({ kind: 'signalSent', container: 'app', signal: 'SIGTERM', at })).toMatchObject({ type: 'Normal', reason: 'SentStopSignal', message: 'Sent SIGTERM to container app' });
    expect(killStepEvent({ kind: 'signalSent', container: 'app', signal: 'SIGKILL', at })).toMatchObject({
      type: 'Warning',
      reason: 'SentKillSignal',
      message: 'Sent SIGKILL to container app: still running when its grace period ended',
    });
  });

  it('says how each container ended and when all were gone', () => {
    const exited = { ended: 'exited' as const, signal: 'SIGTERM', exitCode: 0, durationMs: 300 };
    expect(killStepEvent({ kind: 'stopped', container: 'app', stop: exited, at }).message).toBe('Container app exited with code 0, 0.3s after SIGTERM');
    const killed = { ended: 'killed' as const, signal: 'SIGTERM', exitCode: 137, durationMs: 5012 };
    expect(killStepEvent({ kind: 'stopped', container: 'app', stop: killed, at }).message).toBe('Container app was killed (exit code 137), 5s after SIGTERM');
    expect(containersGoneEvent(at - 2500, at, 30)).toEqual({
      type: 'Normal',
      reason: 'ContainersGone',
      message: 'All containers of the pod are gone, 2.5s after termination began (grace period 30s)',
      at: new Date(at),
    });
    expect(seconds(61_049)).toBe('61s');
  });
});
