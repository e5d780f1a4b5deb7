// peapod-hollow at CI size: 50 hollow nodes (two processes, so that one can die as a node's
// agent does) and 1,000 pods from a replication controller, with the real API server,
// scheduler and controller manager. Hollow nodes must behave as agents do: pods Running and
// Ready with an IP from their node's range, graceful deletion that honours grace periods,
// and on node failure NotReady nodes whose pods are evicted and replaced elsewhere; a node
// whose process stalls and comes back has its pods Ready again (the agent restores the status
// the node lifecycle controller changed).

import type { Lease, Node, Pod, ReplicationController, WatchEvent } from '@peapod/api';
import { Client } from '@peapod/client';
import { startApiServer, startComponent, waitFor as waitUntil } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';

jest.setTimeout(180_000);

const LIVE_NODES = 45;
const DOOMED_NODES = 5;
const REPLICAS = 1000;

let api: RunningApiServer;
let client: Client;
const procs: RunningProcess[] = [];
let doomed: RunningProcess;
let live: RunningProcess;

function hollow(nodes: number, prefix: string, clusterCidr: string): RunningProcess {
  return startComponent('hollow', [
    '--server', api.url,
    '--nodes', String(nodes),
    '--name-prefix', prefix,
    '--cluster-cidr', clusterCidr,
    '--address', '127.0.0.1',
    '--heartbeat-interval', '1',
    '--fake-start-delay', '0.2',
    '--max-pods', '110',
    '--log-level', 'info',
  ]);
}

/** Waits as the shared helper does, with the patience a thousand pods need on a busy machine. */
function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  return waitUntil(what, check, timeoutMs, 250);
}

async function pods(selector = 'app=web'): Promise<Pod[]> {
  return (await client.list<Pod>('pods', { namespace: 'default', labelSelector: selector })).items;
}

/** A replication controller selecting app=NAME, its pods annotated and specified as given. */
function controller(name: string, replicas: number, annotations: Record<string, string>, spec: Pod['spec']): ReplicationController {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { app: name }, template: { metadata: { labels: { app: name }, annotations }, spec } },
  };
}

