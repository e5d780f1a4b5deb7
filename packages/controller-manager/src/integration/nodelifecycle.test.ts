// Node lifecycle against the real API server and scheduler, with short timeouts set by flags:
// a fake node whose heartbeat stops goes Unknown and tainted, its pods not ready and then
// deleted and replaced on the other node; when it heartbeats again the taint comes off.

import type { Node, Pod } from '@peapod/api';
import { rcManifest, startCluster, waitFor } from '../testing/cluster';
import type { Cluster } from '../testing/cluster';
import { isPodLive } from '../replication/controller';

jest.setTimeout(60_000);

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({
    controllerManagerArgs: ['--node-monitor-period', '200ms', '--node-monitor-grace-period', '2s', '--pod-eviction-timeout', '3s'],
  });
  await cluster.nodes.add('node-a', { heartbeatMs: 300 });
  await cluster.nodes.add('node-b', { heartbeatMs: 300 });
  await cluster.startControllerManager();
});

afterAll(async () => {
  await cluster?.stop();
});

async function live(): Promise<Pod[]> {
  return (await cluster.client.list<Pod>('pods', { namespace: 'default', labelSelector: 'app=spread' })).items.filter(isPodLive);
}

test('a node that stops heartbeating is marked Unknown, tainted, its pods evicted and replaced; it recovers', async () => {
  await cluster.client.create('replicationcontrollers', rcManifest('spread', 6));
  const before = await waitFor('6 pods on both nodes', async () => {
    const pods = await live();
    const onA = pods.filter((p) => p.spec.nodeName === 'node-a');
    return pods.length === 6 && pods.every((p) => p.status?.phase === 'Running') && onA.length > 0 && onA.length < 6 && pods;
  });
  const onA = before.filter((p) => p.spec.nodeName === 'node-a').map((p) => p.metadata.name);

  cluster.nodes.stopHeartbeat('node-a');
  const unknown = await waitFor('node-a Unknown and tainted', async () => {
    const node = await cluster.client.get<Node>('nodes', 'node-a');
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'Unknown' && node.spec?.taints?.length === 1 && node;
  });
  // The grace runs from when the controller saw the heartbeat last change: not before the
  // whole second lastHeartbeatTime gives (heartbeats within one second look alike), so the
  // transition, stamped in whole seconds too, is at least the grace after it.
  const readyUnknown = unknown.status!.conditions!.find((c) => c.type === 'Ready')!;
  expect(Date.parse(readyUnknown.lastTransitionTime!) - Date.parse(readyUnknown.lastHeartbeatTime!)).toBeGreaterThanOrEqual(2000);
  expect(readyUnknown).toMatchObject({
    reason: 'NodeStatusUnknown',
    message: 'Kubelet stopped posting node status.',
  });
  expect(unknown.spec!.taints![0]).toEqual({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: expect.any(String) });
  expect((await cluster.client.get<Node>('nodes', 'node-b')).status!.conditions![0].status).toBe('True');
  await waitFor('the pods on node-a not ready', async () => {
    const pods = (await live()).filter((p) => p.spec.nodeName === 'node-a');
    return pods.length === onA.length && pods.every((p) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False');
  });

  const replaced = await waitFor("node-a pods deleted and replaced on node-b", async () => {
    const pods = await live();
    return pods.length === 6 && pods.every((p) => p.spec.nodeName === 'node-b' && p.status?.phase === 'Running') && pods;
  });
  expect(replaced.some((p) => onA.includes(p.metadata.name))).toBe(false);
  const all = (await cluster.client.list<Pod>('pods', { namespace: 'default', labelSelector: 'app=spread' })).items;
  expect(all.filter((p) => onA.includes(p.metadata.name))).toEqual([]);

  cluster.nodes.resumeHeartbeat('node-a', 300);
  await waitFor('node-a Ready without the taint', async () => {
    const node = await cluster.client.get<Node>('nodes', 'node-a');
    return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && (node.spec?.taints ?? []).length === 0;
  });
});
