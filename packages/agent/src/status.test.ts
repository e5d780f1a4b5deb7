import { podDisplayStatus } from '@peapod/api';
import type { Pod } from '@peapod/api';
import type { RuntimeContainer } from './runtime';
import { checkReport, computePodStatus, podPhase, refusedPodStatus, sameStatus, statusMergePatch } from './status';

const now = new Date('2030-01-01T00:00:10Z');

function pod(restartPolicy: 'Always' | 'OnFailure' | 'Never', names = ['a'], status?: Pod['status']): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: { restartPolicy, containers: names.map((name) => ({ name, image: 'img:1' })) },
    ...(status ? { status } : {}),
  };
}

let seq = 0;
function rc(name: string, state: RuntimeContainer['state'], extra: Partial<RuntimeContainer> = {}): RuntimeContainer {
  seq++;
  return {
    id: `id${seq}`,
    podNamespace: 'ns',
    podName: 'p',
    podUid: 'u1',
    node: 'n',
    containerName: name,
    isInfra: false,
    state,
    createdAt: `2030-01-01T00:00:0${seq % 10}Z`,
    restartCount: 0,
    image: 'img:1',
    imageId: 'sha256:abc',
    oomKilled: false,
    ...(state !== 'created' ? { startedAt: '2030-01-01T00:00:01Z' } : {}),
    ...(state === 'exited' ? { exitCode: 0, finishedAt: '2030-01-01T00:00:05Z' } : {}),
    ...extra,
  };
}

const infra = (): RuntimeContainer => ({ ...rc('POD', 'running'), isInfra: true });

describe('computePodStatus', () => {
  it('reports a running pod: phase, ready conditions, IPs, container ids and images', () => {
    const a = rc('a', 'running');
    const s = computePodStatus({ pod: pod('Always'), containers: [infra(), a], hostIP: '10.0.0.1', runtime: 'docker', podIP: '172.18.0.2', now });
    expect(s.phase).toBe('Running');
    expect(s.podIP).toBe('172.18.0.2');
    expect(s.podIPs).toEqual([{ ip: '172.18.0.2' }]);
    expect(s.hostIP).toBe('10.0.0.1');
    expect(s.startTime).toBe('2030-01-01T00:00:10Z');
    expect(s.containerStatuses).toEqual([
      {
        name: 'a',
        state: { running: { startedAt: '2030-01-01T00:00:01Z' } },
        lastState: {},
        ready: true,
        started: true,
        restartCount: 0,
        image: 'img:1',
        imageID: 'docker://sha256:abc',
        containerID: `docker://${a.id}`,
      },
    ]);
    const types = Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c.status]));
    expect(types).toEqual({ PodScheduled: 'True', Initialized: 'True', ContainersReady: 'True', Ready: 'True' });
  });

  it('reports container times in whole seconds, as the API gives times', () => {
    const running = rc('a', 'running', { startedAt: '2030-01-01T00:00:01.734Z' });
    const s = computePodStatus({ pod: pod('Always'), containers: [infra(), running], hostIP: 'h', runtime: 'docker', now });
    expect(s.containerStatuses?.[0].state).toEqual({ running: { startedAt: '2030-01-01T00:00:01Z' } });
    const exited = rc('a', 'exited', { startedAt: '2030-01-01T00:00:01.734Z', finishedAt: '2030-01-01T00:00:05.999Z' });
    const t = computePodStatus({ pod: pod('Never'), containers: [infra(), exited], hostIP: 'h', runtime: 'docker', now });
    expect(t.containerStatuses?.[0].state.terminated).toMatchObject({ startedAt: '2030-01-01T00:00:01Z', finishedAt: '2030-01-01T00:00:05Z' });
  });

  it('is Pending with ContainerCreating while a container has not started', () => {
    const s = computePodStatus({ pod: pod('Always', ['a', 'b']), containers: [rc('a', 'running')], hostIP: 'h', runtime: 'docker', now });
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses?.[1].state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [b]' });
  });

  it('shows a crash-looping container as waiting, with its last exit and restart count', () => {
    const old = rc('a', 'exited', { exitCode: 2, restartCount: 3 });
    const waiting = new Map([['a', { reason: 'CrashLoopBackOff', message: 'back-off 20s' }]]);
    const s = computePodStatus({ pod: pod('Always'), containers: [old], hostIP: 'h', runtime: 'docker', waiting, now });
    expect(s.phase).toBe('Running');
    const cs = s.containerStatuses?.[0];
    expect(cs?.state).toEqual({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } });
    expect(cs?.lastState?.terminated).toMatchObject({ exitCode: 2, reason: 'Error', containerID: `docker://${old.id}` });
    expect(cs?.restartCount).toBe(3);
    expect(cs?.ready).toBe(false);
  });

  it('keeps the attempt before a restart as lastState', () => {
    const first = rc('a', 'exited', { exitCode: 1, restartCount: 0 });
    const second = rc('a', 'running', { restartCount: 1 });
    const s = computePodStatus({ pod: pod('OnFailure'), containers: [first, second], hostIP: 'h', runtime: 'docker', now });
    expect(s.containerStatuses?.[0]).toMatchObject({ restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 1 } } });
  });

  it('ends Never pods Failed and OnFailure pods that exit 0 Succeeded, and keeps that phase', () => {
    const failed = computePodStatus({ pod: pod('Never'), containers: [rc('a', 'exited', { exitCode: 7 })], hostIP: 'h', runtime: 'docker', now });
    expect(failed.phase).toBe('Failed');
    expect(failed.containerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 7, reason: 'Error' });
    expect(failed.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    const ok = computePodStatus({ pod: pod('OnFailure'), containers: [rc('a', 'exited')], hostIP: 'h', runtime: 'docker', now });
    expect(ok.phase).toBe('Succeeded');
    expect(ok.containerStatuses?.[0].state?.terminated?.reason).toBe('Completed');
    // Containers removed afterwards do not bring a finished pod back to Pending.
    const later = computePodStatus({ pod: pod('OnFailure', ['a'], ok), containers: [], hostIP: 'h', runtime: 'docker', now });
    expect(later.phase).toBe('Succeeded');
  });

  it('reports OOMKilled and containers that could not start', () => {
    const oom = computePodStatus({ pod: pod('Never'), containers: [rc('a', 'exited', { exitCode: 137, oomKilled: true })], hostIP: 'h', runtime: 'docker', now });
    expect(oom.containerStatuses?.[0].state?.terminated?.reason).toBe('OOMKilled');
    const cannot = computePodStatus({ pod: pod('Never'), containers: [rc('a', 'created', { error: 'exec: "nope": not found' })], hostIP: 'h', runtime: 'docker', now });
    expect(cannot.containerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 128, reason: 'ContainerCannotRun', message: 'exec: "nope": not found' });
    expect(cannot.phase).toBe('Failed');
  });

  it('keeps transition times of unchanged conditions and the start time', () => {
    const first = computePodStatus({ pod: pod('Always'), containers: [rc('a', 'running')], hostIP: 'h', runtime: 'docker', now });
    const later = new Date(now.getTime() + 60_000);
    const again = computePodStatus({ pod: pod('Always', ['a'], first), containers: [rc('a', 'running', { id: first.containerStatuses?.[0].containerID?.slice(9) })], hostIP: 'h', runtime: 'docker', now: later });
    expect(again.startTime).toBe(first.startTime);
    expect(again.conditions).toEqual(first.conditions);
    expect(sameStatus(first, again)).toBe(true);
  });
});

