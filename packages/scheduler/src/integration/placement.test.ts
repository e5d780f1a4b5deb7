// Where pods land, seen through the real API server: spreading, bursts that overflow the
// cluster, pods for another scheduler, and what a successful bind tells the user.

import type { Event, Node, Pod } from '@peapod/api';
import { parseBytes, parseCpuMillis } from '@peapod/api';
import {
  createAll,
  listPods,
  nodeManifest,
  podEvents,
  podManifest,
  podScheduled,
  startCluster,
  waitFor,
  waitForBinding,
  waitForPod,
} from '../testing/cluster';
import type { TestCluster } from '../testing/cluster';

jest.setTimeout(40_000);

let c: TestCluster;

afterEach(async () => {
  await c?.stop();
});

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** For each node, what its bound pods request against what it can give. */
async function usage(nodes: Node[]): Promise<{ node: string; cpu: number; allocatableCpu: number; pods: number }[]> {
  const pods = (await listPods(c.client)).filter((p) => p.spec.nodeName);
  return nodes.map((n) => {
    const mine = pods.filter((p) => p.spec.nodeName === n.metadata.name);
    const cpu = mine.reduce((sum, p) => sum + parseCpuMillis(p.spec.containers[0].resources?.requests?.cpu ?? '0'), 0);
    return { node: n.metadata.name ?? '', cpu, allocatableCpu: parseCpuMillis(n.status?.allocatable?.cpu ?? '0'), pods: mine.length };
  });
}

describe('spreading', () => {
  it('puts 30 identical pods on 3 equal nodes 10 each, give or take one', async () => {
    c = await startCluster();
    const nodes = await createAll(c.client, 'nodes', ['node-a', 'node-b', 'node-c'].map((n) => nodeManifest(n)));
    const names = Array.from({ length: 30 }, (_, i) => `web-${i}`);
    await createAll(c.client, 'pods', names.map((n) => podManifest(n, { cpu: '100m', memory: '128Mi' })));
    await Promise.all(names.map((n) => waitForBinding(c.client, n)));
    for (const u of await usage(nodes)) {
      expect(u.pods).toBeGreaterThanOrEqual(9);
      expect(u.pods).toBeLessThanOrEqual(11);
    }
  });
});

describe('a burst larger than the cluster', () => {
  it('binds exactly as many of 200 pods as there is room for (150), overcommits no node, and marks the rest', async () => {
    c = await startCluster();
    // 5 cpu per node and 100m per pod: room for 50 pods on each.
    const nodes = await createAll(c.client, 'nodes', ['node-a', 'node-b', 'node-c'].map((n) => nodeManifest(n, { cpu: '5', memory: '64Gi' })));
    const pods = Array.from({ length: 200 }, (_, i) => podManifest(`burst-${i}`, { cpu: '100m', memory: '64Mi' }));
    await createAll(c.client, 'pods', pods);

    const message = '0/3 nodes are available: 3 Insufficient cpu.';
    const decided = (p: Pod): boolean => Boolean(p.spec.nodeName) || podScheduled(p)?.reason === 'Unschedulable';
    await waitFor('every pod bound or marked Unschedulable', async () => (await listPods(c.client)).every(decided), 20_000, 200);
    // Let back-off retries come and go: nothing changes.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const list = await listPods(c.client);
    expect(list.filter((p) => p.spec.nodeName).length).toBe(150);
    const waiting = list.filter((p) => !p.spec.nodeName);
    expect(waiting.length).toBe(50);
    for (const p of waiting) {
      expect(podScheduled(p)).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    }
    for (const u of await usage(nodes)) expect(u.cpu).toBeLessThanOrEqual(u.allocatableCpu);
    expect((await usage(nodes)).map((u) => u.pods)).toEqual([50, 50, 50]);

    // Events trail the binds: wait for all of them, then check there is one per pod and no more.
    const events = await waitFor('200 events', async () => {
      const items = (await c.client.list<Event>('events', { namespace: 'default' })).items;
      return items.length >= 200 ? items : undefined;
    });
    expect(events).toHaveLength(200);
    const byReason = countBy(events, (e) => `${e.reason}: ${e.reason === 'Scheduled' ? 'Successfully assigned' : e.message}`);
    expect(Object.fromEntries(byReason)).toEqual({ [`FailedScheduling: ${message}`]: 50, 'Scheduled: Successfully assigned': 150 });
    const failed = events.filter((e) => e.reason === 'FailedScheduling').map((e) => e.involvedObject.name);
    expect(new Set(failed)).toEqual(new Set(waiting.map((p) => p.metadata.name)));
  });
});

