// Drain on a two-node cluster with real agents on Docker: `kubectl drain NODE
// --ignore-daemonsets --force`, then `peactl drain`, each evicting a replication controller's
// pods and a bare pod through the eviction API. Every pod leaves gracefully (its preStop hook
// writes a marker into a host directory, and its delete carries the pod's grace period), and
// the controller's replacements run on the other node.

import fs from 'fs';
import os from 'os';
import path from 'path';
import { randomBytes } from 'crypto';
import type { Node, Pod, ReplicationController, WatchEvent } from '@peapod/api';
import type { RunningProcess } from '@peapod/client/testing';
import { isPodLive } from '../replication/controller';
import { startAgent } from '../testing/agents';
import { rcManifest, startCluster, waitFor } from '../testing/cluster';
import type { Cluster } from '../testing/cluster';
import { cleanUp, createNetwork } from '../testing/docker';
import { kubectlFor } from '../testing/kubectl';
import { runPeactl } from '../testing/peactl';

jest.setTimeout(300_000);

const testId = `drain-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const network = `peapod-test-${testId}`;
const nodeA = `a-${testId}`;
const nodeB = `b-${testId}`;
const grace = 10;

let cluster: Cluster;
let markers: string;
const agents: RunningProcess[] = [];
let kubectl: ReturnType<typeof kubectlFor>;
/** Every pod event of the test, in order. */
const events: WatchEvent<Pod>[] = [];
let stopWatch: (() => void) | undefined;

beforeAll(async () => {
  markers = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-drain-'));
  fs.chmodSync(markers, 0o777);
  createNetwork(network, testId);
  cluster = await startCluster({ runPods: false });
  for (const node of [nodeA, nodeB]) agents.push(await startAgent(cluster.api.url, node, network, ['--heartbeat-interval', '2']));
  await cluster.startControllerManager();
  kubectl = kubectlFor(cluster.api.url);
  const watch = cluster.client.watch<Pod>('pods', { namespace: 'default' }, (e) => events.push(e));
  watch.done.catch(() => undefined);
  stopWatch = () => watch.stop();
});

afterAll(async () => {
  stopWatch?.();
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await cluster?.stop();
  cleanUp([nodeA, nodeB], testId);
  kubectl?.cleanup();
  fs.rmSync(markers, { recursive: true, force: true });
});

/** A pod that exits on TERM and whose preStop hook writes a file named after it into the markers directory. */
function podSpec(node?: string): NonNullable<Pod['spec']> {
  return {
    terminationGracePeriodSeconds: grace,
    ...(node ? { nodeSelector: { 'kubernetes.io/hostname': node } } : {}),
    volumes: [{ name: 'markers', hostPath: { path: markers } }],
    containers: [
      {
        name: 'app',
        image: 'peapod/busybox:latest',
        imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"],
        volumeMounts: [{ name: 'markers', mountPath: '/markers' }],
        lifecycle: { preStop: { exec: { command: ['sh', '-c', 'hostname > /markers/$(hostname)'] } } },
      },
    ],
  };
}

async function cordon(node: string, unschedulable: boolean): Promise<void> {
  await cluster.client.patch('nodes', node, { spec: { unschedulable: unschedulable || null } }, 'merge');
}

/** The controller's pods and the bare pod (labelled apart, so that the controller does not adopt it). */
async function podsOf(app: string): Promise<Pod[]> {
  return (await cluster.client.list<Pod>('pods', { namespace: 'default', labelSelector: `app in (${app},${app}-bare)` })).items;
}

function runningOn(pods: Pod[], node: string): Pod[] {
  return pods.filter((p) => isPodLive(p) && p.spec.nodeName === node && p.status?.phase === 'Running');
}

/** Three replicas and a bare pod, all Running on `node` (the other node cordoned meanwhile). */
async function podsOn(node: string, other: string, app: string): Promise<string[]> {
  await cordon(other, true);
  const rc: ReplicationController = rcManifest(app, 3);
  rc.spec!.template!.spec = podSpec();
  await cluster.client.create('replicationcontrollers', rc);
  await cluster.client.create<Pod>('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${app}-bare`, labels: { app: `${app}-bare` } }, spec: podSpec(node) });
  const pods = await waitFor(`3 replicas and a bare pod Running on ${node}`, async () => {
    const list = runningOn(await podsOf(app), node);
    return list.length === 4 && list;
  }, 90_000).catch(async (err: Error) => {
    const seen = (await podsOf(app)).map((p) => `${p.metadata.name} ${p.spec.nodeName} ${p.status?.phase} ${JSON.stringify(p.status?.containerStatuses?.[0]?.state)}`);
    throw new Error(`${err.message}: ${seen.join('; ')}`);
  });
  await cordon(other, false);
  return pods.map((p) => p.metadata.name!).sort();
}

