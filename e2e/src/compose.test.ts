// docker-compose.yml on real Docker: three agents, pods spread over them on one network,
// pod-to-pod traffic across nodes, exec and port-forward through the API server, a service reached by name and cluster IP from another
// node, kubectl and peactl against it, graceful deletion, and a node whose agent stops
// going NotReady with its pods replaced on the others.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Client, loadKubeconfig } from '@peapod/client';
import type { Node, Pod, Service } from '@peapod/api';
import { assertDocker, ensureTestImages, freePort, kubectl, nodeReady, peactl, peactlRun, podContainers, podRunning, runId, tableRows, testImage } from './support/cluster';
import { ComposeCluster, nodeImage } from './support/compose';
import { checkStreams } from './support/streams';
import { report, seconds, waitFor } from './support/wait';

const REPLICAS = 9;
let cluster: ComposeCluster | undefined;
let client: Client;
let workDir = '';
let kubeconfig = '';

function composeCluster(): ComposeCluster {
  if (!cluster) throw new Error('the cluster did not start (see beforeAll)');
  return cluster;
}

const spreadRc = `apiVersion: v1
kind: ReplicationController
metadata:
  name: spread
spec:
  replicas: ${REPLICAS}
  selector:
    app: spread
  template:
    metadata:
      labels:
        app: spread
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: main
          image: ${testImage}
          imagePullPolicy: Never
          command: ["sleep", "3600"]
          resources:
            requests:
              cpu: 100m
`;

function pinnedPod(name: string, node: string, restartPolicy: string, script: string, app = name): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    app: ${app}
spec:
  nodeName: ${node}
  restartPolicy: ${restartPolicy}
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${testImage}
      imagePullPolicy: Never
      command: ["sh", "-c", ${JSON.stringify(script)}]
`;
}

async function createFromYaml(name: string, yaml: string): Promise<string> {
  const file = path.join(workDir, `${name}.yaml`);
  fs.writeFileSync(file, yaml);
  return peactl(kubeconfig, ['create', '-f', file]);
}

async function pods(selector: string): Promise<Pod[]> {
  return (await client.list<Pod>('pods', { namespace: 'default', labelSelector: selector })).items;
}

/** The RC's live pods once all REPLICAS run, none of them on `avoid`. */
function waitReplicasRunning(what: string, timeoutMs: number, avoid?: string): Promise<Pod[]> {
  return waitFor(what, timeoutMs, async () => {
    const live = (await pods('app=spread')).filter((p) => !p.metadata.deletionTimestamp);
    const ok = live.length === REPLICAS && live.every((p) => podRunning(p) && p.spec.nodeName !== avoid);
    return ok ? live : undefined;
  });
}

function byNode(list: Pod[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of list) (out[p.spec.nodeName ?? ''] ??= []).push(p.metadata.name ?? '');
  return out;
}

beforeAll(async () => {
  await assertDocker();
  await ensureTestImages();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-e2e-compose-'));
  const apiPort = await freePort();
  cluster = new ComposeCluster({
    id: runId(),
    apiPort,
    nodeImage: await nodeImage(),
    pkiDir: path.join(workDir, 'pki'),
    // Short enough for a test: heartbeats every 2 s, Unknown after 10 s of silence, pods
    // evicted 5 s later.
    extraEnv: { PEAPOD_HEARTBEAT_INTERVAL: '2s', PEAPOD_NODE_MONITOR_GRACE_PERIOD: '10s', PEAPOD_POD_EVICTION_TIMEOUT: '5s' },
  });
  // Written by the bootstrap service on `up`: HTTPS with the generated CA and the admin token.
  kubeconfig = path.join(workDir, 'pki', 'admin.kubeconfig');

  // The image scripts/build-images.sh built (it stages this machine's nft for the service
  // proxy; a build from the checkout offline has no nft to install).
  const upStart = Date.now();
  await cluster.compose(['up', '-d'], 300_000);
  const upDone = Date.now();
  client = new Client(loadKubeconfig({ path: kubeconfig }).clientOptions());
  const names = cluster.nodeNames;
  await waitFor('three Ready nodes', 90_000, async () => {
    const nodes = (await client.list<Node>('nodes')).items.filter((n) => names.includes(n.metadata.name ?? ''));
    return nodes.length === 3 && nodes.every(nodeReady);
  }, 200);
  const readyAt = Date.now();
  report(
    `docker-compose: \`up -d\` returned after ${seconds(upDone - upStart)}; ` +
      `three nodes Ready ${seconds(readyAt - upDone)} later, ${seconds(readyAt - upStart)} in all`,
  );
}, 480_000);

