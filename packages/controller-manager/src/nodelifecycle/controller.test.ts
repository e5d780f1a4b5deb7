import type { Lease, Node, Pod, Taint } from '@peapod/api';
import { FakeCache } from '../testing/fake-cache';
import { makeNode, makePod } from '../testing/fixtures';
import { unreachableTaintKey } from '@peapod/api';
import { NodeLifecycleController, evictionDelayMs, laterTime } from './controller';
import type { NodeLifecycleClient } from './controller';
import { PacedQueue } from './zones';
import type { EvictionPacing } from './zones';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Applies the controller's writes to the caches, as the watch would. */
class FakeLifecycleClient implements NodeLifecycleClient {
  forceDeleted: string[] = [];
  constructor(
    private readonly nodes: FakeCache<Node>,
    private readonly pods: FakeCache<Pod>,
  ) {}
  async updateNodeStatus(node: Node): Promise<Node> {
    return this.nodes.set(node);
  }
  async setNodeTaints(name: string, _rv: string, taints: Taint[]): Promise<Node> {
    const node = this.nodes.get(name)!;
    return this.nodes.set({ ...node, spec: { ...node.spec, taints } });
  }
  async updatePodStatus(pod: Pod): Promise<Pod> {
    return this.pods.set(pod);
  }
  async forceDeletePod(namespace: string, name: string): Promise<void> {
    this.forceDeleted.push(name);
    this.pods.remove(`${namespace}/${name}`);
  }
}

const t0 = Date.parse('2024-01-01T00:00:00Z');

function setup(pacing?: EvictionPacing) {
  let now = t0;
  const nodes = new FakeCache<Node>();
  const pods = new FakeCache<Pod>();
  const leases = new FakeCache<Lease>();
  const api = new FakeLifecycleClient(nodes, pods);
  const controller = new NodeLifecycleController(nodes, pods, leases, api, {
    monitorPeriodMs: 1000,
    gracePeriodMs: 40_000,
    podEvictionTimeoutMs: 300_000,
    pacing,
    now: () => now,
    logger: quiet,
  });
  return { nodes, pods, leases, api, controller, advance: (ms: number) => (now += ms) };
}

test('a silent node goes Unknown and tainted, its pods not ready, then evicted; it recovers when Ready again', async () => {
  const { nodes, pods, api, controller, advance } = setup();
  nodes.set(makeNode('n1', '2024-01-01T00:00:00Z'));
  nodes.set(makeNode('n2', '2024-01-01T00:00:00Z'));
  pods.set(makePod('a', { nodeName: 'n1', ready: true }));
  const tolerant = makePod('tolerant', { nodeName: 'n1', ready: true });
  tolerant.spec.tolerations = [{ key: unreachableTaintKey, operator: 'Exists', effect: 'NoExecute' }];
  pods.set(tolerant);
  pods.set(makePod('elsewhere', { nodeName: 'n2', ready: true }));
  await controller.monitor();

  advance(30_000);
  nodes.set(makeNode('n2', '2024-01-01T00:00:30Z'));
  await controller.monitor();
  expect(nodes.get('n1')!.status!.conditions![0].status).toBe('True');

  advance(11_000);
  await controller.monitor();
  const n1 = nodes.get('n1')!;
  expect(n1.status!.conditions![0]).toMatchObject({
    type: 'Ready',
    status: 'Unknown',
    reason: 'NodeStatusUnknown',
    message: 'Kubelet stopped posting node status.',
    lastHeartbeatTime: '2024-01-01T00:00:00Z',
    lastTransitionTime: '2024-01-01T00:00:41Z',
  });
  expect(n1.spec!.taints).toEqual([{ key: unreachableTaintKey, effect: 'NoExecute', timeAdded: '2024-01-01T00:00:41Z' }]);
  expect(pods.get('default/a')!.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('False');
  expect(pods.get('default/elsewhere')!.status!.conditions![0].status).toBe('True');
  expect(nodes.get('n2')!.status!.conditions![0].status).toBe('True');

  // n2 keeps posting its status: only n1 is down, so its zone is healthy and n1 was tainted at once.
  advance(299_000);
  nodes.set(makeNode('n2', '2024-01-01T00:05:40Z'));
  await controller.monitor();
  expect(api.forceDeleted).toEqual([]);
  advance(1000);
  await controller.monitor();
  expect(api.forceDeleted).toEqual(['a']);

  nodes.set({ ...makeNode('n1', '2024-01-01T00:06:00Z'), spec: nodes.get('n1')!.spec });
  await controller.monitor();
  expect(nodes.get('n1')!.spec!.taints).toEqual([]);
  expect(api.forceDeleted).toEqual(['a']);
});

function lease(node: string, renewTime: string): Lease {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: node, namespace: 'kube-node-lease' }, spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime } };
}