/** Each evicted pod was deleted with its grace period and its preStop hook ran; the replicas run on `other`. */
async function expectGracefulMove(app: string, evicted: string[], other: string): Promise<void> {
  for (const name of evicted) {
    const terminating = events.find((e) => e.type === 'MODIFIED' && e.object.metadata.name === name && e.object.metadata.deletionTimestamp !== undefined);
    expect({ name, grace: terminating?.object.metadata.deletionGracePeriodSeconds }).toEqual({ name, grace });
    expect(events.some((e) => e.type === 'DELETED' && e.object.metadata.name === name)).toBe(true);
    expect({ name, marker: fs.existsSync(path.join(markers, name)) }).toEqual({ name, marker: true });
  }
  const replacements = await waitFor(`3 replicas Running on ${other}`, async () => {
    const list = runningOn(await podsOf(app), other);
    return list.length === 3 && list;
  }, 90_000);
  expect(replacements.every((p) => !evicted.includes(p.metadata.name!))).toBe(true);
  expect((await podsOf(app)).filter((p) => p.metadata.name === `${app}-bare`)).toEqual([]);
}

test('kubectl drain --ignore-daemonsets --force evicts every pod gracefully; the replicas come back on the other node', async () => {
  const evicted = await podsOn(nodeA, nodeB, 'kdrain');
  const drained = await kubectl.runAsync(['drain', nodeA, '--ignore-daemonsets', '--force', '--timeout=120s'], 150_000);
  expect(drained.code).toBe(0);
  expect(drained.stderr).toContain(`Warning: deleting Pods that declare no controller: default/kdrain-bare`);
  const lines = drained.stdout.trimEnd().split('\n');
  expect(lines[0]).toBe(`node/${nodeA} cordoned`);
  expect(lines[lines.length - 1]).toBe(`node/${nodeA} drained`);
  for (const name of evicted) {
    expect(lines).toContain(`evicting pod default/${name}`);
    expect(lines).toContain(`pod/${name} evicted`);
  }
  expect((await cluster.client.get<Node>('nodes', nodeA)).spec?.unschedulable).toBe(true);
  await expectGracefulMove('kdrain', evicted, nodeB);
  // (A replication controller deleted through the API orphans its pods unless told otherwise, as in Kubernetes.)
  await cluster.client.delete('replicationcontrollers', 'kdrain', { namespace: 'default', propagationPolicy: 'Background' });
  await waitFor('the kdrain pods gone', async () => (await podsOf('kdrain')).length === 0, 60_000);
});

test('peactl drain evicts through the same API, gracefully', async () => {
  await cordon(nodeA, false);
  const evicted = await podsOn(nodeB, nodeA, 'pdrain');
  const peactl = await runPeactl(cluster.api.url, ['drain', nodeB, '--ignore-daemonsets', '--force', '--timeout=120s']);
  expect(peactl.code).toBe(0);
  const lines = peactl.stdout.trimEnd().split('\n');
  expect(lines[0]).toBe(`node/${nodeB} cordoned`);
  expect(lines[lines.length - 1]).toBe(`node/${nodeB} drained`);
  for (const name of evicted) expect(lines).toEqual(expect.arrayContaining([`evicting pod default/${name}`, `pod/${name} evicted`]));
  await expectGracefulMove('pdrain', evicted, nodeA);
});
