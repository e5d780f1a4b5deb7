import type { Lease, Node, Pod, Taint } from '@peapod/api';
import { FakeCache } from '../testing/fake-cache';
import { makeNode, makePod } from '../testing/fixtures';
import { NodeLifecycleController, evictionDelayMs, laterTime, unreachableTaintKey } from './controller';
import type { NodeLifecycleClient } from './controller';

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

function setup() {
  let now = t0;
  const nodes = new FakeCache<Node>();
  const pods = new FakeCache<Pod>();
  const leases = new FakeCache<Lease>();
  const api = new FakeLifecycleClient(nodes, pods);
  const controller = new NodeLifecycleController(nodes, pods, leases, api, {
    monitorPeriodMs: 1000,
    gracePeriodMs: 40_000,
    podEvictionTimeoutMs: 300_000,
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

  advance(299_000);
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
  leases.set(lease('n1', '2024-01-01T00:00:00.000000Z'));
  await controller.monitor();
  // Two minutes with no status post, the lease renewed every 10 s.
  for (let s = 10; s <= 120; s += 10) {
    advance(10_000);
    leases.set(lease('n1', `2024-01-01T00:0${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}.123456Z`));
    await controller.monitor();
    expect(nodes.get('n1')!.status!.conditions![0].status).toBe('True');
  }
  advance(40_000);
  await controller.monitor();
  expect(nodes.get('n1')!.status!.conditions![0].status).toBe('True');
  advance(1000);
  await controller.monitor();
  expect(nodes.get('n1')!.status!.conditions![0]).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', lastHeartbeatTime: '2024-01-01T00:00:00Z' });
  expect(nodes.get('n1')!.spec!.taints).toEqual([{ key: unreachableTaintKey, effect: 'NoExecute', timeAdded: '2024-01-01T00:02:41Z' }]);
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