test('a renewed lease is a heartbeat: a node that posts no status but renews its lease stays Ready; when renewals stop it goes Unknown', async () => {
  const { nodes, leases, controller, advance } = setup();
  nodes.set(makeNode('n1', '2024-01-01T00:00:00Z'));
  nodes.set(makeNode('n2', '2024-01-01T00:00:00Z'));
  const renew = (node: string, s: number) => leases.set(lease(node, `2024-01-01T00:0${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}.123456Z`));
  renew('n1', 0);
  await controller.monitor();
  // Two minutes with no status post, the lease renewed every 10 s.
  for (let s = 10; s <= 120; s += 10) {
    advance(10_000);
    renew('n1', s);
    renew('n2', s);
    await controller.monitor();
    expect(nodes.get('n1')!.status!.conditions![0].status).toBe('True');
  }
  advance(40_000);
  renew('n2', 160);
  await controller.monitor();
  expect(nodes.get('n1')!.status!.conditions![0].status).toBe('True');
  advance(1000);
  renew('n2', 161);
  await controller.monitor();
  expect(nodes.get('n1')!.status!.conditions![0]).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', lastHeartbeatTime: '2024-01-01T00:00:00Z' });
  expect(nodes.get('n1')!.spec!.taints).toEqual([{ key: unreachableTaintKey, effect: 'NoExecute', timeAdded: '2024-01-01T00:02:41Z' }]);
});

/** `total` nodes n0..n(total-1) in `zone`, all heartbeating at t0. */
function addNodes(nodes: FakeCache<Node>, total: number, zone?: string, prefix = 'n'): string[] {
  const names = Array.from({ length: total }, (_, i) => `${prefix}${i}`);
  for (const name of names) {
    const node = makeNode(name, '2024-01-01T00:00:00Z');
    if (zone) node.metadata.labels = { 'topology.kubernetes.io/zone': zone };
    nodes.set(node);
  }
  return names;
}

/** Every node not in `silent` posts its status at the controller's current time. */
function heartbeat(nodes: FakeCache<Node>, silent: Set<string>, atSeconds: number) {
  const at = new Date(t0 + atSeconds * 1000).toISOString().replace('.000Z', 'Z');
  for (const node of nodes.list()) {
    if (silent.has(node.metadata.name!)) continue;
    nodes.set({ ...makeNode(node.metadata.name!, at), metadata: node.metadata, spec: node.spec });
  }
}

const tainted = (nodes: FakeCache<Node>) => nodes.list().filter((n) => n.spec?.taints?.some((t) => t.key === unreachableTaintKey)).map((n) => n.metadata.name).sort();

