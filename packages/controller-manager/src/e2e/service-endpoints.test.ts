// A service in front of a replication controller, end to end with real agents on Docker: the
// readiness probe decides where each pod stands in Endpoints and EndpointSlices, and a pod
// deleted with the real kubectl leaves the service at once although its container, which
// ignores TERM, keeps running through its 30 s grace period (the seed's termination step 5).

import { randomBytes } from 'crypto';
import type { EndpointSlice, Endpoints, Pod, ReplicationController, WatchEvent } from '@peapod/api';
import type { Watch } from '@peapod/client';
import type { RunningProcess } from '@peapod/client/testing';
import { isPodLive } from '../replication/controller';
import { startAgent } from '../testing/agents';
import { rcManifest, startCluster, waitFor } from '../testing/cluster';
import type { Cluster } from '../testing/cluster';
import { cleanUp, createNetwork, docker } from '../testing/docker';
import { addressesOf, endpointsOf, slicesOf } from '../testing/endpoints';
import { kubectlFor } from '../testing/kubectl';

jest.setTimeout(150_000);

const testId = `cmsvc-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const network = `peapod-test-${testId}`;
const nodes = [`a-${testId}`, `b-${testId}`];

let cluster: Cluster;
let agents: RunningProcess[] = [];
let kubectl: ReturnType<typeof kubectlFor>;

beforeAll(async () => {
  createNetwork(network, testId);
  cluster = await startCluster({ runPods: false });
  agents = await Promise.all(nodes.map((node) => startAgent(cluster.api.url, node, network)));
  await cluster.startControllerManager();
  kubectl = kubectlFor(cluster.api.url);
});

afterAll(async () => {
  kubectl?.cleanup();
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await cluster?.stop();
  cleanUp(nodes, testId);
});

/**
 * Pods labelled app=web whose container ignores TERM, so it runs until KILL, and is ready
 * while /tmp/ready exists (the image is FROM scratch: the container makes /tmp itself).
 */
function webController(): ReplicationController {
  const rc = rcManifest('web', 3);
  rc.spec!.template!.spec = {
    terminationGracePeriodSeconds: 30,
    containers: [
      {
        name: 'app',
        image: 'peapod/busybox:latest',
        imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', "mkdir -p /tmp; trap '' TERM; while :; do sleep 1; done"],
        ports: [{ name: 'http', containerPort: 8080 }],
        // A docker exec slowed by a loaded machine is not a failure: only a missing file is.
        readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, timeoutSeconds: 5, failureThreshold: 1 },
      },
    ],
  };
  return rc;
}

async function livePods(): Promise<Pod[]> {
  return (await cluster.client.list<Pod>('pods', { namespace: 'default', labelSelector: 'app=web' })).items.filter(isPodLive);
}

/** The running Docker container of the pod's app container. */
function appContainer(pod: string): string {
  const r = docker(['ps', '-q', '--filter', `label=peapod.pod.name=${pod}`, '--filter', 'label=peapod.container=app']);
  const id = r.stdout.trim().split('\n')[0];
  if (!id) throw new Error(`no running app container for pod ${pod}`);
  return id;
}

/** Runs a shell command in the pod's app container, as `kubectl exec` would. */
function shIn(pod: string, script: string): void {
  const r = docker(['exec', appContainer(pod), 'sh', '-c', script]);
  if (r.code !== 0) throw new Error(`${script} in ${pod}: ${r.stderr}`);
}

function containerState(pod: string): string {
  return docker(['inspect', '--format', '{{.State.Status}}', appContainer(pod)]).stdout.trim();
}

const ipOf = (pod: Pod): string => pod.status?.podIP ?? '';

async function addresses(): Promise<{ ready: string[]; notReady: string[] }> {
  return addressesOf(await endpointsOf(cluster.client, 'web'));
}

async function sliceEndpoint(ip: string) {
  const slices = await slicesOf(cluster.client, 'web');
  return slices.flatMap((s) => s.endpoints ?? []).find((e) => e.addresses.includes(ip));
}

type Conditions = NonNullable<EndpointSlice['endpoints'][number]['conditions']>;

/** Waits until the slices show the endpoint of this IP with exactly these conditions. */
async function sliceShows(what: string, ip: string, conditions: Conditions): Promise<void> {
  await waitFor(what, async () => JSON.stringify((await sliceEndpoint(ip))?.conditions) === JSON.stringify(conditions), 30_000);
}

async function rcStatus(): Promise<ReplicationController['status']> {
  return (await cluster.client.get<ReplicationController>('replicationcontrollers', 'web', { namespace: 'default' })).status;
}

const sorted = (ips: string[]): string[] => [...ips].sort();

test('Endpoints and EndpointSlices follow the readiness probe; a deleted pod leaves Endpoints while its container still runs; the replacement joins', async () => {
  await cluster.client.create('replicationcontrollers', webController());
  expect(kubectl.run(['expose', 'rc', 'web', '--port=80', '--target-port=http'])).toMatchObject({ code: 0, stdout: 'service/web exposed\n' });

  // Running but not ready: every pod is a not-ready address.
  const started = await waitFor('3 pods started, each with an IP', async () => {
    const list = await livePods();
    return list.length === 3 && list.every((p) => ipOf(p) !== '' && p.status?.containerStatuses?.[0]?.started === true) && list;
  }, 90_000);
  const ips = sorted(started.map(ipOf));
  await waitFor('3 not-ready addresses', async () => JSON.stringify(await addresses()) === JSON.stringify({ ready: [], notReady: ips }), 30_000);
  const ep = await endpointsOf(cluster.client, 'web');
  expect(ep?.subsets?.[0]?.ports).toEqual([{ port: 8080, protocol: 'TCP' }]);

  // The probe passes: 3 ready addresses, and the controller counts 3 ready replicas.
  for (const pod of started) shIn(pod.metadata.name!, 'touch /tmp/ready');
  await waitFor('3 ready addresses', async () => JSON.stringify(await addresses()) === JSON.stringify({ ready: ips, notReady: [] }), 30_000);
  await waitFor('readyReplicas 3', async () => (await rcStatus())?.readyReplicas === 3);

  // One pod's probe fails: it moves to notReadyAddresses, and back once it passes again.
  const [flaky, victim] = started;
  shIn(flaky.metadata.name!, 'rm /tmp/ready');
  await waitFor('the failing pod not ready', async () => {
    const a = await addresses();
    return a.notReady.join() === ipOf(flaky) && a.ready.length === 2;
  });
  await sliceShows('the failing pod not ready in the slice', ipOf(flaky), { ready: false, serving: false, terminating: false });
  shIn(flaky.metadata.name!, 'touch /tmp/ready');
  await waitFor('3 ready addresses again', async () => (await addresses()).ready.length === 3);

  // Delete a ready pod with a 30 s grace period; watch when it is marked and when it leaves.
  const name = victim.metadata.name!;
  const ip = ipOf(victim);
  const from = (await cluster.client.list('pods', { namespace: 'default' })).metadata.resourceVersion;
  let markedAt: number | undefined;
  let dropped: { at: number; state: string; endpoints: Endpoints } | undefined;
  const watches: Watch[] = [
    cluster.client.watch<Pod>('pods', { namespace: 'default', fieldSelector: `metadata.name=${name}`, resourceVersion: from }, (e: WatchEvent<Pod>) => {
      if (markedAt === undefined && e.object.metadata?.deletionTimestamp !== undefined) markedAt = Date.now();
    }),
    cluster.client.watch<Endpoints>('endpoints', { namespace: 'default', fieldSelector: 'metadata.name=web', resourceVersion: from }, (e: WatchEvent<Endpoints>) => {
      if (dropped !== undefined || e.type === 'BOOKMARK' || e.type === 'ERROR') return;
      const a = addressesOf(e.object);
      // Inspected in the same tick the change arrives: the container at that moment.
      if (!a.ready.includes(ip) && !a.notReady.includes(ip)) dropped = { at: Date.now(), state: containerState(name), endpoints: e.object };
    }),
  ];
  try {
    const deleteAt = Date.now();
    const result = await kubectl.runAsync(['delete', 'pod', name, '--grace-period=30', '--wait=false']);
    expect(result).toEqual({ code: 0, stdout: `pod "${name}" deleted\n`, stderr: '' });
    const gone = await waitFor('the pod dropped from Endpoints', () => dropped);
    const sinceMarked = gone.at - (markedAt ?? deleteAt);
    process.stdout.write(`kubectl delete pod ${name} --grace-period=30: marked for deletion after ${(markedAt ?? deleteAt) - deleteAt} ms (kubectl's own start-up), ` +
      `dropped from Endpoints ${gone.at - deleteAt} ms after the command started, ${sinceMarked} ms after the mark; its container was ${gone.state}\n`);
    expect(gone.state).toBe('running');
    expect(sinceMarked).toBeLessThan(1000);
    // The other two stay ready, whatever the replacement is doing by then.
    expect(addressesOf(gone.endpoints).ready).toEqual(expect.arrayContaining(ips.filter((i) => i !== ip)));
  } finally {
    watches.forEach((w) => w.stop());
  }

  // The slice keeps it as terminating, not ready, serving while its container is still ready.
  await sliceShows('the slice shows it terminating', ip, { ready: false, serving: true, terminating: true });
  expect(containerState(name)).toBe('running');
  const marked = await cluster.client.get<Pod>('pods', name, { namespace: 'default' });
  expect(marked.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');

  // The replacement appears in both, not ready, then ready once its probe passes.
  const replacement = await waitFor('the replacement started', async () => {
    const list = await livePods();
    return list.find((p) => !started.some((s) => s.metadata.uid === p.metadata.uid) && ipOf(p) !== '' && p.status?.containerStatuses?.[0]?.started === true);
  }, 60_000);
  const newIp = ipOf(replacement);
  await waitFor('the replacement not ready in Endpoints', async () => (await addresses()).notReady.includes(newIp));
  await sliceShows('the replacement not ready in the slice', newIp, { ready: false, serving: false, terminating: false });
  shIn(replacement.metadata.name!, 'touch /tmp/ready');
  const now = sorted([...ips.filter((i) => i !== ip), newIp]);
  await waitFor('the replacement ready in Endpoints', async () => JSON.stringify(await addresses()) === JSON.stringify({ ready: now, notReady: [] }), 30_000);
  await sliceShows('the replacement ready in the slice', newIp, { ready: true, serving: true, terminating: false });
  const slices: EndpointSlice[] = await slicesOf(cluster.client, 'web');
  expect(sorted(slices.flatMap((s) => s.endpoints ?? []).flatMap((e) => e.addresses))).toEqual(sorted([...now, ip]));
  await waitFor('the controller counts the 3 live pods, all ready', async () => {
    const s = await rcStatus();
    return s?.replicas === 3 && s.readyReplicas === 3;
  });

  // Its container still runs out its grace period; when its readiness fails, the slice says it no longer serves.
  expect(containerState(name)).toBe('running');
  shIn(name, 'rm /tmp/ready');
  await sliceShows('the terminating pod no longer serving', ip, { ready: false, serving: false, terminating: true });
});
