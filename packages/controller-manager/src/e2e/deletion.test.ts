// Deletion propagation end to end: the real kubectl deletes a replication controller with
// three running pods on a real agent (Docker), with each --cascade policy, while watches that
// started before record every change. The global revision the events carry gives their order
// across the pod and controller watches.

import { randomBytes } from 'crypto';
import type { KubeObject, Pod, ReplicationController } from '@peapod/api';
import type { Watch } from '@peapod/client';
import type { RunningProcess } from '@peapod/client/testing';
import { quickStopController, runningReady, startAgent } from '../testing/agents';
import { startCluster, waitFor } from '../testing/cluster';
import type { Cluster } from '../testing/cluster';
import { cleanUp, createNetwork, runningPodsOn } from '../testing/docker';
import { kubectlFor } from '../testing/kubectl';

jest.setTimeout(180_000);

const testId = `cmdel-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const network = `peapod-test-${testId}`;
const node = `n-${testId}`;

let cluster: Cluster;
let agent: RunningProcess;
let kubectl: ReturnType<typeof kubectlFor>;

beforeAll(async () => {
  createNetwork(network, testId);
  cluster = await startCluster({ runPods: false });
  agent = await startAgent(cluster.api.url, node, network);
  await cluster.startControllerManager();
  kubectl = kubectlFor(cluster.api.url);
});

afterAll(async () => {
  kubectl?.cleanup();
  await agent?.kill('SIGKILL');
  await cluster?.stop();
  cleanUp([node], testId);
});

interface Change {
  type: string;
  kind: 'pod' | 'rc';
  name: string;
  rv: number;
  object: KubeObject;
}

async function podsOf(app: string): Promise<Pod[]> {
  return (await cluster.client.list<Pod>('pods', { namespace: 'default', labelSelector: `app=${app}` })).items;
}

/**
 * Creates a controller of three pods, waits until they run, then deletes it with the real
 * kubectl (which waits until the controller is gone) while watching its pods and itself.
 */
async function deleteWith(name: string, cascade: 'foreground' | 'background' | 'orphan') {
  await cluster.client.create('replicationcontrollers', quickStopController(name, 3));
  const running = await waitFor('3 pods running', async () => {
    const list = runningReady(await podsOf(name));
    return list.length === 3 && list;
  }, 120_000);
  const changes: Change[] = [];
  const from = (await cluster.client.list('pods', { namespace: 'default' })).metadata.resourceVersion;
  const record = (kind: 'pod' | 'rc') => (e: { type: string; object: KubeObject }) => {
    if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
    changes.push({ type: e.type, kind, name: e.object.metadata.name ?? '', rv: Number(e.object.metadata.resourceVersion), object: e.object });
  };
  const watches: Watch[] = [
    cluster.client.watch<Pod>('pods', { namespace: 'default', labelSelector: `app=${name}`, resourceVersion: from }, record('pod')),
    cluster.client.watch<ReplicationController>('replicationcontrollers', { namespace: 'default', fieldSelector: `metadata.name=${name}`, resourceVersion: from }, record('rc')),
  ];
  const result = await kubectl.runAsync(['delete', 'rc', name, `--cascade=${cascade}`]);
  expect(result).toEqual({ code: 0, stdout: `replicationcontroller "${name}" deleted\n`, stderr: '' });
  return {
    names: running.map((p) => p.metadata.name!).sort(),
    /** What the watches saw, in the order it happened. */
    changes: () => [...changes].sort((a, b) => a.rv - b.rv),
    stop: () => watches.forEach((w) => w.stop()),
  };
}

function deletedPods(changes: Change[]): string[] {
  return changes.filter((c) => c.kind === 'pod' && c.type === 'DELETED').map((c) => c.name);
}

/** Changes that are part of a deletion (status updates from the agent and the controller may come between). */
function deleting(changes: Change[]): Change[] {
  return changes.filter((c) => c.type === 'DELETED' || c.object.metadata.deletionTimestamp !== undefined);
}

test('--cascade=foreground: the controller waits, marked, while its pods terminate gracefully; it goes last; nothing is created', async () => {
  const run = await deleteWith('fg', 'foreground');
  try {
    // kubectl waited for the controller, which goes only after its pods: they are gone already.
    expect(await podsOf('fg')).toEqual([]);
    await waitFor('the watches caught up', () => run.changes().some((c) => c.kind === 'rc' && c.type === 'DELETED'));
    const changes = run.changes();
    expect(changes.filter((c) => c.type === 'ADDED')).toEqual([]);
    // First the controller is marked, then its pods terminate and go, then it goes.
    const steps = deleting(changes);
    expect(steps[0]).toMatchObject({ kind: 'rc', type: 'MODIFIED' });
    expect(steps[0].object.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(deletedPods(changes).sort()).toEqual(run.names);
    expect(steps.at(-1)).toMatchObject({ kind: 'rc', type: 'DELETED' });
    expect(changes.at(-1)).toMatchObject({ kind: 'rc', type: 'DELETED' });
    // Each pod was marked with its grace period before it went.
    for (const name of run.names) {
      const marked = changes.find((c) => c.name === name && c.type === 'MODIFIED' && c.object.metadata.deletionTimestamp !== undefined);
      expect(marked?.object.metadata.deletionGracePeriodSeconds).toBe(5);
    }
    const left = runningPodsOn(node);
    expect(run.names.filter((n) => left.has(n))).toEqual([]);
  } finally {
    run.stop();
  }
});

test('--cascade=background: the controller goes at once, then the collector deletes its pods; nothing is created', async () => {
  const run = await deleteWith('bg', 'background');
  try {
    await waitFor('the pods gone, their containers too', async () => (await podsOf('bg')).length === 0 && !run.names.some((n) => runningPodsOn(node).has(n)), 60_000);
    await waitFor('the watches caught up', () => deletedPods(run.changes()).length === 3);
    const changes = run.changes();
    expect(changes.filter((c) => c.type === 'ADDED')).toEqual([]);
    // The controller is never marked: it goes first, then its pods are deleted.
    const steps = deleting(changes);
    expect(steps[0]).toMatchObject({ kind: 'rc', type: 'DELETED' });
    expect(steps.slice(1).every((c) => c.kind === 'pod')).toBe(true);
    expect(deletedPods(changes).sort()).toEqual(run.names);
  } finally {
    run.stop();
  }
});

test('--cascade=orphan: the pods lose their owner reference, then the controller goes; the pods keep running; nothing is created', async () => {
  const run = await deleteWith('orph', 'orphan');
  try {
    await waitFor('the watches caught up', () => run.changes().some((c) => c.kind === 'rc' && c.type === 'DELETED'));
    // Time for a collector or a controller that would act on them anyway.
    await new Promise((r) => setTimeout(r, 3000));
    const changes = run.changes();
    expect(changes.filter((c) => c.type === 'ADDED' || (c.kind === 'pod' && c.type === 'DELETED'))).toEqual([]);
    const rcGone = changes.find((c) => c.kind === 'rc' && c.type === 'DELETED')!.rv;
    // Each pod's first change without an owner reference: all of them before the controller went.
    const released = run.names.map((name) => changes.find((c) => c.name === name && c.kind === 'pod' && c.object.metadata.ownerReferences === undefined));
    expect(released.every((c) => c !== undefined && c.rv < rcGone)).toBe(true);
    const marked = changes.find((c) => c.kind === 'rc' && c.object.metadata.deletionTimestamp !== undefined);
    expect(marked?.object.metadata.finalizers).toEqual(['orphan']);
    const left = runningReady(await podsOf('orph'));
    expect(left.map((p) => p.metadata.name).sort()).toEqual(run.names);
    expect(left.every((p) => p.metadata.ownerReferences === undefined)).toBe(true);
    const onNode = runningPodsOn(node);
    expect(run.names.every((n) => onNode.has(n))).toBe(true);
  } finally {
    run.stop();
  }
});