describe('computePodStatus with probes, init containers and termination', () => {
  const condition = (s: ReturnType<typeof computePodStatus>, type: string) => s.conditions?.find((c) => c.type === type);

  it('a running container is started and ready only as its probes say', () => {
    const a = rc('a', 'running');
    const verdicts = { started: true, ready: false };
    const probes = { started: () => verdicts.started, ready: () => verdicts.ready };
    const unready = computePodStatus({ pod: pod('Always'), containers: [a], hostIP: 'h', probes, now });
    expect(unready.containerStatuses?.[0]).toMatchObject({ started: true, ready: false, state: { running: {} } });
    expect(unready.phase).toBe('Running');
    expect(condition(unready, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [a]' });
    expect(condition(unready, 'ContainersReady')).toMatchObject({ status: 'False' });
    verdicts.ready = true;
    const ready = computePodStatus({ pod: pod('Always'), containers: [a], hostIP: 'h', probes, now });
    expect(condition(ready, 'Ready')?.status).toBe('True');
    const starting = computePodStatus({ pod: pod('Always'), containers: [a], hostIP: 'h', probes: { started: () => false, ready: () => false }, now });
    expect(starting.containerStatuses?.[0]).toMatchObject({ started: false, ready: false });
  });

  it('a terminating pod is not Ready at once, while ContainersReady still follows its containers', () => {
    const terminating = pod('Always');
    terminating.metadata.deletionTimestamp = '2030-01-01T00:01:00Z';
    const s = computePodStatus({ pod: terminating, containers: [rc('a', 'running')], hostIP: 'h', now });
    expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PodTerminating', message: 'the pod is terminating' });
    expect(condition(s, 'ContainersReady')?.status).toBe('True');
    expect(s.containerStatuses?.[0].ready).toBe(true);
  });

  function withInit(restartPolicy: 'Always' | 'Never' = 'Always'): Pod {
    const p = pod(restartPolicy, ['app']);
    p.spec.initContainers = [
      { name: 'i1', image: 'img:1' },
      { name: 'i2', image: 'img:1' },
    ];
    return p;
  }

  it('while init containers run: Pending, Initialized=False naming the unfinished ones, apps PodInitializing', () => {
    const s = computePodStatus({ pod: withInit(), containers: [infra(), rc('i1', 'exited'), rc('i2', 'running')], hostIP: 'h', now });
    expect(s.phase).toBe('Pending');
    expect(s.initContainerStatuses?.map((c) => [c.name, Object.keys(c.state ?? {})[0], c.ready])).toEqual([
      ['i1', 'terminated', true],
      ['i2', 'running', false],
    ]);
    expect(s.initContainerStatuses?.[0].state?.terminated?.reason).toBe('Completed');
    expect(s.containerStatuses?.[0].state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(condition(s, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [i2]' });
    expect(podDisplayStatus({ ...withInit(), status: s })).toBe('Init:1/2');
    const fresh = computePodStatus({ pod: withInit(), containers: [infra()], hostIP: 'h', now });
    expect(fresh.initContainerStatuses?.[0].state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(podDisplayStatus({ ...withInit(), status: fresh })).toBe('Init:0/2');
  });

  it('once every init container exited 0: Initialized=True and the apps run', () => {
    const s = computePodStatus({ pod: withInit(), containers: [rc('i1', 'exited'), rc('i2', 'exited'), rc('app', 'running')], hostIP: 'h', now });
    expect(condition(s, 'Initialized')?.status).toBe('True');
    expect(s.phase).toBe('Running');
    expect(podDisplayStatus({ ...withInit(), status: s })).toBe('Running');
    const creating = computePodStatus({ pod: withInit(), containers: [rc('i1', 'exited'), rc('i2', 'exited')], hostIP: 'h', now });
    expect(podDisplayStatus({ ...withInit(), status: creating })).toBe('PodInitializing');
  });

  it('a failed init container: Init:CrashLoopBackOff while it waits to retry, Init:Error and Failed under Never', () => {
    const failed = rc('i1', 'exited', { exitCode: 1 });
    const waiting = new Map([['i1', { reason: 'CrashLoopBackOff', message: 'back-off 10s' }]]);
    const retrying = computePodStatus({ pod: withInit(), containers: [failed], hostIP: 'h', waiting, now });
    expect(retrying.phase).toBe('Pending');
    expect(podDisplayStatus({ ...withInit(), status: retrying })).toBe('Init:CrashLoopBackOff');
    const never = computePodStatus({ pod: withInit('Never'), containers: [failed], hostIP: 'h', now });
    expect(never.phase).toBe('Failed');
    expect(podDisplayStatus({ ...withInit('Never'), status: never })).toBe('Init:Error');
  });
});

describe('podPhase', () => {
  it('follows the restart policy once every container stopped', () => {
    const stopped = (exitCode: number) => ({ name: 'a', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode } } });
    expect(podPhase(pod('Always'), [stopped(0)])).toBe('Running');
    expect(podPhase(pod('OnFailure'), [stopped(1)])).toBe('Running');
    expect(podPhase(pod('OnFailure'), [stopped(0)])).toBe('Succeeded');
    expect(podPhase(pod('Never'), [stopped(0), { ...stopped(1), name: 'b' }])).toBe('Failed');
    expect(podPhase(pod('Never'), [])).toBe('Pending');
  });
});

describe('refusedPodStatus and status patches', () => {
  it('keeps a refused pod Pending with the reason as message', () => {
    const s = refusedPodStatus(pod('Always'), 'h', 'not allowed', now);
    expect(s).toMatchObject({ phase: 'Pending', message: 'not allowed', hostIP: 'h' });
  });

  it('patches only what changed and nulls what went away', () => {
    const from = { phase: 'Pending' as const, message: 'x', hostIP: 'h', qosClass: 'BestEffort' as const };
    const to = { phase: 'Running' as const, hostIP: 'h', qosClass: 'BestEffort' as const };
    expect(statusMergePatch(from, to)).toEqual({ status: { phase: 'Running', message: null } });
  });
});

describe('checkReport', () => {
  const reported = (): NonNullable<Pod['status']> =>
    computePodStatus({ pod: pod('Always'), containers: [infra(), rc('a', 'running')], hostIP: 'h', runtime: 'fake', podIP: '10.0.0.2', now });

  it("keeps the API's own object once it equals the report, so a node holds one status per pod", () => {
    const ours = reported();
    const api = structuredClone(ours);
    const check = checkReport(api, ours);
    expect(check.agrees).toBe(true);
    expect(check.reported).toBe(api);
  });

  it("keeps its own report where the API's differs, agreeing still when only others' parts differ", () => {
    const ours = reported();
    const others = structuredClone(ours);
    others.conditions = [...(others.conditions ?? []), { type: 'DisruptionTarget', status: 'True' }];
    expect(checkReport(others, ours)).toEqual({ agrees: true, reported: ours });
    expect(checkReport(others, ours).reported).toBe(ours);
    const notReady = structuredClone(ours);
    const ready = notReady.conditions?.find((c) => c.type === 'Ready');
    if (ready) Object.assign(ready, { status: 'False', reason: 'NodeNotReady' });
    expect(checkReport(notReady, ours)).toEqual({ agrees: false, reported: ours });
    expect(checkReport(undefined, ours)).toEqual({ agrees: false, reported: ours });
  });
});
