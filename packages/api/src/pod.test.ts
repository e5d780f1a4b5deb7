import {
  defaultImagePullPolicy,
  formatAge,
  formatDuration,
  getPodCondition,
  isPodAvailable,
  isPodReady,
  isPodServing,
  isPodTerminal,
  nodeDisplayStatus,
  podGracePeriodSeconds,
  podDisplayStatus,
  podLastRestart,
  podReadyCount,
  podRequests,
  podRestarts,
  setPodCondition,
} from './pod';
import type { ContainerState, ContainerStatus, Pod, PodStatus } from './types';

function cs(name: string, state: ContainerState, ready = false, restartCount = 0): ContainerStatus {
  return { name, state, ready, restartCount, image: 'img', imageID: '' };
}

function pod(status: PodStatus, containers = ['a'], extra: Partial<Pod> = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'default' },
    spec: { containers: containers.map((name) => ({ name, image: 'img' })) },
    status,
    ...extra,
  };
}

const running: ContainerState = { running: { startedAt: '2024-01-01T00:00:00Z' } };

describe('podDisplayStatus and friends', () => {
  it('shows the phase when nothing more specific is known', () => {
    expect(podDisplayStatus(pod({ phase: 'Pending' }))).toBe('Pending');
    expect(podReadyCount(pod({ phase: 'Pending' }, ['a', 'b']))).toBe('0/2');
    expect(podDisplayStatus(pod({}))).toBe('Unknown');
  });

  it('shows Running with ready counts and restarts', () => {
    const p = pod({ phase: 'Running', containerStatuses: [cs('a', running, true, 2), cs('b', running, false, 1)] }, ['a', 'b']);
    expect(podDisplayStatus(p)).toBe('Running');
    expect(podReadyCount(p)).toBe('1/2');
    expect(podRestarts(p)).toBe(3);
  });

  it('shows a waiting reason', () => {
    expect(podDisplayStatus(pod({ phase: 'Pending', containerStatuses: [cs('a', { waiting: { reason: 'ContainerCreating' } })] }))).toBe(
      'ContainerCreating',
    );
    const crashing = pod({
      phase: 'Running',
      containerStatuses: [cs('a', { waiting: { reason: 'CrashLoopBackOff' } }, false, 5), cs('b', running, true)],
    }, ['a', 'b']);
    expect(podDisplayStatus(crashing)).toBe('CrashLoopBackOff');
    expect(podRestarts(crashing)).toBe(5);
  });

  it('shows the first container with a problem', () => {
    const p = pod(
      {
        phase: 'Pending',
        containerStatuses: [cs('a', { waiting: { reason: 'ErrImagePull' } }), cs('b', { waiting: { reason: 'ContainerCreating' } })],
      },
      ['a', 'b'],
    );
    expect(podDisplayStatus(p)).toBe('ErrImagePull');
  });

  it('shows terminated reasons, signals and exit codes', () => {
    expect(podDisplayStatus(pod({ phase: 'Succeeded', containerStatuses: [cs('a', { terminated: { exitCode: 0, reason: 'Completed' } })] }))).toBe(
      'Completed',
    );
    expect(podDisplayStatus(pod({ phase: 'Failed', containerStatuses: [cs('a', { terminated: { exitCode: 137, signal: 9 } })] }))).toBe(
      'Signal:9',
    );
    expect(podDisplayStatus(pod({ phase: 'Failed', containerStatuses: [cs('a', { terminated: { exitCode: 3 } })] }))).toBe('ExitCode:3');
  });

  it('does not call a pod Completed while another container runs', () => {
    const base: PodStatus = {
      phase: 'Running',
      containerStatuses: [cs('a', { terminated: { exitCode: 0, reason: 'Completed' } }), cs('b', running, true)],
    };
    expect(podDisplayStatus(pod({ ...base, conditions: [{ type: 'Ready', status: 'False' }] }, ['a', 'b']))).toBe('NotReady');
    expect(podDisplayStatus(pod({ ...base, conditions: [{ type: 'Ready', status: 'True' }] }, ['a', 'b']))).toBe('Running');
  });

  it('shows status.reason', () => {
    expect(podDisplayStatus(pod({ phase: 'Failed', reason: 'Evicted' }))).toBe('Evicted');
  });

  it('shows init container progress', () => {
    const spec = { containers: [{ name: 'a' }], initContainers: [{ name: 'i1' }, { name: 'i2' }] };
    const base = { metadata: { name: 'p' }, spec };
    const st = (init: ContainerStatus[]): Pod => ({ ...base, status: { phase: 'Pending', initContainerStatuses: init } });
    expect(podDisplayStatus(st([cs('i1', { terminated: { exitCode: 0 } }), cs('i2', running)]))).toBe('Init:1/2');
    expect(podDisplayStatus(st([cs('i1', { waiting: { reason: 'PodInitializing' } })]))).toBe('Init:0/2');
    expect(podDisplayStatus(st([cs('i1', { waiting: { reason: 'ErrImagePull' } })]))).toBe('Init:ErrImagePull');
    expect(podDisplayStatus(st([cs('i1', { terminated: { exitCode: 2 } })]))).toBe('Init:ExitCode:2');
    expect(podDisplayStatus(st([cs('i1', { terminated: { exitCode: 1, reason: 'Error' } }, false, 4)]))).toBe('Init:Error');
    expect(podRestarts(st([cs('i1', { waiting: { reason: 'CrashLoopBackOff' } }, false, 4)]))).toBe(4);
    expect(podDisplayStatus(st([cs('i1', { terminated: { exitCode: 0 } }), cs('i2', { terminated: { exitCode: 0 } })]))).toBe('Pending');
  });

  it('shows Terminating once deletionTimestamp is set', () => {
    const p = pod({ phase: 'Running', containerStatuses: [cs('a', running, true)] });
    p.metadata.deletionTimestamp = '2024-01-01T00:00:30Z';
    expect(podDisplayStatus(p)).toBe('Terminating');
    p.status!.reason = 'NodeLost';
    expect(podDisplayStatus(p)).toBe('Unknown');
    // A finished pod being removed shows how it finished, as kubectl does.
    const done = pod({ phase: 'Succeeded', containerStatuses: [cs('a', { terminated: { exitCode: 0, reason: 'Completed' } })] });
    done.metadata.deletionTimestamp = '2024-01-01T00:00:30Z';
    expect(podDisplayStatus(done)).toBe('Completed');
  });

  it('dates the last restart from the containers RESTARTS counts: init containers while initializing', () => {
    const spec = { containers: [{ name: 'a' }], initContainers: [{ name: 'i1' }] };
    const lastState = { terminated: { exitCode: 1, finishedAt: '2024-01-01T00:00:05Z' } };
    const initializing: Pod = { metadata: { name: 'p' }, spec, status: { initContainerStatuses: [{ ...cs('i1', { waiting: { reason: 'CrashLoopBackOff' } }, false, 2), lastState }] } };
    expect(podLastRestart(initializing)).toBe(Date.parse('2024-01-01T00:00:05Z'));
    const initialized: Pod = {
      metadata: { name: 'p' },
      spec,
      status: {
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [{ ...cs('i1', { terminated: { exitCode: 0 } }, true, 2), lastState }],
        containerStatuses: [cs('a', running, true)],
      },
    };
    expect(podLastRestart(initialized)).toBeUndefined();
    expect(podRestarts(initialized)).toBe(0);
  });
});

