// End to end with real agents on Docker: the API server, the scheduler, this controller
// manager (short node timeouts set by flags) and two agents on a Docker network of this
// file's own. Every pod event of the test is checked against the replica invariant.

import { randomBytes } from 'crypto';
import type { Node, Pod, ReplicationController } from '@peapod/api';
import type { RunningProcess } from '@peapod/client/testing';
import { quickStopController, runningReady, startAgent as startAgentOn } from '../testing/agents';
import { ReplicaInvariant, startCluster, waitFor } from '../testing/cluster';
import type { Cluster } from '../testing/cluster';
import { cleanUp, containersWith, createNetwork, docker, runningPodsOn } from '../testing/docker';

jest.setTimeout(120_000);

const testId = `cm-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const network = `peapod-test-${testId}`;
const nodeA = `a-${testId}`;
const nodeB = `b-${testId}`;

let cluster: Cluster;
const agents = new Map<string, RunningProcess>();
let invariant: ReplicaInvariant;

function startAgent(node: string): Promise<RunningProcess> {
  return startAgentOn(cluster.api.url, node, network);
}

beforeAll(async () => {
  createNetwork(network, testId);
  cluster = await startCluster({
    runPods: false,
    controllerManagerArgs: ['--node-monitor-period', '500ms', '--node-monitor-grace-period', '5s', '--pod-eviction-timeout', '3s'],
  });
  for (const node of [nodeA, nodeB]) agents.set(node, await startAgent(node));
  await cluster.startControllerManager();
  invariant = new ReplicaInvariant(cluster.client, 'e2e', 3);
  await invariant.started();
});

afterAll(async () => {
  invariant?.stop();
  await Promise.all([...agents.values()].map((a) => a.kill('SIGKILL')));
  await cluster?.stop();
  cleanUp([nodeA, nodeB], testId);
});

async function pods(app: string): Promise<Pod[]> {
  return (await cluster.client.list<Pod>('pods', { namespace: 'default', labelSelector: `app=${app}` })).items;
}

async function scale(name: string, replicas: number): Promise<void> {
  await cluster.client.patch('replicationcontrollers', name, { spec: { replicas } }, 'merge', { namespace: 'default', subresource: 'scale' });
}

async function readyReplicas(name: string): Promise<number | undefined> {
  return (await cluster.client.get<ReplicationController>('replicationcontrollers', name, { namespace: 'default' })).status?.readyReplicas;
}

test('3 replicas over two agents; a deleted pod is replaced; scaling to 5 and to 1 terminates the extra pods gracefully', async () => {
  await cluster.client.create('replicationcontrollers', quickStopController('e2e', 3));
  const first = await waitFor('3 pods Running', async () => {
    const list = runningReady(await pods('e2e'));
    return list.length === 3 && (await readyReplicas('e2e')) === 3 && list;
  }, 60_000);

  const victim = first[0];
  await cluster.client.delete('pods', victim.metadata.name!, { namespace: 'default' });
  await waitFor('the deleted pod replaced, its containers gone', async () => {
    const all = await pods('e2e');
    const gone = !all.some((p) => p.metadata.name === victim.metadata.name);
    return gone && runningReady(all).length === 3 && !runningPodsOn(victim.spec.nodeName!).has(victim.metadata.name!);
  }, 60_000);

  invariant.setDesired(5);
  await scale('e2e', 5);
  await waitFor('5 pods Running', async () => runningReady(await pods('e2e')).length === 5 && (await readyReplicas('e2e')) === 5, 60_000);
  const five = await pods('e2e');
  expect(new Set(five.map((p) => p.spec.nodeName))).toEqual(new Set([nodeA, nodeB]));

  invariant.setDesired(1);
  await scale('e2e', 1);
  const terminating = await waitFor('4 pods terminating', async () => {
    const list = (await pods('e2e')).filter((p) => p.metadata.deletionTimestamp !== undefined);
    return list.length === 4 && list;
  });
  expect(terminating.every((p) => p.metadata.deletionGracePeriodSeconds === 5)).toBe(true);
  await waitFor('1 pod left, the others gone from the API and Docker', async () => {
    const all = await pods('e2e');
    if (all.length !== 1) return false;
    const left = new Set([...runningPodsOn(nodeA), ...runningPodsOn(nodeB)]);
    return terminating.every((p) => !left.has(p.metadata.name!));
  }, 60_000);
  expect(invariant.violations).toEqual([]);
});

test('an agent killed with SIGKILL: its node goes NotReady, its pods are replaced on the other node; restarted, it removes the stale containers', async () => {
  invariant.setDesired(4);
  await scale('e2e', 4);
  const before = await waitFor('4 pods Running on both nodes', async () => {
    const list = runningReady(await pods('e2e'));
    return list.length === 4 && list.some((p) => p.spec.nodeName === nodeA) && list.some((p) => p.spec.nodeName === nodeB) && list;
  }, 60_000).catch(async () => {
    throw new Error(`pods not spread: ${JSON.stringify((await pods('e2e')).map((p) => [p.metadata.name, p.spec.nodeName]))}`);
  });
  const onA = before.filter((p) => p.spec.nodeName === nodeA).map((p) => p.metadata.name!);
  expect([...runningPodsOn(nodeA)].filter((n) => onA.includes(n)).sort()).toEqual([...onA].sort());

  await agents.get(nodeA)!.kill('SIGKILL');
  await waitFor('node A Unknown with the unreachable taint', async () => {
    const node = await cluster.client.get<Node>('nodes', nodeA);
    return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown' && node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable');
  }, 30_000);
  await waitFor('4 pods Running on node B, none left on A', async () => {
    const all = await pods('e2e');
    return runningReady(all).length === 4 && all.every((p) => p.spec.nodeName === nodeB);
  }, 60_000);
  // The dead agent's containers are still there: nobody could stop them.
  expect([...runningPodsOn(nodeA)].some((n) => onA.includes(n))).toBe(true);

  agents.set(nodeA, await startAgent(nodeA));
  await waitFor('node A Ready again, untainted', async () => {
    const node = await cluster.client.get<Node>('nodes', nodeA);
    return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && !(node.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable');
  }, 30_000);
  await waitFor('the stale containers removed', async () => ![...runningPodsOn(nodeA)].some((n) => onA.includes(n)), 60_000);
  expect(invariant.violations).toEqual([]);
});

test('a deleted controller takes its pods with it; with orphan cascade they stay', async () => {
  await cluster.client.create('replicationcontrollers', quickStopController('gc', 2));
  await cluster.client.create('replicationcontrollers', quickStopController('orphaned', 2));
  await waitFor('both Running', async () => runningReady(await pods('gc')).length === 2 && runningReady(await pods('orphaned')).length === 2, 60_000);
  const gcPods = (await pods('gc')).map((p) => p.metadata.name!);

  await cluster.client.delete('replicationcontrollers', 'gc', { namespace: 'default', propagationPolicy: 'Background' });
  await cluster.client.delete('replicationcontrollers', 'orphaned', { namespace: 'default', propagationPolicy: 'Orphan' });
  await waitFor('the pods of the deleted controller gone, containers too', async () => {
    if ((await pods('gc')).length !== 0) return false;
    const left = new Set([...runningPodsOn(nodeA), ...runningPodsOn(nodeB)]);
    return gcPods.every((n) => !left.has(n));
  }, 60_000);
  const kept = runningReady(await pods('orphaned'));
  expect(kept).toHaveLength(2);
  expect(kept.every((p) => p.metadata.ownerReferences === undefined)).toBe(true);
});

test('readyReplicas follow the pods\' readiness probes, and availableReplicas come minReadySeconds later with no further event', async () => {
  const rc = quickStopController('probed', 2);
  rc.spec!.minReadySeconds = 3;
  const app = rc.spec!.template!.spec!.containers[0];
  // The test image has no /tmp until the container makes one.
  app.command = ['sh', '-c', "mkdir -p /tmp; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"];
  app.readinessProbe = { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 };
  const statuses: NonNullable<ReplicationController['status']>[] = [];
  const watch = cluster.client.watch<ReplicationController>('replicationcontrollers', { namespace: 'default', fieldSelector: 'metadata.name=probed' }, (e) => {
    if (e.type !== 'BOOKMARK' && e.object.status) statuses.push(e.object.status);
  });
  try {
    await cluster.client.create('replicationcontrollers', rc);
    const started = await waitFor('2 pods running, not ready', async () => {
      const list = (await pods('probed')).filter((p) => p.status?.containerStatuses?.[0]?.started === true);
      return list.length === 2 && list;
    }, 60_000);
    expect(statuses.at(-1)).toMatchObject({ replicas: 2, readyReplicas: 0, availableReplicas: 0 });

    const execIn = (pod: Pod, script: string): void => {
      const [id] = containersWith([`peapod.pod.name=${pod.metadata.name}`, 'peapod.container=app']);
      const r = docker(['exec', id, 'sh', '-c', script]);
      if (r.code !== 0) throw new Error(`${script}: ${r.stderr}`);
    };
    for (const pod of started) execIn(pod, 'touch /tmp/ready');
    await waitFor('2 ready replicas', async () => statuses.at(-1)?.readyReplicas === 2, 30_000);
    await waitFor('2 available replicas', async () => statuses.at(-1)?.availableReplicas === 2, 30_000);
    // Ready before available: a status said so in between.
    expect(statuses.some((s) => s.readyReplicas === 2 && (s.availableReplicas ?? 0) < 2)).toBe(true);

    execIn(started[0], 'rm /tmp/ready');
    await waitFor('1 ready, 1 available', async () => statuses.at(-1)?.readyReplicas === 1 && statuses.at(-1)?.availableReplicas === 1, 30_000);
    expect(statuses.at(-1)?.replicas).toBe(2);
  } finally {
    watch.stop();
  }
});
