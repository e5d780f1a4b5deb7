// docker-compose.yml's `ha` profile on real Docker: three etcd members, two API servers on
// them, two leader-elected schedulers and controller managers, two agents, every component
// given both API servers. One API server and the leading scheduler SIGKILLed: the cluster
// carries on through the other server, and the other scheduler takes over.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Client, loadKubeconfig } from '@peapod/client';
import type { Lease, Node, Pod } from '@peapod/api';
import { assertDocker, ensureTestImages, freePort, kubectl, nodeReady, peactl, podRunning, runId, testImage } from './support/cluster';
import { ComposeCluster, nodeImage } from './support/compose';
import { runOk } from './support/process';
import { report, seconds, waitFor } from './support/wait';

let cluster: ComposeCluster | undefined;
let workDir = '';
let kubeconfig = '';
let servers: string[] = [];
/** A client of the second API server, the one that stays. */
let second: Client;

function haCluster(): ComposeCluster {
  if (!cluster) throw new Error('the cluster did not start (see beforeAll)');
  return cluster;
}

const rc = (replicas: number) => `apiVersion: v1
kind: ReplicationController
metadata:
  name: ha
spec:
  replicas: ${replicas}
  selector:
    app: ha
  template:
    metadata:
      labels:
        app: ha
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: ${testImage}
          imagePullPolicy: Never
          command: ["sleep", "3600"]
`;

async function runningPods(): Promise<Pod[]> {
  const pods = (await second.list<Pod>('pods', { namespace: 'default', labelSelector: 'app=ha' })).items;
  return pods.filter((p) => !p.metadata.deletionTimestamp && podRunning(p));
}

/** The agents' --heartbeat-interval (its default): how often a node's lease is renewed. */
const heartbeatMs = 10_000;

async function schedulerLease(): Promise<NonNullable<Lease['spec']>> {
  return (await second.get<Lease>('leases', 'kube-scheduler', { namespace: 'kube-system' })).spec ?? {};
}

beforeAll(async () => {
  await assertDocker();
  await ensureTestImages();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-e2e-ha-'));
  const [apiPort, apiPort2] = [await freePort(), await freePort()];
  servers = [`https://127.0.0.1:${apiPort}`, `https://127.0.0.1:${apiPort2}`];
  cluster = new ComposeCluster({ id: runId(), apiPort, nodeImage: await nodeImage(), pkiDir: path.join(workDir, 'pki'), ha: { apiPort2 } });
  kubeconfig = path.join(workDir, 'pki', 'admin.kubeconfig');
  const started = Date.now();
  // The profile's control plane and agents (its service proxies and DNS need the host's nftables and are not what this tests).
  await cluster.compose(
    ['up', '-d', 'ha-apiserver-1', 'ha-apiserver-2', 'ha-scheduler-1', 'ha-scheduler-2', 'ha-controller-manager-1', 'ha-controller-manager-2', 'ha-node-1', 'ha-node-2'],
    300_000,
  );
  second = new Client({ ...loadKubeconfig({ path: kubeconfig }).clientOptions(), server: servers[1] });
  const names = cluster.nodeNames;
  await waitFor('two Ready nodes', 120_000, async () => {
    const nodes = (await second.list<Node>('nodes')).items.filter((n) => names.includes(n.metadata.name ?? ''));
    return nodes.length === 2 && nodes.every(nodeReady);
  }, 500);
  report(`docker-compose --profile ha: two nodes Ready ${seconds(Date.now() - started)} after \`up -d\``);
}, 420_000);

afterAll(async () => {
  second?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  if (!cluster) return;
  const logFile = await cluster.destroy();
  report(`docker-compose --profile ha: components' logs saved in ${logFile}`);
  expect(await cluster.leftovers()).toEqual([]);
}, 180_000);

test('both API servers serve one cluster: a write through one is read through the other', async () => {
  const file = path.join(workDir, 'rc.yaml');
  fs.writeFileSync(file, rc(3));
  expect(await kubectl(kubeconfig, ['--server', servers[0], 'apply', '-f', file])).toContain('replicationcontroller/ha created');
  await waitFor('3 running pods', 90_000, async () => (await runningPods()).length === 3);
  const leases = await kubectl(kubeconfig, ['--server', servers[1], 'get', 'lease', '-n', 'kube-system', 'kube-scheduler', 'kube-controller-manager', '--no-headers']);
  expect(leases.split('\n').filter(Boolean)).toHaveLength(2);
}, 120_000);

test('one API server and the leading scheduler SIGKILLed: the other server serves, the other scheduler takes over', async () => {
  const leader = (await schedulerLease()).holderIdentity ?? '';
  // The holder identity starts with the host name, which in compose is the container's id.
  const leaderContainer = leader.split('_')[0];
  const project = haCluster().project;
  await runOk('docker', ['kill', '-s', 'KILL', `${project}_ha-apiserver-1_1`, leaderContainer]);
  const killed = Date.now();

  fs.writeFileSync(path.join(workDir, 'rc.yaml'), rc(6));
  // peactl given both servers, the dead one first, carries on through the second.
  expect(await peactl(kubeconfig, ['--server', servers.join(','), 'apply', '-f', path.join(workDir, 'rc.yaml')])).toContain('replicationcontroller/ha');
  // The containers share the host's clock, so the lease's renewTime dates the leader's last renewal.
  let lastRenewal = 0;
  const takenOver = await waitFor('another scheduler holding the lease', 60_000, async () => {
    const lease = await schedulerLease();
    if (lease.holderIdentity === leader) lastRenewal = Date.parse(lease.renewTime ?? '');
    return lease.holderIdentity && lease.holderIdentity !== leader ? Date.now() : undefined;
  }, 250);
  const running = await waitFor('6 running pods', 90_000, async () => ((await runningPods()).length === 6 ? Date.now() : undefined), 500);
  report(
    `docker-compose --profile ha: after SIGKILL of an API server and the leading scheduler, the other scheduler led ` +
      `${seconds(takenOver - killed)} later (${seconds(takenOver - lastRenewal)} after the leader's last renewal), 6 pods running ${seconds(running - killed)} later`,
  );
  // The standby takes the lease 15 s after it first read the leader's last renewal. It reads
  // every retry period (2 to 2.4 s, jittered), and its first read after the kill may go to the
  // dead server and move on only at the election client's 5 s deadline: 22.4 s at most after
  // that renewal, here with room for a loaded machine. A read stuck longer (a longer deadline,
  // one that missed the connect) would pass 25 s.
  expect(lastRenewal).toBeGreaterThan(0);
  expect(takenOver - lastRenewal).toBeLessThan(25_000);
  // The agents heartbeat through the second server: each node's lease is renewed more than a
  // heartbeat interval after the kill (a heartbeat stuck on the dead server would not be), and
  // the nodes are Ready.
  await waitFor('both nodes\' leases renewed through the second server', 60_000, async () => {
    const leases = await Promise.all(haCluster().nodeNames.map((n) => second.get<Lease>('leases', n, { namespace: 'kube-node-lease' })));
    return leases.every((l) => Date.parse(l.spec?.renewTime ?? '') > killed + heartbeatMs);
  });
  const nodes = (await second.list<Node>('nodes')).items.filter((n) => haCluster().nodeNames.includes(n.metadata.name ?? ''));
  expect(nodes.map(nodeReady)).toEqual([true, true]);
}, 180_000);