describe('conditions', () => {
  it('finds a condition', () => {
    const p = pod({ conditions: [{ type: 'Ready', status: 'True' }] });
    expect(getPodCondition(p, 'Ready')?.status).toBe('True');
    expect(getPodCondition(p, 'PodScheduled')).toBeUndefined();
  });

  it('adds, keeps and changes lastTransitionTime, to the second as Kubernetes writes it', () => {
    const status: PodStatus = {};
    const t1 = new Date('2024-01-01T00:00:00.250Z');
    const t2 = new Date('2024-01-01T00:01:00Z');
    expect(setPodCondition(status, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }, t1)).toBe(true);
    expect(status.conditions).toEqual([
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: '2024-01-01T00:00:00Z' },
    ]);
    expect(setPodCondition(status, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }, t2)).toBe(false);
    expect(setPodCondition(status, { type: 'Ready', status: 'False', reason: 'Other' }, t2)).toBe(true);
    expect(status.conditions![0].lastTransitionTime).toBe('2024-01-01T00:00:00Z');
    expect(setPodCondition(status, { type: 'Ready', status: 'True' }, t2)).toBe(true);
    expect(status.conditions).toEqual([{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:01:00Z' }]);
  });
});

describe('isPodTerminal', () => {
  it('is true for Succeeded and Failed only', () => {
    expect(isPodTerminal(pod({ phase: 'Succeeded' }))).toBe(true);
    expect(isPodTerminal(pod({ phase: 'Failed' }))).toBe(true);
    expect(isPodTerminal(pod({ phase: 'Running' }))).toBe(false);
    expect(isPodTerminal(pod({}))).toBe(false);
  });
});