test('unreachable nodes of a healthy zone are tainted one every 1/--node-eviction-rate seconds, in the order they went down', async () => {
  const { nodes, pods, controller, advance } = setup({ evictionRate: 0.1, secondaryEvictionRate: 0.01, largeClusterSizeThreshold: 50, unhealthyZoneThreshold: 0.55 });
  addNodes(nodes, 20);
  for (let i = 0; i < 3; i++) pods.set(makePod(`p${i}`, { nodeName: `n${i}`, ready: true }));
  const silent = new Set(['n0', 'n1', 'n2']);
  await controller.monitor();
  advance(41_000);
  heartbeat(nodes, silent, 41);
  await controller.monitor();
  expect(nodes.list().filter((n) => n.status!.conditions![0].status === 'Unknown')).toHaveLength(3);
  // Every unreachable node's pods are marked not ready at once; the taint is paced.
  for (let i = 0; i < 3; i++) expect(pods.get(`default/p${i}`)!.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('False');
  expect(tainted(nodes)).toEqual(['n0']);
  advance(9_900);
  await controller.taintingPass();
  expect(tainted(nodes)).toEqual(['n0']);
  advance(100);
  await controller.taintingPass();
  expect(tainted(nodes)).toEqual(['n0', 'n1']);
  advance(10_000);
  await controller.taintingPass();
  expect(tainted(nodes)).toEqual(['n0', 'n1', 'n2']);
});

test('a zone mostly down is slowed to the secondary rate when large and stopped when small; other zones keep their pace', async () => {
  const { nodes, controller, advance } = setup({ evictionRate: 1, secondaryEvictionRate: 0.1, largeClusterSizeThreshold: 10, unhealthyZoneThreshold: 0.55 });
  const small = addNodes(nodes, 10, 'small', 's');
  const large = addNodes(nodes, 20, 'large', 'l');
  const healthy = addNodes(nodes, 5, 'healthy', 'h');
  // 6 of 10 (60%) and 12 of 20 down: both partly down; one of 5 down in the third zone.
  const silent = new Set([...small.slice(0, 6), ...large.slice(0, 12), healthy[0]]);
  await controller.monitor();
  advance(41_000);
  heartbeat(nodes, silent, 41);
  await controller.monitor();
  for (let s = 0; s < 20; s++) {
    advance(1000);
    await controller.taintingPass();
  }
  const taints = tainted(nodes);
  expect(taints.filter((n) => n.startsWith('s'))).toEqual([]);
  expect(taints.filter((n) => n.startsWith('h'))).toEqual(['h0']);
  // The large zone: one at once, then one every 10 s.
  expect(taints.filter((n) => n.startsWith('l'))).toEqual(['l0', 'l1', 'l2']);
});

test('when every node is unreachable nothing is evicted and the taints come off; once one is back, eviction starts over', async () => {
  const { nodes, pods, api, controller, advance } = setup({ evictionRate: 1, secondaryEvictionRate: 0.01, largeClusterSizeThreshold: 50, unhealthyZoneThreshold: 0.55 });
  addNodes(nodes, 2);
  pods.set(makePod('a', { nodeName: 'n0', ready: true }));
  await controller.monitor();
  advance(41_000);
  heartbeat(nodes, new Set(['n0']), 41);
  await controller.monitor();
  expect(tainted(nodes)).toEqual(['n0']);
  // n1 goes silent too: the whole cluster is down.
  advance(41_000);
  await controller.monitor();
  expect(nodes.list().every((n) => n.status!.conditions![0].status === 'Unknown')).toBe(true);
  expect(tainted(nodes)).toEqual([]);
  advance(600_000);
  await controller.monitor();
  expect(tainted(nodes)).toEqual([]);
  expect(api.forceDeleted).toEqual([]);
  // n1 is back: n0 is tainted again, and its pods' time runs from the new taint.
  heartbeat(nodes, new Set(['n0']), 682);
  await controller.monitor();
  await controller.monitor();
  expect(nodes.get('n0')!.spec!.taints).toEqual([{ key: unreachableTaintKey, effect: 'NoExecute', timeAdded: '2024-01-01T00:11:22Z' }]);
  advance(299_000);
  heartbeat(nodes, new Set(['n0']), 981);
  await controller.monitor();
  expect(api.forceDeleted).toEqual([]);
  advance(1000);
  heartbeat(nodes, new Set(['n0']), 982);
  await controller.monitor();
  expect(api.forceDeleted).toEqual(['a']);
});

test('the heartbeat is the later of the lease renewal and the status post', () => {
  expect(laterTime('2024-01-01T00:00:10Z', '2024-01-01T00:00:09.999999Z')).toBe('2024-01-01T00:00:10Z');
  expect(laterTime('2024-01-01T00:00:10Z', '2024-01-01T00:00:10.000001Z')).toBe('2024-01-01T00:00:10.000001Z');
  expect(laterTime(undefined, '2024-01-01T00:00:10.5Z')).toBe('2024-01-01T00:00:10.5Z');
  expect(laterTime('2024-01-01T00:00:10Z', undefined)).toBe('2024-01-01T00:00:10Z');
});

test('eviction delay follows tolerations of the unreachable taint', () => {
  const pod = makePod('p');
  expect(evictionDelayMs(pod, 5000)).toBe(5000);
  pod.spec.tolerations = [{ key: unreachableTaintKey, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }];
  expect(evictionDelayMs(pod, 5000)).toBe(2000);
  pod.spec.tolerations = [{ key: unreachableTaintKey, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }];
  expect(evictionDelayMs(pod, 5000)).toBe(5000);
  pod.spec.tolerations = [{ operator: 'Exists' }];
  expect(evictionDelayMs(pod, 5000)).toBe(Infinity);
  pod.spec.tolerations = [{ key: 'other', operator: 'Exists' }];
  expect(evictionDelayMs(pod, 5000)).toBe(5000);
});

test('run() checks every monitor period until stopped', async () => {
  const { nodes, controller } = setup();
  nodes.set(makeNode('n1', '2024-01-01T00:00:00Z'));
  const spy = jest.spyOn(controller, 'monitor');
  const running = controller.run();
  await new Promise((r) => setTimeout(r, 20));
  controller.stop();
  await running;
  expect(spy).toHaveBeenCalledTimes(1);
});

test('the paced queue gives no turn to a name that is not ready for it, and keeps its place', () => {
  const queue = new PacedQueue(0.1, t0);
  queue.add('late');
  queue.add('next');
  expect(queue.take(t0, (name) => name !== 'late')).toEqual(['next']);
  expect(queue.take(t0 + 5_000)).toEqual([]);
  expect(queue.take(t0 + 10_000)).toEqual(['late']);
  queue.setRate(0, t0 + 10_000);
  queue.add('stopped');
  expect(queue.take(t0 + 100_000)).toEqual([]);
});

test("unreachable nodes' pods are marked not ready one at a time, across the nodes too, as Kubernetes' rate-limited client sends them", async () => {
  const { nodes, pods, api, controller, advance } = setup();
  for (const n of ['n1', 'n2', 'n3']) {
    nodes.set(makeNode(n, '2024-01-01T00:00:00Z'));
    for (let i = 0; i < 10; i++) pods.set(makePod(`${n}-p${i}`, { nodeName: n, ready: true }));
  }
  nodes.set(makeNode('alive', '2024-01-01T00:00:00Z'));
  let inFlight = 0;
  let most = 0;
  const update = api.updatePodStatus.bind(api);
  api.updatePodStatus = async (pod) => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    return update(pod);
  };
  await controller.monitor();
  advance(41_000);
  nodes.set(makeNode('alive', '2024-01-01T00:00:41Z'));
  await controller.monitor();
  const notReady = pods.list().filter((p) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False');
  expect(notReady).toHaveLength(30);
  expect(most).toBe(1);
});

test('a pod that went or was marked since its node was looked at is not written again; a failed write is retried next pass', async () => {
  const { nodes, pods, api, controller, advance } = setup();
  nodes.set(makeNode('n1', '2024-01-01T00:00:00Z'));
  nodes.set(makeNode('alive', '2024-01-01T00:00:00Z'));
  for (const name of ['a', 'b', 'c']) pods.set(makePod(name, { nodeName: 'n1', ready: true }));
  await controller.monitor();
  advance(41_000);
  nodes.set(makeNode('alive', '2024-01-01T00:00:41Z'));
  const written: string[] = [];
  const update = api.updatePodStatus.bind(api);
  let failing = true;
  api.updatePodStatus = async (pod) => {
    written.push(pod.metadata.name ?? '');
    // While a's write is on its way, b goes; c's write fails once.
    if (pod.metadata.name === 'a') pods.remove('default/b');
    if (pod.metadata.name === 'c' && failing) {
      failing = false;
      throw new Error('the server is busy');
    }
    return update(pod);
  };
  await controller.monitor();
  expect(written).toEqual(['a', 'c']);
  await controller.monitor();
  expect(written).toEqual(['a', 'c', 'c']);
  expect(pods.list().map((p) => [p.metadata.name, p.status?.conditions?.find((c) => c.type === 'Ready')?.status])).toEqual([
    ['a', 'False'],
    ['c', 'False'],
  ]);
});

test('unreachable nodes are looked at eight at a time, and marked Unknown before any of their pods are marked not ready', async () => {
  const { nodes, pods, api, controller, advance } = setup();
  for (let n = 0; n < 20; n++) {
    nodes.set(makeNode(`n${n}`, '2024-01-01T00:00:00Z'));
    for (let i = 0; i < 3; i++) pods.set(makePod(`n${n}-p${i}`, { nodeName: `n${n}`, ready: true }));
  }
  nodes.set(makeNode('alive', '2024-01-01T00:00:00Z'));
  await controller.monitor();
  advance(41_000);
  nodes.set(makeNode('alive', '2024-01-01T00:00:41Z'));

  // Node and pod status writes wait until released, as on an API server that is slow to answer.
  const heldNodes: (() => void)[] = [];
  const heldPods: (() => void)[] = [];
  const updateNode = api.updateNodeStatus.bind(api);
  api.updateNodeStatus = async (node) => {
    await new Promise<void>((release) => heldNodes.push(release));
    return updateNode(node);
  };
  const update = api.updatePodStatus.bind(api);
  api.updatePodStatus = async (pod) => {
    await new Promise<void>((release) => heldPods.push(release));
    return update(pod);
  };
  const unknown = () => nodes.list().filter((n) => n.status?.conditions?.[0].status === 'Unknown').length;
  const pass = controller.monitor();
  await new Promise((r) => setImmediate(r));
  expect(heldNodes).toHaveLength(8);
  while (unknown() < 20) {
    heldNodes.splice(0).forEach((release) => release());
    await new Promise((r) => setImmediate(r));
  }
  expect(heldPods).toHaveLength(1);
  while (heldPods.length > 0) {
    heldPods.splice(0).forEach((release) => release());
    await new Promise((r) => setImmediate(r));
  }
  await pass;
  const notReady = pods.list().filter((p) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False');
  expect(notReady).toHaveLength(60);
});