afterAll(async () => {
  client?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  if (!cluster) return;
  const logFile = await cluster.destroy();
  report(`docker-compose: components' logs saved in ${logFile}`);
  expect(await cluster.leftovers()).toEqual([]);
}, 180_000);

test('peactl and kubectl show three Ready nodes', async () => {
  for (const out of [await peactl(kubeconfig, ['get', 'nodes', '--no-headers']), await kubectl(kubeconfig, ['get', 'nodes', '--no-headers'])]) {
    const rows = tableRows(out).filter((r) => r[0].startsWith(composeCluster().nodePrefix));
    expect(rows.map((r) => [r[0], r[1]])).toEqual(composeCluster().nodeNames.map((n) => [n, 'Ready']));
  }
});

test(`${REPLICAS} pods of a replication controller spread over the three nodes`, async () => {
  expect(await createFromYaml('spread', spreadRc)).toContain('replicationcontroller/spread created');
  const running = await waitReplicasRunning(`${REPLICAS} running pods`, 90_000);
  const spread = byNode(running);
  report(`docker-compose: pods per node: ${Object.entries(spread).map(([n, p]) => `${n} ${p.length}`).join(', ')}`);
  expect(Object.keys(spread).sort()).toEqual(composeCluster().nodeNames);
  // Every pod has its own IP on the shared network.
  expect(new Set(running.map((p) => p.status?.podIP)).size).toBe(REPLICAS);
}, 120_000);