describe('schedulerName', () => {
  it('leaves a pod for another scheduler alone; a scheduler of that name binds it', async () => {
    c = await startCluster();
    await createAll(c.client, 'nodes', [nodeManifest('node-a')]);
    await c.client.create('pods', podManifest('theirs', { spec: { schedulerName: 'other-scheduler' } }), { namespace: 'default' });
    await c.client.create('pods', podManifest('ours'), { namespace: 'default' });
    await waitForBinding(c.client, 'ours');
    // The default scheduler saw both pods before binding the second; give it a moment more.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const theirs = await c.client.get<Pod>('pods', 'theirs', { namespace: 'default' });
    expect(theirs.spec.nodeName ?? '').toBe('');
    expect(podScheduled(theirs)).toBeUndefined();
    expect(await podEvents(c.client, 'theirs')).toEqual([]);

    // A second scheduler elects its leader on a lease of its own, as in Kubernetes.
    await c.startScheduler(['--scheduler-name', 'other-scheduler', '--leader-elect-resource-name', 'other-scheduler']);
    expect(await waitForBinding(c.client, 'theirs')).toBe('node-a');
    const events = await waitFor('the Scheduled event of theirs', async () => {
      const found = await podEvents(c.client, 'theirs');
      return found.length > 0 ? found : undefined;
    });
    expect(events.map((e) => [e.reason, e.source?.component])).toEqual([['Scheduled', 'other-scheduler']]);
  });
});

describe('a successful bind', () => {
  it('records a Scheduled event "Successfully assigned NAMESPACE/NAME to NODE"', async () => {
    c = await startCluster();
    await createAll(c.client, 'nodes', [nodeManifest('node-a')]);
    await c.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    const pod = await c.client.create<Pod>('pods', podManifest('web', { namespace: 'team-a' }), { namespace: 'team-a' });
    expect(await waitForBinding(c.client, 'web', { namespace: 'team-a' })).toBe('node-a');
    const bound = await waitForPod(c.client, 'web', 'to be marked scheduled', (p) => podScheduled(p)?.status === 'True', {
      namespace: 'team-a',
    });
    expect(bound.spec.nodeName).toBe('node-a');

    const events = await waitFor('the Scheduled event', async () => {
      const found = await podEvents(c.client, 'web', 'team-a');
      return found.length > 0 ? found : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'Normal',
      reason: 'Scheduled',
      message: 'Successfully assigned team-a/web to node-a',
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'team-a', uid: pod.metadata.uid },
      source: { component: 'default-scheduler' },
    });
  });
});

describe('memory accounting through the API', () => {
  it('reads allocatable and requests in every quantity notation', async () => {
    c = await startCluster();
    await createAll(c.client, 'nodes', [nodeManifest('node-a', { memory: `${parseBytes('1Gi')}` })]);
    await c.client.create('pods', podManifest('half', { memory: '512Mi' }), { namespace: 'default' });
    await c.client.create('pods', podManifest('rest', { memory: '0.5Gi' }), { namespace: 'default' });
    await waitForBinding(c.client, 'half');
    await waitForBinding(c.client, 'rest');
    await c.client.create('pods', podManifest('one-more', { memory: '1k' }), { namespace: 'default' });
    await waitForPod(c.client, 'one-more', 'to be marked Unschedulable', (p) => podScheduled(p)?.reason === 'Unschedulable');
    expect(podScheduled(await c.client.get<Pod>('pods', 'one-more', { namespace: 'default' }))?.message).toBe(
      '0/1 nodes are available: 1 Insufficient memory.',
    );
  });
});
