import type { Container, Pod, Probe } from '@peapod/api';
import type { RuntimeContainer } from '../runtime';
import { ProbeManager } from './manager';
import type { ProbeKind, ProbeOutcome } from './types';

const exec = { command: ['check'] };

function pod(container: Partial<Container>): Pod {
  return { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'app', image: 'i', ...container }] } };
}

function running(id: string, startedAt = new Date()): RuntimeContainer {
  return {
    id,
    podNamespace: 'default',
    podName: 'p',
    podUid: 'u1',
    node: 'n',
    containerName: 'app',
    isInfra: false,
    state: 'running',
    startedAt: startedAt.toISOString(),
    createdAt: startedAt.toISOString(),
    restartCount: 0,
    image: 'i',
    imageId: 'sha',
    oomKilled: false,
  };
}

/** A manager whose probes answer what the test says, per kind. */
function setup() {
  const answers: Record<ProbeKind, ProbeOutcome> = {
    liveness: { result: 'success', output: '' },
    readiness: { result: 'success', output: '' },
    startup: { result: 'success', output: '' },
  };
  const runs: string[] = [];
  const changes: string[] = [];
  const unhealthy: string[] = [];
  const kindOf = new Map<Probe, ProbeKind>();
  const manager = new ProbeManager({
    runtime: 'docker',
    exec: async () => ({ exitCode: 0, timedOut: false, output: '', durationMs: 0 }),
    onChange: (uid) => changes.push(uid),
    onUnhealthy: (_pod, container, kind, outcome) => unhealthy.push(`${container} ${kind} ${outcome.result}: ${outcome.output}`),
    run: async (probe, target) => {
      const kind = kindOf.get(probe) as ProbeKind;
      runs.push(`${kind} ${target.containerId}`);
      return answers[kind];
    },
  });
  const probes = (container: Partial<Container>): Pod => {
    for (const kind of ['liveness', 'readiness', 'startup'] as const) {
      const p = container[`${kind}Probe`];
      if (p) kindOf.set(p, kind);
    }
    return pod(container);
  };
  return { manager, answers, runs, changes, unhealthy, probes };
}

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('ProbeManager', () => {
  it('a container with a readiness probe is not ready until the probe passes, and not after it fails failureThreshold times', async () => {
    const t = setup();
    const p = t.probes({ readinessProbe: { exec, periodSeconds: 1, failureThreshold: 2 } });
    t.manager.update(p, [running('c1')], '10.0.0.5');
    expect(t.manager.ready('u1', 'app', 'c1')).toBe(false);
    expect(t.manager.started('u1', 'app', 'c1')).toBe(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(t.manager.ready('u1', 'app', 'c1')).toBe(true);
    expect(t.changes).toEqual(['u1']);
    t.answers.readiness = { result: 'failure', output: 'no file' };
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.manager.ready('u1', 'app', 'c1')).toBe(true);
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.manager.ready('u1', 'app', 'c1')).toBe(false);
    expect(t.changes).toEqual(['u1', 'u1']);
    expect(t.unhealthy).toEqual(['app readiness failure: no file', 'app readiness failure: no file']);
    t.manager.stopAll();
  });

  it('a failed liveness probe asks for the kill once, then waits for the next attempt, which starts alive', async () => {
    const t = setup();
    const p = t.probes({ livenessProbe: { exec, periodSeconds: 1, failureThreshold: 3 } });
    t.answers.liveness = { result: 'failure', output: '' };
    t.manager.update(p, [running('c1')], '10.0.0.5');
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.manager.failed('u1', 'app', 'c1')).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.manager.failed('u1', 'app', 'c1')).toBe('liveness');
    await jest.advanceTimersByTimeAsync(5000);
    expect(t.runs.filter((r) => r === 'liveness c1')).toHaveLength(3);
    t.answers.liveness = { result: 'success', output: '' };
    t.manager.update(p, [running('c2')], '10.0.0.5');
    expect(t.manager.failed('u1', 'app', 'c2')).toBeUndefined();
    await jest.advanceTimersByTimeAsync(0);
    expect(t.runs.at(-1)).toBe('liveness c2');
    t.manager.stopAll();
  });

  it('waits initialDelaySeconds after the container started', async () => {
    const t = setup();
    const p = t.probes({ readinessProbe: { exec, initialDelaySeconds: 3, periodSeconds: 1 } });
    t.manager.update(p, [running('c1', new Date(Date.now() - 1000))], '10.0.0.5');
    await jest.advanceTimersByTimeAsync(1900);
    expect(t.runs).toEqual([]);
    await jest.advanceTimersByTimeAsync(100);
    expect(t.runs).toEqual(['readiness c1']);
    t.manager.stopAll();
  });

  it('holds readiness and liveness until the startup probe passes, then probes them at once', async () => {
    const t = setup();
    const p = t.probes({
      startupProbe: { exec, periodSeconds: 5, failureThreshold: 10 },
      readinessProbe: { exec, periodSeconds: 10 },
      livenessProbe: { exec, periodSeconds: 10 },
    });
    t.answers.startup = { result: 'failure', output: 'starting' };
    t.manager.update(p, [running('c1')], '10.0.0.5');
    await jest.advanceTimersByTimeAsync(6000);
    expect(t.runs).toEqual(['startup c1', 'startup c1']);
    expect(t.manager.started('u1', 'app', 'c1')).toBe(false);
    expect(t.manager.ready('u1', 'app', 'c1')).toBe(false);
    t.answers.startup = { result: 'success', output: '' };
    await jest.advanceTimersByTimeAsync(4001);
    expect(t.manager.started('u1', 'app', 'c1')).toBe(true);
    // Readiness looked at 0 and 10 s (not started yet: no probe); then the startup probe passed and both ran at once.
    expect(t.runs.slice(2).sort()).toEqual(['liveness c1', 'readiness c1', 'startup c1']);
    expect(t.manager.ready('u1', 'app', 'c1')).toBe(true);
    t.manager.stopAll();
  });

  it('a startup probe that fails failureThreshold times asks for the kill', async () => {
    const t = setup();
    const p = t.probes({ startupProbe: { exec, periodSeconds: 1, failureThreshold: 2 } });
    t.answers.startup = { result: 'failure', output: '' };
    t.manager.update(p, [running('c1')], '10.0.0.5');
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.manager.failed('u1', 'app', 'c1')).toBe('startup');
    t.manager.stopAll();
  });

  it('a new attempt is not ready until probed; an errored probe changes nothing; a terminating pod keeps only readiness', async () => {
    const t = setup();
    const p = t.probes({ readinessProbe: { exec, periodSeconds: 1 }, livenessProbe: { exec, periodSeconds: 1 } });
    t.manager.update(p, [running('c1')], '10.0.0.5');
    await jest.advanceTimersByTimeAsync(0);
    expect(t.manager.ready('u1', 'app', 'c1')).toBe(true);
    t.manager.update(p, [running('c2')], '10.0.0.5');
    expect(t.manager.ready('u1', 'app', 'c2')).toBe(false);
    t.answers.readiness = { result: 'error', output: 'exec refused' };
    await jest.advanceTimersByTimeAsync(3000);
    expect(t.manager.ready('u1', 'app', 'c2')).toBe(false);
    expect(t.unhealthy).toContain('app readiness error: exec refused');
    t.answers.readiness = { result: 'success', output: '' };
    const whileTerminating: string[] = [];
    t.manager.terminating('u1', () => whileTerminating.push('u1'));
    const before = t.runs.length;
    const changesBefore = t.changes.length;
    await jest.advanceTimersByTimeAsync(2000);
    expect(t.runs.slice(before)).toEqual(['readiness c2', 'readiness c2']);
    // The pod's sync is busy stopping it: the readiness change goes to the terminating pod's own hook.
    expect(t.manager.ready('u1', 'app', 'c2')).toBe(true);
    expect(whileTerminating).toEqual(['u1']);
    expect(t.changes.length).toBe(changesBefore);
    t.manager.remove('u1');
    await jest.advanceTimersByTimeAsync(5000);
    expect(t.runs.length).toBe(before + 2);
  });

  it('an agent restarted under a running pod keeps what its status said of the same attempt, so a ready pod does not flap', async () => {
    const t = setup();
    const p = t.probes({ readinessProbe: { exec, periodSeconds: 1, initialDelaySeconds: 30 } });
    const reported = (id: string) => ({ name: 'app', ready: true, started: true, restartCount: 0, image: 'i', imageID: '', containerID: `docker://${id}` });
    t.manager.update({ ...p, status: { containerStatuses: [reported('c1')] } }, [running('c1')], '10.0.0.5');
    expect(t.manager.ready('u1', 'app', 'c1')).toBe(true);
    // Another attempt than the one the status describes starts from scratch.
    const fresh = setup();
    const q = fresh.probes({ readinessProbe: { exec, periodSeconds: 1, initialDelaySeconds: 30 } });
    fresh.manager.update({ ...q, status: { containerStatuses: [reported('c0')] } }, [running('c1')], '10.0.0.5');
    expect(fresh.manager.ready('u1', 'app', 'c1')).toBe(false);
    t.manager.stopAll();
    fresh.manager.stopAll();
  });
});