test('a pod on node-1 reaches a pod on node-3 by IP', async () => {
  const serverNode = composeCluster().nodeName('node-3');
  const clientNode = composeCluster().nodeName('node-1');
  await createFromYaml(
    'web',
    pinnedPod('web', serverNode, 'Always', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'),
  );
  const web = await waitFor('pod web Running with an IP', 60_000, async () => {
    const p = await client.get<Pod>('pods', 'web', { namespace: 'default' });
    return podRunning(p) && p.status?.podIP ? p : undefined;
  });
  const ip = web.status?.podIP ?? '';
  // Busybox's wget -T crashes; `timeout` bounds each try instead.
  await createFromYaml(
    'fetch',
    pinnedPod('fetch', clientNode, 'Never', `for i in 1 2 3 4 5 6 7 8 9 10; do timeout 3 wget -qO- http://${ip}:8080/ && exit 0; sleep 1; done; exit 1`),
  );
  const fetched = await waitFor('pod fetch finished', 90_000, async () => {
    const p = await client.get<Pod>('pods', 'fetch', { namespace: 'default' });
    return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
  });
  expect(fetched.spec.nodeName).toBe(clientNode);
  expect(fetched.status?.phase).toBe('Succeeded');
  // Logs come from node-1's agent through the API server.
  expect(await peactl(kubeconfig, ['logs', 'fetch'])).toContain('hello from web');
  expect(fetched.status?.podIP).not.toBe(ip);
}, 180_000);

test('kubectl and peactl exec into the pod on node-3, and kubectl port-forward reaches its server (TLS and tokens on)', async () => {
  const streams = await checkStreams(kubeconfig, 'web', '/www/index.html', 8080, '/index.html');
  expect(streams).toEqual({ catOutput: 'hello from web\n', kubectlExitCode: 3, peactlExitCode: 3, forwarded: 'hello from web\n' });
}, 120_000);

test('a pod on node-1 reaches a service on node-2 by name and by cluster IP (the proxies and the cluster DNS)', async () => {
  await createFromYaml(
    'greeter',
    pinnedPod('greeter', composeCluster().nodeName('node-2'), 'Always', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'),
  );
  const service = `apiVersion: v1
kind: Service
metadata:
  name: greeter
spec:
  selector:
    app: greeter
  ports:
    - port: 80
      targetPort: 8080
`;
  expect(await createFromYaml('greeter-svc', service)).toContain('service/greeter created');
  const clusterIP = (await client.get<Service>('services', 'greeter', { namespace: 'default' })).spec?.clusterIP;
  await createFromYaml(
    'asker',
    pinnedPod(
      'asker',
      composeCluster().nodeName('node-1'),
      'Never',
      `for i in $(seq 30); do timeout 3 wget -qO- http://greeter/ && timeout 3 wget -qO- http://${clusterIP}/ && exit 0; sleep 1; done; exit 1`,
    ),
  );
  const asked = await waitFor('pod asker finished', 120_000, async () => {
    const p = await client.get<Pod>('pods', 'asker', { namespace: 'default' });
    return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
  });
  expect(asked.status?.phase).toBe('Succeeded');
  expect((await peactl(kubeconfig, ['logs', 'asker'])).match(/hello from greeter/g)).toHaveLength(2);
  expect(await kubectl(kubeconfig, ['get', 'endpoints', 'kube-dns', '-n', 'kube-system', '--no-headers'])).toMatch(/kube-dns\s+\d+\.\d+\.\d+\.\d+:53/);
}, 180_000);

test('kubectl and peactl list the pods with their node names', async () => {
  const live = (await pods('app=spread')).filter((p) => !p.metadata.deletionTimestamp);
  const expected = live.map((p) => [p.metadata.name, p.spec.nodeName]).sort();
  for (const out of [
    await kubectl(kubeconfig, ['get', 'pods', '-l', 'app=spread', '-o', 'wide', '--no-headers']),
    await peactl(kubeconfig, ['get', 'pods', '-l', 'app=spread', '-o', 'wide', '--no-headers']),
  ]) {
    // NAME READY STATUS RESTARTS AGE IP NODE ...; RESTARTS may take several words ("1 (5s ago)").
    const rows = tableRows(out).map((r) => [r[0], r.find((word) => composeCluster().nodeNames.includes(word))]).sort();
    expect(rows).toEqual(expected);
  }
});

test('deleting pods with a grace period shows them Terminating, then removes them and their containers', async () => {
  const victims = (await pods('app=spread')).slice(0, 3).map((p) => ({ name: p.metadata.name ?? '', node: p.spec.nodeName ?? '' }));
  const names = victims.map((v) => v.name);
  const deleting = peactlRun(kubeconfig, ['delete', 'pod', ...names, '--grace-period=5']);
  await waitFor('the pods shown as Terminating', 10_000, async () => {
    const statuses = tableRows(await kubectl(kubeconfig, ['get', 'pods', ...names, '--no-headers', '--ignore-not-found'])).map((row) => row[2]);
    return statuses.length === names.length && statuses.every((s) => s === 'Terminating');
  }, 200);
  const deleted = await deleting;
  expect(deleted.code).toBe(0);
  for (const name of names) expect(deleted.stdout).toContain(`pod "${name}" deleted`);
  expect((await kubectl(kubeconfig, ['get', 'pods', ...names, '--ignore-not-found', '--no-headers'])).trim()).toBe('');
  await waitFor('their containers removed', 20_000, async () => {
    for (const v of victims) if ((await podContainers(v.node, v.name)).length > 0) return false;
    return true;
  });
  // The replication controller makes up the numbers again.
  await waitReplicasRunning(`${REPLICAS} running pods again`, 60_000);
}, 120_000);

test('node-2 stopped: it goes NotReady and its pods are replaced on the other nodes', async () => {
  const node2 = composeCluster().nodeName('node-2');
  const stopped = Date.now();
  await composeCluster().compose(['stop', '-t', '5', 'node-2']);
  await waitFor('node-2 NotReady', 60_000, async () => {
    const row = tableRows(await peactl(kubeconfig, ['get', 'nodes', '--no-headers'])).find((r) => r[0] === node2);
    return row?.[1] === 'NotReady';
  }, 500);
  const notReadyAfter = Date.now() - stopped;
  const running = await waitReplicasRunning(`${REPLICAS} running pods, none on node-2`, 90_000, node2);
  report(
    `docker-compose: node-2's agent stopped: NotReady after ${seconds(notReadyAfter)}, ` +
      `its pods replaced after ${seconds(Date.now() - stopped)} (${Object.entries(byNode(running)).map(([n, p]) => `${n} ${p.length}`).join(', ')})`,
  );
  expect(Object.keys(byNode(running)).sort()).toEqual([composeCluster().nodeName('node-1'), composeCluster().nodeName('node-3')]);
}, 180_000);