const isReady = (p: Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

beforeAll(async () => {
  api = await startApiServer();
  client = new Client({ server: api.url });
  // A thousand pods at once: no client rate limit, as Kubernetes' scale tests raise theirs.
  procs.push(startComponent('scheduler', ['--server', api.url, '--kube-api-qps', '0']));
  procs.push(
    startComponent('controller-manager', [
      '--server', api.url,
      '--kube-api-qps', '0',
      '--node-monitor-period', '1s',
      '--node-monitor-grace-period', '5s',
      '--pod-eviction-timeout', '2s',
      // Five nodes fail together: tainted within a second rather than one every 10 s.
      '--node-eviction-rate', '10',
    ]),
  );
  live = hollow(LIVE_NODES, 'hollow-', '10.128.0.0/16');
  doomed = hollow(DOOMED_NODES, 'doomed-', '10.129.0.0/16');
  procs.push(live, doomed);
  await Promise.all([live, doomed].map((p) => p.ready(/"msg":"nodes running"/, 60_000)));
});

afterAll(async () => {
  for (const p of procs.reverse()) await p.kill('SIGKILL');
  client?.close();
  await api?.stop('SIGKILL');
});

test('50 hollow nodes register Ready, each with its own pod range and its own Lease', async () => {
  const nodes = await waitFor('50 Ready nodes', async () => {
    const all = (await client.list<Node>('nodes')).items;
    const ready = all.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready.length === LIVE_NODES + DOOMED_NODES && all;
  });
  const cidrs = new Set(nodes.map((n) => n.spec?.podCIDR));
  expect(cidrs.size).toBe(nodes.length);
  expect(nodes.find((n) => n.metadata.name === 'hollow-3')?.spec?.podCIDR).toBe('10.128.3.0/24');
  expect(nodes[0].status?.nodeInfo?.containerRuntimeVersion).toMatch(/^fake:\/\//);
  const leases = await waitFor('a Lease per node', async () => {
    const all = (await client.list<Lease>('leases', { namespace: 'kube-node-lease' })).items;
    return all.length === LIVE_NODES + DOOMED_NODES && all;
  });
  for (const lease of leases) {
    expect(lease.spec?.holderIdentity).toBe(lease.metadata.name);
    expect(lease.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: lease.metadata.name });
  }
});

test('1,000 pods of a replication controller run and are Ready, each with an IP from its node\'s range', async () => {
  await client.create<ReplicationController>('replicationcontrollers', controller('web', REPLICAS, {}, { containers: [{ name: 'app', image: 'peapod/busybox:latest' }] }));
  const running = await waitFor('1,000 pods Running and Ready', async () => {
    const all = await pods();
    return all.length === REPLICAS && all.every((p) => p.status?.phase === 'Running' && isReady(p)) && all;
  });
  const nodes = new Map((await client.list<Node>('nodes')).items.map((n) => [n.metadata.name, n.spec?.podCIDR ?? '']));
  for (const p of running) {
    const cidr = nodes.get(p.spec.nodeName) ?? '';
    expect(p.status?.podIP?.startsWith(cidr.replace(/0\/24$/, ''))).toBe(true);
  }
  expect(new Set(running.map((p) => p.status?.podIP)).size).toBe(REPLICAS);
  const rc = await waitFor('rc status', async () => {
    const r = await client.get<ReplicationController>('replicationcontrollers', 'web', { namespace: 'default' });
    return r.status?.readyReplicas === REPLICAS && r;
  });
  expect(rc.status?.replicas).toBe(REPLICAS);
});

test('readiness through the agent\'s prober: pods whose readiness probe fails run but are not Ready, nor counted ready', async () => {
  const probed = { containers: [{ name: 'app', image: 'peapod/busybox:latest', readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 } }] };
  await client.create<ReplicationController>('replicationcontrollers', controller('unready', 2, { 'peapod.io/fake-ready': 'false' }, probed));
  const rc = await waitFor('2 replicas, none ready', async () => {
    const r = await client.get<ReplicationController>('replicationcontrollers', 'unready', { namespace: 'default' });
    const running = (await pods('app=unready')).filter((p) => p.status?.phase === 'Running');
    return r.status?.replicas === 2 && running.length === 2 && running.every((p) => !isReady(p)) && r;
  });
  expect(rc.status?.readyReplicas ?? 0).toBe(0);
  await client.delete('replicationcontrollers', 'unready', { namespace: 'default' });
});

test('graceful deletion: a container that ignores TERM lives out its grace period, one that heeds it goes at once', async () => {
  const spec = (grace: number): Pod['spec'] => ({ nodeName: 'hollow-7', terminationGracePeriodSeconds: grace, containers: [{ name: 'app', image: 'peapod/busybox:latest' }] });
  await client.create<Pod>('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stubborn', annotations: { 'peapod.io/fake-term-seconds': 'never' } }, spec: spec(3) });
  await client.create<Pod>('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'polite', annotations: { 'peapod.io/fake-term-seconds': '0.5' } }, spec: spec(60) });
  for (const name of ['stubborn', 'polite']) {
    await waitFor(`${name} Running`, async () => (await client.get<Pod>('pods', name, { namespace: 'default' })).status?.phase === 'Running');
  }
  const rv = (await client.list('pods', { namespace: 'default', limit: 1 })).metadata.resourceVersion ?? '';
  const goneAt = new Map<string, number>();
  const lastExit = new Map<string, number | undefined>();
  const watch = client.watch<Pod>('pods', { namespace: 'default', resourceVersion: rv }, (e: WatchEvent<Pod>) => {
    const name = e.object.metadata.name ?? '';
    if (e.type === 'DELETED') goneAt.set(name, Date.now());
    else if (e.object.status?.containerStatuses?.[0]?.state?.terminated) lastExit.set(name, e.object.status.containerStatuses[0].state.terminated.exitCode);
  });
  const start = Date.now();
  await client.delete('pods', 'stubborn', { namespace: 'default' });
  await client.delete('pods', 'polite', { namespace: 'default' });
  await waitFor('both gone', async () => goneAt.has('stubborn') && goneAt.has('polite'), 60_000);
  watch.stop();
  expect(goneAt.get('stubborn')! - start).toBeGreaterThanOrEqual(3000);
  expect(lastExit.get('stubborn')).toBe(137);
  expect(lastExit.get('polite')).toBe(143);
  expect(goneAt.get('polite')! - start).toBeLessThan(60_000);
});

