import type { Pod } from '@peapod/api';
import { killContainer, newKillProgress } from './kill-pod';
import type { HookResult, RuntimeContainer, StopResult } from './types';

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'app', image: 'peapod/busybox:latest', lifecycle: { preStop: { sleep: { seconds: 10 } } } }] },
};
const target = { id: 'c1', containerName: 'app', isInfra: false, state: 'running' } as RuntimeContainer;

describe('killContainer entered again while its preStop hook runs', () => {
  afterEach(() => jest.restoreAllMocks());

  it('asks for SIGKILL at once when the wait ends, even if its timer fired before the clock reached the deadline', async () => {
    const progress = newKillProgress();
    // The hook an earlier entry started, still running.
    progress.preStop.set(target.id, new Promise<HookResult>(() => undefined));
    const start = Date.now();
    const deadline = start + 50;
    // The clock reads 20 ms ahead once, when the wait is bounded: its timer then fires 20 ms
    // before Date.now() reaches the deadline, as a timer firing early does.
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementationOnce(() => realNow() + 20);
    const asked: { killAtMs: number; at: number }[] = [];
    const terminate = (id: string, killAtMs: number): Promise<StopResult> => {
      asked.push({ killAtMs, at: Date.now() });
      return Promise.resolve({ ended: 'killed', signal: 'SIGKILL', durationMs: 0 });
    };
    const exec = (): never => {
      throw new Error('no exec expected');
    };
    const report = await killContainer(pod, target, start, deadline, '10.0.0.2', { terminate, exec }, { progress });
    expect(asked).toHaveLength(1);
    expect(asked[0].at).toBeLessThan(deadline);
    // No time is left for a stop signal: a runtime given this killAt sends SIGKILL only.
    expect(asked[0].killAtMs).toBeLessThanOrEqual(asked[0].at);
    expect(report.preStop).toBeUndefined();
    expect(report.extended).toBe(false);
  });
});
