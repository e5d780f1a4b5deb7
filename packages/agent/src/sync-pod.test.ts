// The pod sync's three phases (running, terminating by one deadline, terminated), and the
// status it reports kept in the API (put back when another component changed it), against
// the fake runtime and an API in memory: no Docker, no API server, seconds in all.
import { setPodCondition } from '@peapod/api';
import type { Container, Pod, PodCondition } from '@peapod/api';
import { sleep, waitFor } from '@peapod/client/testing';
import { FAKE_EXIT_CODE, FAKE_RUN_SECONDS, FAKE_START_SECONDS, FAKE_TERM_SECONDS } from './runtime';
import { nodePodsHarness, type Harness, type RecordedEvent } from './testing/node-pods-harness';
import { TimelineReason } from './termination-timeline';

jest.setTimeout(30_000);

/** Timers may fire a hair early by the clock's rounding; never a deadline's worth. */
const EARLY_MS = 50;

let h: Harness;

beforeEach(() => {
  h = nodePodsHarness();
});

afterEach(() => {
  h.stop();
});

let serial = 0;

function makePod(annotations: Record<string, string>, spec: Partial<Pod['spec']> = {}, containers: Container[] = [{ name: 'app', image: 'peapod/busybox:latest' }]): Pod {
  serial++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${serial}`, namespace: 'default', uid: `uid-${serial}`, annotations },
    spec: { nodeName: 'n', containers, ...spec },
  };
}

function current(pod: Pod): Pod | undefined {
  return h.api.pods.get(pod.metadata.name ?? '');
}

async function running(pod: Pod): Promise<Pod> {
  return waitFor(`pod ${pod.metadata.name} Running`, () => {
    const now = current(pod);
    return now?.status?.phase === 'Running' && now.status.containerStatuses?.every((c) => c.state?.running) ? now : undefined;
  }, 10_000, 10);
}

async function goneFromApi(pod: Pod): Promise<void> {
  await waitFor(`pod ${pod.metadata.name} gone from the API`, () => current(pod) === undefined, 15_000, 10);
}

async function workerDone(pod: Pod): Promise<void> {
  await waitFor(`worker of ${pod.metadata.name} done`, () => !h.pods.workers.uids().includes(pod.metadata.uid ?? ''), 15_000, 10);
}

function eventsOf(pod: Pod, reason?: string): RecordedEvent[] {
  return h.events.filter((e) => e.pod === pod.metadata.name && (reason === undefined || e.reason === reason));
}

function firstAt(pod: Pod, reason: string): number {
  const event = eventsOf(pod, reason)[0];
  if (!event) throw new Error(`no ${reason} event of ${pod.metadata.name}: ${eventsOf(pod).map((e) => e.reason).join(', ')}`);
  return event.at;
}

const ignoresTerm = { [FAKE_TERM_SECONDS]: 'never' };

describe('terminating: one deadline', () => {
  it('honours the deadline of a graceful deletion: TERM at once, KILL at the deadline, then the pod leaves the API', async () => {
    const pod = h.api.create(makePod(ignoresTerm));
    await running(pod);
    const deleted = Date.now();
    h.api.deleteGracefully(pod.metadata.name ?? '', 2);
    await goneFromApi(pod);
    const term = firstAt(pod, TimelineReason.stopSignal);
    const kill = firstAt(pod, TimelineReason.killSignal);
    expect(term).toBeLessThan(kill);
    expect(kill - deleted).toBeGreaterThanOrEqual(2000 - EARLY_MS);
    const reasons = eventsOf(pod).map((e) => e.reason);
    expect(reasons.slice(reasons.indexOf('Killing'))).toEqual([
      'Killing',
      TimelineReason.stopSignal,
      TimelineReason.killSignal,
      TimelineReason.containerStopped,
      TimelineReason.containersGone,
    ]);
    expect(h.api.deletes).toEqual([expect.objectContaining({ name: pod.metadata.name, gracePeriodSeconds: 0 })]);
  });

  it('runs preStop, then TERM, then KILL at the deadline; a hook outlasting the grace gets TERM and the 2 s extension', async () => {
    const hooked: Container = { name: 'app', image: 'peapod/busybox:latest', lifecycle: { preStop: { sleep: { seconds: 1 } } } };
    const slow: Container = { name: 'slow', image: 'peapod/busybox:latest', lifecycle: { preStop: { sleep: { seconds: 10 } } } };
    const pod = h.api.create(makePod(ignoresTerm, {}, [hooked, slow]));
    await running(pod);
    const deleted = Date.now();
    h.api.deleteGracefully(pod.metadata.name ?? '', 2);
    await goneFromApi(pod);
    const of = (container: string, reason: string): number => {
      const event = eventsOf(pod, reason).find((e) => e.message.includes(` ${container}`));
      if (!event) throw new Error(`no ${reason} of ${container}`);
      return event.at;
    };
    // app: the hook's second, then TERM, and KILL at the deadline.
    expect(of('app', TimelineReason.preStopStarted)).toBeLessThanOrEqual(of('app', TimelineReason.preStopFinished));
    expect(of('app', TimelineReason.preStopFinished) - deleted).toBeGreaterThanOrEqual(1000 - EARLY_MS);
    expect(of('app', TimelineReason.stopSignal)).toBeGreaterThanOrEqual(of('app', TimelineReason.preStopFinished));
    expect(of('app', TimelineReason.killSignal) - deleted).toBeGreaterThanOrEqual(2000 - EARLY_MS);
    // slow: its hook fails at the deadline; TERM then, KILL 2 s later.
    expect(of('slow', TimelineReason.preStopFailed) - deleted).toBeGreaterThanOrEqual(2000 - EARLY_MS);
    expect(of('slow', TimelineReason.killSignal) - of('slow', TimelineReason.stopSignal)).toBeGreaterThanOrEqual(2000 - EARLY_MS);
  });

  it('re-enters with the earlier deadline when a shorter grace arrives: one TERM, one hook, KILL at the new deadline', async () => {
    // The hook outlasts the shortened deadline by far, however slowly the machine reaches it.
    const hooked: Container = { name: 'app', image: 'peapod/busybox:latest', lifecycle: { preStop: { sleep: { seconds: 10 } } } };
    const plain: Container = { name: 'plain', image: 'peapod/busybox:latest' };
    const pod = h.api.create(makePod(ignoresTerm, {}, [hooked, plain]));
    await running(pod);
    h.api.deleteGracefully(pod.metadata.name ?? '', 30);
    await waitFor('TERM to plain', () => eventsOf(pod, TimelineReason.stopSignal).length === 1, 10_000, 10);
    const shortened = Date.now();
    h.api.deleteGracefully(pod.metadata.name ?? '', 1);
    expect(h.pods.workers.deadline(pod.metadata.uid ?? '')).toBeLessThanOrEqual(Date.now() + 1000);
    await goneFromApi(pod);
    const kills = eventsOf(pod, TimelineReason.killSignal);
    expect(kills).toHaveLength(2);
    for (const kill of kills) {
      expect(kill.at - shortened).toBeGreaterThanOrEqual(1000 - EARLY_MS);
      expect(kill.at - shortened).toBeLessThan(20_000);
    }
    // Neither the hook nor the stop signal was begun a second time; the hook's container got no TERM
    // (its hook was still running at the deadline: KILL at once, as before the re-entry).
    expect(eventsOf(pod, TimelineReason.preStopStarted)).toHaveLength(1);
    expect(eventsOf(pod, TimelineReason.stopSignal).map((e) => e.message)).toEqual(['Sent SIGTERM to container plain']);
    expect(eventsOf(pod, 'Killing')).toHaveLength(2);
    expect(eventsOf(pod, TimelineReason.containersGone)).toHaveLength(1);
  });

  it('does not extend the deadline for a longer grace arriving later', async () => {
    const pod = h.api.create(makePod(ignoresTerm));
    await running(pod);
    const deleted = Date.now();
    h.api.deleteGracefully(pod.metadata.name ?? '', 1);
    const marked = current(pod);
    if (!marked) throw new Error('pod gone too early');
    const longer: Pod = { ...marked, metadata: { ...marked.metadata, deletionGracePeriodSeconds: 60, resourceVersion: String(Number(marked.metadata.resourceVersion) + 1) } };
    const deadline = h.pods.workers.deadline(pod.metadata.uid ?? '');
    expect(deadline).toBeGreaterThanOrEqual(deleted + 1000);
    h.pods.updated(marked, longer);
    expect(h.pods.workers.deadline(pod.metadata.uid ?? '')).toBe(deadline);
    await goneFromApi(pod);
    expect(firstAt(pod, TimelineReason.killSignal) - deleted).toBeLessThan(20_000);
  });

  it('a pod deleted while starting is stopped once its start ends, and nothing of it starts again', async () => {
    const pod = h.api.create(makePod({ [FAKE_START_SECONDS]: '0.5' }));
    await waitFor('app created', async () => (await h.runtime.listPodContainers({ uid: pod.metadata.uid })).some((c) => !c.isInfra), 10_000, 10);
    h.api.deleteGracefully(pod.metadata.name ?? '', 30);
    await goneFromApi(pod);
    await workerDone(pod);
    expect(await h.runtime.listPodContainers({ uid: pod.metadata.uid })).toEqual([]);
    expect(eventsOf(pod, 'Started')).toHaveLength(1);
    expect(eventsOf(pod, 'Created')).toHaveLength(1);
  });
});

describe('syncing: restart policy', () => {
  it.each([
    ['Never', '1', 'Failed'],
    ['OnFailure', '0', 'Succeeded'],
  ])('restartPolicy %s, exit %s: the pod ends %s and its container is not started again', async (restartPolicy, code, phase) => {
    const pod = h.api.create(makePod({ [FAKE_RUN_SECONDS]: '0.1', [FAKE_EXIT_CODE]: code }, { restartPolicy: restartPolicy as Pod['spec']['restartPolicy'] }));
    await waitFor(`phase ${phase}`, () => current(pod)?.status?.phase === phase, 10_000, 10);
    await sleep(300);
    expect(eventsOf(pod, 'Started')).toHaveLength(1);
    expect(current(pod)?.status?.containerStatuses?.[0].restartCount).toBe(0);
  });

  it('restartPolicy Always (and OnFailure after a failure): restarted after its back-off, the count going up', async () => {
    for (const restartPolicy of ['Always', 'OnFailure'] as const) {
      const pod = h.api.create(makePod({ [FAKE_RUN_SECONDS]: '0.1', [FAKE_EXIT_CODE]: '2' }, { restartPolicy }));
      await waitFor(`${restartPolicy}: restarted twice`, () => (current(pod)?.status?.containerStatuses?.[0].restartCount ?? 0) >= 2, 10_000, 10);
      expect(current(pod)?.status?.phase).toBe('Running');
    }
  });
});

describe('terminated: cleanup', () => {
  it('removes every container and the sandbox, reports the end, and forgets the pod once the API has', async () => {
    const pod = h.api.create(makePod({}));
    await running(pod);
    h.api.deleteGracefully(pod.metadata.name ?? '', 30);
    await goneFromApi(pod);
    await workerDone(pod);
    expect(await h.runtime.listPodContainers({ uid: pod.metadata.uid })).toEqual([]);
    expect(await h.runtime.findSandbox(pod.metadata.uid ?? '')).toBeUndefined();
    expect(eventsOf(pod).map((e) => e.reason).slice(-1)).toEqual([TimelineReason.containersGone]);
    // Deleted from the API once, though its own status writes brought more syncs meanwhile.
    expect(h.api.deletes).toHaveLength(1);
  });

  it('a pod removed from the API at once (grace 0) still gets 2 s on the node, without its preStop hook', async () => {
    const hooked: Container = { name: 'app', image: 'peapod/busybox:latest', lifecycle: { preStop: { sleep: { seconds: 30 } } } };
    const pod = h.api.create(makePod(ignoresTerm, {}, [hooked]));
    await running(pod);
    const removed = Date.now();
    h.api.deleteGracefully(pod.metadata.name ?? '', 0);
    await workerDone(pod);
    expect(await h.runtime.listPodContainers({ uid: pod.metadata.uid })).toEqual([]);
    expect(eventsOf(pod, TimelineReason.preStopStarted)).toEqual([]);
    expect(firstAt(pod, TimelineReason.killSignal) - removed).toBeGreaterThanOrEqual(2000 - EARLY_MS);
    expect(h.api.deletes).toEqual([]);
  });

  it('removes the containers of a pod the API never had (an orphan), and forgets it', async () => {
    const orphan = makePod({});
    const sandbox = await h.runtime.createSandbox(orphan);
    const id = await h.runtime.createContainer(orphan, orphan.spec.containers[0], sandbox, { restartCount: 0, volumes: {}, env: new Map() });
    await h.runtime.startContainer(id);
    h.pods.containersChanged([orphan.metadata.uid ?? '']);
    await workerDone(orphan);
    expect(await h.runtime.listPodContainers({ uid: orphan.metadata.uid })).toEqual([]);
  });
});

describe('syncing: the reported status is reconciled', () => {
  function readyOf(pod: Pod): PodCondition | undefined {
    return current(pod)?.status?.conditions?.find((c) => c.type === 'Ready');
  }

  async function readyPod(): Promise<Pod> {
    const pod = h.api.create(makePod({}));
    await waitFor(`${pod.metadata.name} Ready`, () => readyOf(pod)?.status === 'True', 10_000, 10);
    await h.pods.workers.idle();
    return current(pod) as Pod;
  }

  /** The pod's status as the node lifecycle controller leaves it for a node it cannot reach. */
  function markedNodeNotReady(pod: Pod): Pod['status'] {
    const status = structuredClone(pod.status ?? {});
    setPodCondition(status, { type: 'Ready', status: 'False', reason: 'NodeNotReady', message: 'Node n is not reachable' });
    return status;
  }

  it('restores Ready at once when the node controller marked the pod NodeNotReady', async () => {
    const pod = await readyPod();
    h.api.writeStatusAsOther(pod.metadata.name ?? '', markedNodeNotReady(pod));
    await waitFor('Ready restored', () => readyOf(pod)?.status === 'True', 10_000, 10);
    expect(readyOf(pod)?.reason).toBeUndefined();
  });

  it('restores it on the next reconcile when the update brought no sync', async () => {
    const pod = await readyPod();
    h.api.writeStatusAsOther(pod.metadata.name ?? '', markedNodeNotReady(pod), false);
    await sleep(100);
    expect(readyOf(pod)?.reason).toBe('NodeNotReady');
    expect(h.pods.syncer.disagreeing()).toEqual([pod.metadata.uid]);
    h.pods.reconcile();
    await waitFor('Ready restored', () => readyOf(pod)?.status === 'True', 10_000, 10);
    await h.pods.workers.idle();
    expect(h.pods.syncer.disagreeing()).toEqual([]);
  });

  it('writes nothing when the API agrees, nor for what others own (their conditions, transition times)', async () => {
    const pod = await readyPod();
    const name = pod.metadata.name ?? '';
    const before = h.api.statusPatches.length;
    h.pods.reconcile();
    await h.pods.workers.idle();
    const status = structuredClone(pod.status ?? {});
    setPodCondition(status, { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', lastProbeTime: null });
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    if (ready) ready.lastTransitionTime = '2020-01-01T00:00:00Z';
    h.api.writeStatusAsOther(name, status, false);
    expect(h.pods.syncer.disagreeing()).toEqual([]);
    h.api.writeStatusAsOther(name, status);
    await sleep(100);
    await h.pods.workers.idle();
    h.pods.reconcile();
    await h.pods.workers.idle();
    expect(h.api.statusPatches.length).toBe(before);
    expect(current(pod)?.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.status).toBe('True');
  });
});