describe('defaultImagePullPolicy', () => {
  it('pulls a floating tag every time and a pinned one when missing, as Kubernetes does', () => {
    expect(defaultImagePullPolicy('busybox')).toBe('Always');
    expect(defaultImagePullPolicy('busybox:latest')).toBe('Always');
    expect(defaultImagePullPolicy('localhost:5000/app')).toBe('Always');
    expect(defaultImagePullPolicy('busybox:1.36')).toBe('IfNotPresent');
    expect(defaultImagePullPolicy('busybox@sha256:abc')).toBe('IfNotPresent');
  });
});

describe('podGracePeriodSeconds', () => {
  it('takes the deletion\'s grace, else the spec\'s, else 30 seconds', () => {
    const p = pod({});
    expect(podGracePeriodSeconds(p)).toBe(30);
    p.spec.terminationGracePeriodSeconds = 5;
    expect(podGracePeriodSeconds(p)).toBe(5);
    p.metadata.deletionGracePeriodSeconds = 1;
    expect(podGracePeriodSeconds(p)).toBe(1);
  });
});

describe('isPodReady and isPodAvailable', () => {
  const readySince = (lastTransitionTime?: string): Pod => pod({ conditions: [{ type: 'Ready', status: 'True', ...(lastTransitionTime ? { lastTransitionTime } : {}) }] });
  const now = Date.parse('2030-01-01T00:00:10Z');

  it('ready is the Ready condition being True', () => {
    expect(isPodReady(readySince('2030-01-01T00:00:00Z'))).toBe(true);
    expect(isPodReady(pod({ conditions: [{ type: 'Ready', status: 'False' }] }))).toBe(false);
    expect(isPodReady(pod({}))).toBe(false);
  });

  it('available is ready for longer than minReadySeconds; without a transition time only with no minimum', () => {
    expect(isPodAvailable(readySince('2030-01-01T00:00:00Z'), 0, now)).toBe(true);
    expect(isPodAvailable(readySince('2030-01-01T00:00:00Z'), 9, now)).toBe(true);
    expect(isPodAvailable(readySince('2030-01-01T00:00:00Z'), 10, now)).toBe(false);
    expect(isPodAvailable(readySince(), 0, now)).toBe(true);
    expect(isPodAvailable(readySince(), 1, now)).toBe(false);
    expect(isPodAvailable(pod({}), 0, now)).toBe(false);
  });
});