test('a replication controller scaled down: its pods terminate and leave the API', async () => {
  await client.patch('replicationcontrollers', 'web', { spec: { replicas: 900 } }, 'merge', { namespace: 'default', subresource: 'scale' });
  await waitFor('900 pods', async () => (await pods()).length === 900);
});

test('node failure: the dead process\'s nodes go NotReady, their pods are evicted and replaced on live nodes', async () => {
  const onDoomed = (await pods()).filter((p) => p.spec.nodeName?.startsWith('doomed-'));
  expect(onDoomed.length).toBeGreaterThan(0);
  await doomed.kill('SIGKILL');
  await waitFor('doomed nodes NotReady and tainted', async () => {
    const nodes = (await client.list<Node>('nodes')).items.filter((n) => n.metadata.name?.startsWith('doomed-'));
    return nodes.every((n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown' && n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable'));
  });
  const replaced = await waitFor('900 pods Running on live nodes', async () => {
    const all = await pods();
    const onLive = all.filter((p) => p.spec.nodeName?.startsWith('hollow-') && p.status?.phase === 'Running' && isReady(p));
    return onLive.length === 900 && all.length === 900 && all;
  });
  const names = new Set(replaced.map((p) => p.metadata.name));
  for (const p of onDoomed) expect(names.has(p.metadata.name)).toBe(false);
});

test('a node that comes back: its process stalled until the node went NotReady, its pods are Ready again', async () => {
  const stalled = hollow(1, 'stalled-', '10.130.0.0/16');
  procs.push(stalled);
  await stalled.ready(/"msg":"nodes running"/, 60_000);
  const nodeReady = async (): Promise<string | undefined> =>
    (await client.get<Node>('nodes', 'stalled-0')).status?.conditions?.find((c) => c.type === 'Ready')?.status;
  await waitFor('stalled-0 Ready', async () => (await nodeReady()) === 'True');
  // Bound to the node and tolerating its unreachability, so that it is marked but never evicted.
  await client.create<Pod>('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'on-stalled', namespace: 'default' },
    spec: {
      nodeName: 'stalled-0',
      containers: [{ name: 'app', image: 'peapod/busybox:latest' }],
      tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }],
    },
  }, { namespace: 'default' });
  const readyOf = async () => (await client.get<Pod>('pods', 'on-stalled', { namespace: 'default' })).status?.conditions?.find((c) => c.type === 'Ready');
  await waitFor('on-stalled Ready', async () => (await readyOf())?.status === 'True');
  process.kill(stalled.pid, 'SIGSTOP');
  try {
    await waitFor('on-stalled marked NodeNotReady', async () => (await readyOf())?.reason === 'NodeNotReady');
  } finally {
    process.kill(stalled.pid, 'SIGCONT');
  }
  await waitFor('stalled-0 Ready and on-stalled Ready again', async () => (await nodeReady()) === 'True' && (await readyOf())?.status === 'True');
});

test("stopped, a hollow process logs what became of its nodes' events", async () => {
  await live.kill('SIGTERM');
  const line = /\{[^\n]*"msg":"events"[^\n]*\}/.exec(live.logs());
  expect(line).not.toBeNull();
  const counts = JSON.parse(line?.[0] ?? '{}') as Record<string, number>;
  expect(Object.keys(counts)).toEqual(expect.arrayContaining(['written', 'failed', 'dropped', 'filtered', 'queued']));
  // Every pod started got its events queued: written, or dropped when the queue was full.
  expect(counts.written + counts.dropped).toBeGreaterThan(REPLICAS);
});