describe('podRequests', () => {
  it('sums containers, takes the max with init containers, and defaults requests to limits', () => {
    const p: Pod = {
      metadata: {},
      spec: {
        containers: [
          { name: 'a', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
          { name: 'b', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { memory: '128Mi' } } },
          { name: 'c' },
        ],
        initContainers: [{ name: 'i', resources: { requests: { cpu: '2', memory: '10Mi' } } }],
      },
    };
    expect(podRequests(p)).toEqual({ cpuMillis: 2000, memoryBytes: 192 * 2 ** 20 });
  });

  it('is zero for a pod without resources', () => {
    expect(podRequests(pod({}))).toEqual({ cpuMillis: 0, memoryBytes: 0 });
  });

  it('accepts numeric quantities as YAML produces them', () => {
    const p: Pod = { metadata: {}, spec: { containers: [{ name: 'a', resources: { requests: { cpu: 1 as unknown as string } } }] } };
    expect(podRequests(p).cpuMillis).toBe(1000);
  });

  it('throws on an unparsable quantity, or counts it as nothing when lenient', () => {
    const p: Pod = { metadata: {}, spec: { containers: [{ name: 'a', resources: { requests: { cpu: 'lots', memory: '1Mi' } } }] } };
    expect(() => podRequests(p)).toThrow();
    expect(podRequests(p, { lenient: true })).toEqual({ cpuMillis: 0, memoryBytes: 2 ** 20 });
  });

  it('counts unset defaults only for containers that ask nothing of a resource', () => {
    const unsetDefaults = { cpuMillis: 100, memoryBytes: 200 * 2 ** 20 };
    const p: Pod = {
      metadata: {},
      spec: {
        containers: [
          { name: 'none' },
          { name: 'cpu-only', resources: { requests: { cpu: '250m' } } },
          { name: 'zero', resources: { requests: { cpu: '0', memory: '0' } } },
          { name: 'limit', resources: { limits: { memory: '1Gi' } } },
        ],
      },
    };
    expect(podRequests(p, { unsetDefaults })).toEqual({ cpuMillis: 100 + 250 + 0 + 100, memoryBytes: 2 * 200 * 2 ** 20 + 2 ** 30 });
    expect(podRequests(p)).toEqual({ cpuMillis: 250, memoryBytes: 2 ** 30 });
  });
});

describe('formatAge', () => {
  const now = Date.parse('2024-06-01T00:00:00Z');
  const ago = (s: number) => new Date(now - s * 1000).toISOString();
  it.each<[number, string]>([
    [0, '0s'],
    [5, '5s'],
    [119, '119s'],
    [120, '2m'],
    [200, '3m20s'],
    [600, '10m'],
    [179 * 60, '179m'],
    [3 * 3600, '3h'],
    [3 * 3600 + 25 * 60, '3h25m'],
    [8 * 3600, '8h'],
    [47 * 3600, '47h'],
    [2 * 86400 + 3 * 3600, '2d3h'],
    [7 * 86400, '7d'],
    [45 * 86400, '45d'],
    [729 * 86400, '729d'],
    [3 * 365 * 86400, '3y'],
    [3 * 365 * 86400 + 10 * 86400, '3y10d'],
    [9 * 365 * 86400 + 10 * 86400, '9y'],
  ])('%d seconds ago is %s', (s, want) => {
    expect(formatAge(ago(s), now)).toBe(want);
  });

  it('handles missing, invalid and future times', () => {
    expect(formatAge(undefined, now)).toBe('<unknown>');
    expect(formatAge('garbage', now)).toBe('<unknown>');
    expect(formatAge(ago(-0.5), now)).toBe('0s');
    expect(formatDuration(-5000)).toBe('<invalid>');
  });
});

describe('nodeDisplayStatus', () => {
  it('follows the Ready condition and schedulability', () => {
    expect(nodeDisplayStatus({ metadata: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } })).toBe('Ready');
    expect(nodeDisplayStatus({ metadata: {}, status: { conditions: [{ type: 'Ready', status: 'False' }] } })).toBe('NotReady');
    expect(nodeDisplayStatus({ metadata: {}, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } })).toBe('NotReady');
    expect(nodeDisplayStatus({ metadata: {} })).toBe('Unknown');
    expect(
      nodeDisplayStatus({ metadata: {}, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }),
    ).toBe('Ready,SchedulingDisabled');
  });
});

describe('isPodServing', () => {
  const withConditions = (ready: string, containersReady: string, terminating: boolean) =>
    ({
      metadata: terminating ? { deletionTimestamp: '2030-01-01T00:00:00Z' } : {},
      spec: { containers: [] },
      status: { conditions: [{ type: 'Ready', status: ready }, { type: 'ContainersReady', status: containersReady }] },
    }) as unknown as Pod;

  it('is the pod readiness while the pod lives', () => {
    expect(isPodServing(withConditions('True', 'True', false))).toBe(true);
    expect(isPodServing(withConditions('False', 'True', false))).toBe(false);
  });

  it('follows the containers readiness once the pod terminates (Ready is False by then)', () => {
    expect(isPodServing(withConditions('False', 'True', true))).toBe(true);
    expect(isPodServing(withConditions('False', 'False', true))).toBe(false);
  });
});
