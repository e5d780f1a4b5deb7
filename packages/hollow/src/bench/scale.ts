// `npm run bench -- scale`: Kubernetes' scalability envelope on one machine. It brings up
// an API server, the scheduler, the controller manager and hollow nodes (two peapod-hollow
// processes: the second one's nodes are the ones that fail), fills the cluster with pods
// through replication controllers of mixed sizes, then churns for a while (controllers scaled
// up and down, pods deleted, the failing nodes' process killed, latency pods created at a
// steady rate) and measures Kubernetes' SLIs against its SLOs:
// - API call latency per verb and resource, p50 and p99, from the API server's histograms over
//   the churn (mutating calls and single-object reads ≤ 1 s at p99);
// - a cluster-wide LIST of every pod (≤ 30 s) and one namespace's (≤ 5 s);
// - watch event latency (our write acknowledged → its event seen by our watch);
// - pod startup latency of the latency pods (create → Running seen by a watch, ≤ 5 s at p99),
//   as Kubernetes' density test measures it on a saturated cluster;
// - scheduling throughput while filling; API server memory and CPU; database size.

import crypto from 'crypto';
import fs from 'fs';
import http from 'http';
import https from 'https';
import os from 'os';
import path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { unreachableTaint } from '@peapod/api';
import type { KubeObject, Node, Pod, ReplicationController } from '@peapod/api';
import { Client } from '@peapod/client';
import { startApiServer, startComponent, startEtcdCluster } from '@peapod/client/testing';
import type { EtcdCluster, RunningApiServer, RunningProcess } from '@peapod/client/testing';
import { CallPhaseTracer, type CallPhases } from './call-phases';
import { directoryBytes, listenOverflows, pressureTotals, procStats, type ProcStats } from './proc-stats';
import { countersBy, histogramQuantile, histogramsBetween, histogramsOf, histogramTotals, requestHistograms, sampleValue, type RequestHistograms } from './prometheus';
import { logsFrom, logWarnings, objectKey, slowStartupSeconds, stallTotals, timeline, type PressureSample, type ScaleChange, type TimelineWindow } from './timeline';
import { serverSideOf, serverSlowRequestSeconds, type ObjectCall, type ServerSide } from './server-side';
import { WatchDelays } from './watch-delays';

export interface ScaleOptions {
  nodes: number;
  pods: number;
  /** How long the churn lasts. */
  churnSeconds: number;
  /** Pods per second the replication controllers are created at while filling. */
  fillRate: number;
  /** Nodes of the process that gets killed (default 1% of the nodes, at least 1). */
  failingNodes?: number;
  /** Latency pods created per second during the churn. */
  latencyPodsPerSecond: number;
  heartbeatSeconds: number;
  startDelaySeconds: number;
  /** Each process writes a CPU profile here (--cpu-prof). */
  profileDir?: string;
  /** Members of an etcd cluster the API server stores in; 0: SQLite. */
  etcdMembers: number;
  /** The controller manager's --kube-api-qps and --kube-api-burst; 0: no limit. */
  controllerManagerQps: number;
  /** The scheduler's --kube-api-qps and --kube-api-burst; 0: no limit. */
  schedulerQps: number;
  /**
   * Every process with a token of its own identity (the API server with --token-auth-file and
   * RBAC), so that API Priority and Fairness classifies their requests as a cluster's.
   */
  authentication: boolean;
  /**
   * The API server's --max-requests-inflight and --max-mutating-requests-inflight (with
   * authentication, the seats API Priority and Fairness shares among its priority levels).
   */
  inflight: { reads: number; mutating: number };
  /**
   * The hollow processes' CPU niceness: they stand in for 5,000 machines, which kubemark runs
   * on a cluster of their own, and here share two cores with the control plane they load.
   */
  hollowNiceness: number;
  log: (msg: string) => void;
}

export interface Quantiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
}

export interface CallLatency extends Quantiles {
  call: string;
  mutating: boolean;
}

export interface ScaleReport {
  options: Omit<ScaleOptions, 'log'>;
  /** From the first controller created (ms since the epoch) until every pod ran. */
  fillStartedAt: number;
  fillSeconds: number;
  /** When the churn began (ms since the epoch). */
  churnStartedAt: number;
  /** Pods bound per second: over the fill, and the best 10 s of it. */
  schedulingAverage: number;
  schedulingPeak: number;
  /** Server histograms over the churn, seconds. */
  serverLatency: CallLatency[];
  /** Our own calls during the churn, seconds (client side, queueing included). */
  clientLatency: CallLatency[];
  listAllPods: { seconds: number; bytes: number; pods: number; running: number };
  listNamespace: { seconds: number; pods: number };
  watchLatency: Quantiles;
  /** The same for the latency pods' creates and their deletes apart; `early`: events seen before their write's acknowledgement (counted as 0). */
  watchLatencyByWrite: Record<'create' | 'delete', Quantiles & { early: number }>;
  podStartup: Quantiles;
  /**
   * Pod startup in two steps: create → its binding seen by the watch (the scheduler's part), then → Running seen (the node's, with the fake start delay);
   * the node's in two: bound → its container's startedAt (the node's sync and the start delay; whole seconds), then → Running seen (the status write).
   */
  podStartupSteps: { bound: Quantiles; running: Quantiles; started: Quantiles; reported: Quantiles };
  /** After the kill: all failed nodes NotReady; the pods of the first one tainted for eviction gone; how many were tainted by the end of the churn. */
  nodeFailure: { nodes: number; notReadySeconds: number; evictedSeconds: number; taintedByEnd: number };
  processes: Record<string, ProcStats & { churnCpuPercent: number }>;
  apiserverIdleRssMiB: number;
  /** The API server's own view (its /metrics) over the churn and at its end. */
  apiserverRuntime: ApiserverRuntime;
  /** This process's event-loop delay over the churn (our client's latencies include it), seconds. */
  benchEventLoop: { p99: number; max: number };
  /** Our slowest calls during the churn (slowCallSeconds or more), each split into its phases. */
  slowCalls: (TracedCall & ServerSide)[];
  /** API Priority and Fairness over the churn, by priority level (none without authentication). */
  flowControl: FlowControlFigure[];
  databaseMiB: number;
  /** The churn in windows of timelineSeconds: our slowest mutating call beside the API server's warnings. */
  timeline: TimelineWindow[];
  /** The API server's event-loop stalls (its warnings) while filling and during the churn, and the hollow nodes' process's during the churn, ms. */
  stalls: { fill: ReturnType<typeof stallTotals>; churn: ReturnType<typeof stallTotals>; nodesChurn: ReturnType<typeof stallTotals> };
  /** Connections the kernel dropped from a full listen queue (every listener of the machine) while filling and during the churn; undefined where it does not say. */
  listenOverflows: { fill?: number; churn?: number };
  /** What became of the (live) hollow process's events, from the line it logs as it stops. */
  hollowEvents: { written: number; failed: number; dropped: number; filtered: number; queued: number } | undefined;
}

export interface ApiserverRuntime {
  /** event-loop delay over the churn, seconds */
  eventLoopP99: number;
  eventLoopMax: number;
  /** garbage collections over the churn by kind (major, minor, incremental, weakcb): how many, seconds in all */
  gc: { kind: string; count: number; seconds: number }[];
  /** at the end of the churn, MiB */
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  rssMiB: number;
}

const MiB = 2 ** 20;
const timelineSeconds = 10;

/** The runtime figures of two scrapes of the API server's /metrics, at the start and end of the churn. */
function apiserverRuntime(before: string, after: string): ApiserverRuntime {
  const gcBefore = histogramTotals(before, 'nodejs_gc_duration_seconds', 'kind');
  const gc = [...histogramTotals(after, 'nodejs_gc_duration_seconds', 'kind')].map(([kind, t]) => ({
    kind,
    count: t.count - (gcBefore.get(kind)?.count ?? 0),
    seconds: t.sum - (gcBefore.get(kind)?.sum ?? 0),
  }));
  return {
    // prom-client resets its event-loop histogram at each scrape: the end's figures cover the churn.
    eventLoopP99: sampleValue(after, 'nodejs_eventloop_lag_p99_seconds'),
    eventLoopMax: sampleValue(after, 'nodejs_eventloop_lag_max_seconds'),
    gc: gc.filter((g) => g.count > 0).sort((a, b) => b.seconds - a.seconds),
    heapUsedMiB: sampleValue(after, 'nodejs_heap_size_used_bytes') / MiB,
    heapTotalMiB: sampleValue(after, 'nodejs_heap_size_total_bytes') / MiB,
    externalMiB: sampleValue(after, 'nodejs_external_memory_bytes') / MiB,
    rssMiB: sampleValue(after, 'process_resident_memory_bytes') / MiB,
  };
}

interface RcPlan {
  namespace: string;
  name: string;
  replicas: number;
}

const SIZES = [
  { size: 250, share: 0.5 },
  { size: 30, share: 0.25 },
  { size: 5, share: 0.25 },
];
const PODS_PER_NAMESPACE = 3000;

/** Controllers of 250, 30 and 5 replicas holding half, a quarter and a quarter of the pods, interleaved. */
export function rcPlan(pods: number): RcPlan[] {
  const namespaces = Math.max(1, Math.round(pods / PODS_PER_NAMESPACE));
  const lists = SIZES.map(({ size, share }) => Array.from({ length: Math.floor((pods * share) / size) }, () => size));
  let planned = lists.flat().reduce((a, b) => a + b, 0);
  for (; planned + 5 <= pods; planned += 5) lists[2].push(5);
  if (planned < pods) lists[2].push(pods - planned);
  const sizes: number[] = [];
  // Interleave so that every stretch of the fill has controllers of each size.
  const total = lists.reduce((a, l) => a + l.length, 0);
  const taken = lists.map(() => 0);
  for (let i = 0; i < total; i++) {
    let pick = 0;
    for (let j = 1; j < lists.length; j++) {
      if (taken[j] / lists[j].length < taken[pick] / lists[pick].length || taken[pick] >= lists[pick].length) pick = j;
    }
    sizes.push(lists[pick][taken[pick]++]);
  }
  return sizes.map((replicas, i) => ({ namespace: `scale-${i % namespaces}`, name: `rc-${i}`, replicas }));
}

/**
 * The bench's pods, as the density test's: one container of an image the nodes have. No
 * service account token is mounted: the agent re-reads a pod's projected volume sources from
 * the API every 30 s (the kubelet watches them), a poll that would weigh here as no
 * Kubernetes cluster's kubelets weigh.
 */
const benchPodSpec: Pod['spec'] = { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'peapod/busybox:1' }] };

function rcManifest(p: RcPlan): ReplicationController {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: p.name, namespace: p.namespace },
    spec: {
      replicas: p.replicas,
      selector: { app: p.name },
      template: { metadata: { labels: { app: p.name, group: 'scale' } }, spec: benchPodSpec },
    },
  };
}

/** Who the run's processes are when it runs with authentication: a cluster's names (see `peapod-apiserver bootstrap`). */
interface Identities {
  admin: string;
  bench: string;
  scheduler: string;
  controllerManager: string;
  nodes: string;
}
/** Our client: an ordinary user, so its requests are classified as a user's (global-default), not exempt. */
const benchUser = 'scale-bench';
/** Every hollow node's requests (the process shares its clients), in system:nodes as a node's. */
const hollowUser = 'hollow-nodes';

/** A token file of the run's identities, and their tokens. */
function writeTokens(dir: string): { file: string; of: Identities } {
  const users: Record<keyof Identities, [string, string]> = {
    admin: ['admin', 'system:masters'],
    bench: [benchUser, ''],
    scheduler: ['system:kube-scheduler', ''],
    controllerManager: ['system:kube-controller-manager', ''],
    nodes: [hollowUser, 'system:nodes'],
  };
  const of = {} as Identities;
  const lines = Object.entries(users).map(([key, [user, group]]) => {
    const token = crypto.randomBytes(16).toString('hex');
    of[key as keyof Identities] = token;
    return `${token},${user},${user},"${group}"`;
  });
  const file = path.join(dir, 'tokens.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  return { file, of };
}

/** Binds users to cluster-admin: RBAC's defaults give the scheduler and controller manager their roles, not these two. */
async function grantClusterAdmin(url: string, adminToken: string, users: string[]): Promise<void> {
  const admin = new Client({ server: url, token: adminToken });
  try {
    await admin.create('clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'scale-bench' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: users.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
    } as KubeObject);
  } finally {
    admin.close();
  }
}

/** How much a counter rose from one reading to another; undefined when either is missing. */
function difference(from: number | undefined, to: number | undefined): number | undefined {
  return from === undefined || to === undefined ? undefined : to - from;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function quantiles(values: number[]): Quantiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

/** One kind of write's watch delays in seconds, with how many of its events came before the acknowledgement. */
function delaysOf(d: WatchDelays): Quantiles & { early: number } {
  return { ...quantiles(d.delays.map((ms) => ms / 1000)), early: d.early };
}

const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

function serverLatency(h: RequestHistograms): CallLatency[] {
  return [...h]
    .filter(([, x]) => x.count >= 10)
    .map(([call, x]) => ({
      call,
      mutating: MUTATING.has(call.split(' ')[0]),
      count: x.count,
      p50: histogramQuantile(x, 0.5),
      p90: histogramQuantile(x, 0.9),
      p99: histogramQuantile(x, 0.99),
    }))
    .sort((a, b) => b.count - a.count);
}

export interface FlowControlFigure {
  level: string;
  dispatched: number;
  /** seconds */
  waitP99: number;
  rejected: number;
}

/** What API Priority and Fairness did between two scrapes, by priority level, the busiest first. */
function flowControlFigures(before: string, after: string): FlowControlFigure[] {
  const between = (name: string) => {
    const [b, a] = [countersBy(before, name, 'priority_level'), countersBy(after, name, 'priority_level')];
    return { levels: [...a.keys()], of: (level: string) => (a.get(level) ?? 0) - (b.get(level) ?? 0) };
  };
  const dispatched = between('apiserver_flowcontrol_dispatched_requests_total');
  const rejected = between('apiserver_flowcontrol_rejected_requests_total');
  const waitName = 'apiserver_flowcontrol_request_wait_duration_seconds';
  const byLevel = (labels: Record<string, string>) => labels.priority_level;
  const waits = histogramsBetween(histogramsOf(before, waitName, byLevel), histogramsOf(after, waitName, byLevel));
  return [...new Set([...dispatched.levels, ...rejected.levels])]
    .map((level) => ({ level, dispatched: dispatched.of(level), waitP99: waits.has(level) ? histogramQuantile(waits.get(level)!, 0.99) : NaN, rejected: rejected.of(level) }))
    .filter((f) => f.dispatched + f.rejected > 0)
    .sort((x, y) => y.dispatched - x.dispatched);
}

/** Sum of a counter's series whose labels include every `label="value"` given. */
function counterSum(metrics: string, name: string, match: string[]): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) || !match.every((m) => line.includes(m))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Times a GET read to its last byte, counting the occurrences of each pattern on the way (no parsing). */
function timedRead(url: string, patterns: string[], token?: string): Promise<{ seconds: number; bytes: number; counts: number[] }> {
  const started = process.hrtime.bigint();
  const mod = url.startsWith('https:') ? https : http;
  const counts = patterns.map(() => 0);
  const keep = Math.max(...patterns.map((p) => p.length)) - 1;
  return new Promise((resolve, reject) => {
    mod
      .get(url, { headers: { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) } }, (res) => {
        let bytes = 0;
        let tail = '';
        res.setEncoding('latin1');
        res.on('data', (chunk: string) => {
          bytes += chunk.length;
          const text = tail + chunk;
          patterns.forEach((p, i) => {
            for (let at = text.indexOf(p); at >= 0; at = text.indexOf(p, at + 1)) if (at + p.length > tail.length) counts[i]++;
          });
          tail = text.slice(Math.max(0, text.length - keep));
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`GET ${url} answered ${res.statusCode}`));
          else resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes, counts });
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** One of our calls, with where its time went. */
export interface TracedCall extends ObjectCall {
  phases: CallPhases;
}

/** Our calls of at least this long are listed with their phases. */
const slowCallSeconds = 0.5;

class Timings {
  readonly calls: TracedCall[] = [];
  private readonly tracer = new CallPhaseTracer();
  start(): void {
    this.tracer.start();
  }
  stop(): void {
    this.tracer.stop();
  }
  /** Times fn, our call `call` of `object` (NAMESPACE/NAME, see objectKey). */
  async time<T>(call: string, object: string, fn: () => Promise<T>): Promise<T> {
    const at = Date.now();
    const t0 = performance.now();
    const { result, phases } = this.tracer.trace(fn);
    try {
      return await result;
    } finally {
      this.calls.push({ call, object, at, seconds: (performance.now() - t0) / 1000, phases: phases() });
    }
  }
  /** The calls of slowCallSeconds or more, the slowest first. */
  slowest(max: number): TracedCall[] {
    return this.calls
      .filter((c) => c.seconds >= slowCallSeconds)
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, max);
  }
  latencies(): CallLatency[] {
    const byCall = new Map<string, number[]>();
    for (const c of this.calls) {
      const values = byCall.get(c.call);
      if (values) values.push(c.seconds);
      else byCall.set(c.call, [c.seconds]);
    }
    return [...byCall].map(([call, values]) => ({ call, mutating: MUTATING.has(call.split(' ')[0]), ...quantiles(values) }));
  }
}

function pick<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

/** Each component: running or how it exited, and its last log lines (why a fill stalled). */
function componentsState(procs: Record<string, RunningProcess>): string {
  return Object.entries(procs)
    .map(([name, p]) => `${name}: ${p.hasExited() ? 'EXITED' : 'running'}\n  ${p.logs().trim().split('\n').slice(-5).join('\n  ')}`)
    .join('\n');
}

function isReadyNode(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Runs fn every periodMs until the deadline (calls do not overlap; a failure is counted, not fatal). */
async function every(periodMs: number, until: number, errors: string[], fn: () => Promise<void>): Promise<void> {
  while (Date.now() < until) {
    const started = Date.now();
    try {
      await fn();
    } catch (err) {
      if (errors.length < 20) errors.push(err instanceof Error ? err.message : String(err));
    }
    await sleep(Math.max(0, periodMs - (Date.now() - started)));
  }
}

export async function runScaleBench(opts: ScaleOptions): Promise<ScaleReport> {
  const { log } = opts;
  const failing = opts.failingNodes ?? Math.max(1, Math.round(opts.nodes / 100));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-scale-'));
  // An interrupted run (the bench exits on a signal) leaves no database behind either.
  const removeDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  // Every process holds every pod (the API server also every event): room to grow with them.
  const heapMiB = (perPodBytes: number): number => Math.max(4096, Math.ceil((opts.pods * perPodBytes) / 2 ** 20));
  const nodeArgs = (name: string): string[] => [
    `--max-old-space-size=${heapMiB(name === 'apiserver' ? 80_000 : 40_000)}`,
    ...(opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(opts.profileDir, name)] : []),
  ];
  const procs: Record<string, RunningProcess> = {};
  let api: RunningApiServer | undefined;
  let etcd: EtcdCluster | undefined;
  let client: Client | undefined;
  const stops: (() => void)[] = [];
  try {
    // 8 GiB, the quota Kubernetes recommends at most: the default 2 GiB is near what 150,000 pods and their history take.
    etcd = opts.etcdMembers > 0 ? await startEtcdCluster(opts.etcdMembers, undefined, { quotaBackendBytes: 8 * 2 ** 30 }) : undefined;
    const storageArgs = etcd ? ['--storage-backend', 'etcd3', '--etcd-servers', etcd.endpoints.join(',')] : [];
    const tokens = opts.authentication ? writeTokens(dir) : undefined;
    const authArgs = tokens ? ['--token-auth-file', tokens.file] : [];
    const inflightArgs = ['--max-requests-inflight', String(opts.inflight.reads), '--max-mutating-requests-inflight', String(opts.inflight.mutating)];
    api = await startApiServer({ dataDir: path.join(dir, 'apiserver'), args: [...storageArgs, ...authArgs, ...inflightArgs], nodeArgs: nodeArgs('apiserver'), timeoutMs: 60_000 });
    const url = api.url;
    if (tokens) await grantClusterAdmin(url, tokens.of.admin, [benchUser, hollowUser]);
    const tokenArgs = (user: keyof Identities): string[] => (tokens ? ['--token', tokens.of[user]] : []);
    client = new Client({ server: url, maxSockets: 64, token: tokens?.of.bench });
    const c = client;
    const apiserverIdleRssMiB = procStats(api.pid).rssMiB;
    // Burst equal to the rate, as Kubernetes' own scale tests set both.
    const rate = (qps: number): string[] => ['--kube-api-qps', String(qps), '--kube-api-burst', String(Math.max(1, qps))];
    procs.scheduler = startComponent('scheduler', ['--server', url, ...tokenArgs('scheduler'), ...rate(opts.schedulerQps)], { nodeArgs: nodeArgs('scheduler') });
    procs['controller-manager'] = startComponent('controller-manager', ['--server', url, ...tokenArgs('controllerManager'), '--pod-eviction-timeout', '30s', ...rate(opts.controllerManagerQps)], { nodeArgs: nodeArgs('controller-manager') });
    const hollow = (nodes: number, prefix: string, cidr: string): RunningProcess =>
      startComponent('hollow', [
        '--server', url,
        ...tokenArgs('nodes'),
        '--nodes', String(nodes),
        '--name-prefix', prefix,
        '--cluster-cidr', cidr,
        '--address', '127.0.0.1',
        '--heartbeat-interval', String(opts.heartbeatSeconds),
        '--fake-start-delay', String(opts.startDelaySeconds),
        '--max-pods', String(Math.max(110, Math.ceil((3 * opts.pods) / opts.nodes))),
        '--log-level', 'warn',
      ], { nodeArgs: nodeArgs(`hollow-${prefix}`), niceness: opts.hollowNiceness });
    procs.hollow = hollow(opts.nodes - failing, 'hollow-', '10.128.0.0/9');
    procs['hollow-failing'] = hollow(failing, 'failing-', '10.32.0.0/11');
    log(`starting ${opts.nodes} hollow nodes (${failing} of them to fail)`);
    const readyTimeout = 120_000 + opts.nodes * 50;
    await Promise.all([procs.hollow, procs['hollow-failing']].map((p) => p.ready(/"msg":"nodes running"/, readyTimeout)));
    for (;;) {
      const ready = (await c.list<Node>('nodes')).items.filter(isReadyNode).length;
      if (ready === opts.nodes) break;
      log(`${ready}/${opts.nodes} nodes Ready`);
      await sleep(5000);
    }

    // --- fill ---
    const plan = rcPlan(opts.pods);
    const namespaces = [...new Set(plan.map((p) => p.namespace)), 'latency'];
    for (const ns of namespaces) await c.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // Pods are admitted only once their namespace's default service account exists.
    const accountsBy = Date.now() + 60_000;
    for (const ns of namespaces) {
      for (;;) {
        try {
          await c.get('serviceaccounts', 'default', { namespace: ns });
          break;
        } catch (err) {
          if (Date.now() > accountsBy) throw new Error(`namespace ${ns} has no default service account after a minute: ${String(err)}`);
          await sleep(200);
        }
      }
    }
    log(`filling: ${opts.pods} pods in ${plan.length} replication controllers at ${opts.fillRate} pods/s`);
    const scrape = async (): Promise<string> => String((await c.request('GET', '/metrics')).body);
    const binds = (text: string): number => counterSum(text, 'apiserver_request_total', ['verb="create"', 'resource="pods"', 'subresource="binding"', 'code="201"']);
    const fillStart = Date.now();
    const overflowsAtFill = listenOverflows();
    const bindSamples: { at: number; binds: number }[] = [{ at: fillStart, binds: binds(await scrape()) }];
    let created = 0;
    let createError: unknown;
    const creating = (async () => {
      for (const p of plan) {
        await c.create('replicationcontrollers', rcManifest(p));
        created += p.replicas;
        await sleep(Math.max(0, fillStart + (created / opts.fillRate) * 1000 - Date.now()));
      }
    })().catch((err: unknown) => {
      createError = err;
    });
    let lastReady = -1;
    let lastProgress = Date.now();
    for (;;) {
      await sleep(5000);
      if (createError !== undefined) throw createError;
      let ready: number;
      try {
        const rcs = (await c.list<ReplicationController>('replicationcontrollers')).items;
        ready = rcs.reduce((sum, rc) => sum + (rc.status?.readyReplicas ?? 0), 0);
        bindSamples.push({ at: Date.now(), binds: binds(await scrape()) });
      } catch (err) {
        // A progress check the busy server did not answer in time is tried again; the stall check below still ends a fill that stopped.
        if (Date.now() - lastProgress > 180_000) throw err;
        log(`${((Date.now() - fillStart) / 1000).toFixed(0)} s: progress check failed, trying again: ${String(err)}`);
        continue;
      }
      log(`${((Date.now() - fillStart) / 1000).toFixed(0)} s: ${created} pods asked for, ${ready} ready`);
      if (ready >= opts.pods) break;
      if (ready !== lastReady) lastProgress = Date.now();
      else if (Date.now() - lastProgress > 180_000) throw new Error(`the fill stalled at ${ready}/${opts.pods} ready pods\n${componentsState(procs)}`);
      lastReady = ready;
    }
    await creating;
    const fillSeconds = (Date.now() - fillStart) / 1000;
    const totalBinds = bindSamples[bindSamples.length - 1].binds - bindSamples[0].binds;
    let schedulingPeak = 0;
    for (let i = 0; i < bindSamples.length; i++) {
      for (let j = i + 1; j < bindSamples.length; j++) {
        if (bindSamples[j].at - bindSamples[i].at >= 10_000) {
          schedulingPeak = Math.max(schedulingPeak, ((bindSamples[j].binds - bindSamples[i].binds) * 1000) / (bindSamples[j].at - bindSamples[i].at));
          break;
        }
      }
    }

    // --- churn ---
    log(`churn for ${opts.churnSeconds} s`);
    const etcdPids = etcd?.pids() ?? [];
    const measured = (): [string, number][] => [
      ['apiserver', api!.pid],
      ...Object.entries(procs).flatMap(([k, p]): [string, number][] => (p.hasExited() ? [] : [[k, p.pid]])),
      ...etcdPids.map((pid, i): [string, number] => [`etcd-${i}`, pid]),
    ];
    const cpuBefore = Object.fromEntries(measured().map(([k, pid]) => [k, procStats(pid).cpuSeconds]));
    const scrapeBefore = await scrape();
    const metricsBefore = requestHistograms(scrapeBefore);
    const ownLoop = monitorEventLoopDelay({ resolution: 10 });
    ownLoop.enable();
    const churnStart = Date.now();
    const pressure: PressureSample[] = [];
    const samplePressure = (): void => {
      pressure.push({ at: Date.now(), ...pressureTotals(), listenOverflows: listenOverflows() });
    };
    samplePressure();
    const pressureTimer = setInterval(samplePressure, timelineSeconds * 1000);
    stops.push(() => clearInterval(pressureTimer));
    const until = churnStart + opts.churnSeconds * 1000;
    const timings = new Timings();
    timings.start();
    stops.push(() => timings.stop());
    const errors: string[] = [];
    // `current`: the replicas the churn last set, so that each scale patch's change is known.
    const rcs = plan.map((p) => ({ ...p, current: p.replicas }));
    const scales: ScaleChange[] = [];
    const nodeNames = Array.from({ length: opts.nodes - failing }, (_, i) => `hollow-${i}`);
    // The failed nodes alone: a list of every node each 5 s (20 MB at 5,000) would weigh on the churn as no SLO test's watcher does.
    const failedSelector = `kubernetes.io/hostname in (${Array.from({ length: failing }, (_, i) => `failing-${i}`).join(',')})`;

    const latencyRv = (await c.list('pods', { namespace: 'latency', limit: 1 })).metadata.resourceVersion;
    // performance.now() times, and wall-clock ones (ms since the epoch) to set beside the pod's startedAt.
    const latency = new Map<string, { createdAt: number; createdWall: number; boundAt?: number; boundWall?: number; runningAt?: number; runningWall?: number; startedWall?: number }>();
    const watchDelays = { create: new WatchDelays(), delete: new WatchDelays() };
    const latencyWatch = c.watch<Pod>('pods', { namespace: 'latency', resourceVersion: latencyRv }, (e) => {
      const name = e.object.metadata.name ?? '';
      const rec = latency.get(name);
      if (!rec) return;
      const now = performance.now();
      if (e.type === 'ADDED') watchDelays.create.seen(name, now);
      if (e.object.metadata.deletionTimestamp) watchDelays.delete.seen(name, now);
      if (rec.boundAt === undefined && e.object.spec?.nodeName) {
        rec.boundAt = now;
        rec.boundWall = Date.now();
      }
      if (rec.runningAt === undefined && e.object.status?.phase === 'Running') {
        rec.runningAt = now;
        rec.runningWall = Date.now();
        const startedAt = e.object.status.containerStatuses?.[0]?.state?.running?.startedAt;
        if (startedAt) rec.startedWall = Date.parse(startedAt);
        void timings
          .time('delete pods', objectKey('latency', name), () => c.delete('pods', name, { namespace: 'latency' }))
          .then(() => watchDelays.delete.acknowledged(name, performance.now()))
          .catch((err: unknown) => errors.push(String(err)));
      }
    });
    stops.push(() => latencyWatch.stop());

    const killedAt = Date.now();
    await procs['hollow-failing'].kill('SIGKILL');
    let notReadyAt = 0;
    let evictedAt = 0;
    let latencyIndex = 0;
    await Promise.all([
      every(1000 / opts.latencyPodsPerSecond, until, errors, async () => {
        const name = `latency-${latencyIndex++}`;
        latency.set(name, { createdAt: performance.now(), createdWall: Date.now() });
        await timings.time('create pods', objectKey('latency', undefined), () =>
          c.create<Pod>('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'latency' }, spec: benchPodSpec }),
        );
        watchDelays.create.acknowledged(name, performance.now());
      }),
      every(2000, until, errors, async () => {
        const rc = pick(rcs);
        const replicas = Math.max(0, Math.round(rc.replicas * (0.5 + Math.random())));
        const at = Date.now();
        await timings.time('patch replicationcontrollers/scale', objectKey(rc.namespace, rc.name), () =>
          c.patch('replicationcontrollers', rc.name, { spec: { replicas } }, 'merge', { namespace: rc.namespace, subresource: 'scale' }),
        );
        scales.push({ at, delta: replicas - rc.current });
        rc.current = replicas;
      }),
      every(1000, until, errors, async () => {
        const rc = pick(rcs);
        const pods = await timings.time('list pods (one controller)', objectKey(rc.namespace, undefined), () => c.list<Pod>('pods', { namespace: rc.namespace, labelSelector: `app=${rc.name}` }));
        for (const victim of pods.items.slice(0, 3)) {
          const victimName = victim.metadata.name ?? '';
          await timings.time('delete pods', objectKey(rc.namespace, victimName), () => c.delete('pods', victimName, { namespace: rc.namespace }));
        }
      }),
      every(100, until, errors, async () => {
        const rc = pick(rcs);
        await timings.time('get replicationcontrollers', objectKey(rc.namespace, rc.name), () => c.get<KubeObject>('replicationcontrollers', rc.name, { namespace: rc.namespace }));
        const nodeName = pick(nodeNames);
        await timings.time('get nodes', objectKey(undefined, nodeName), () => c.get<Node>('nodes', nodeName));
      }),
      every(5000, until, errors, async () => {
        if (evictedAt) return;
        const failed = (await c.list<Node>('nodes', { labelSelector: failedSelector })).items;
        if (!notReadyAt && failed.length === failing && failed.every((n) => !isReadyNode(n))) notReadyAt = Date.now();
        // The controller manager taints unreachable nodes at its --node-eviction-rate: the first one tainted is evicted first.
        const taintedAt = (n: Node) => unreachableTaint(n)?.timeAdded ?? '';
        const first = failed.filter((n) => unreachableTaint(n) !== undefined).sort((a, b) => taintedAt(a).localeCompare(taintedAt(b)))[0];
        if (!first) return;
        const left = await c.list<Pod>('pods', { fieldSelector: `spec.nodeName=${first.metadata.name}` });
        if (left.items.length === 0) evictedAt = Date.now();
      }),
    ]);
    ownLoop.disable();
    const churnEnd = Date.now();
    const taintedByEnd = (await c.list<Node>('nodes', { labelSelector: failedSelector })).items.filter((n) => unreachableTaint(n) !== undefined).length;
    samplePressure();
    clearInterval(pressureTimer);
    const scrapeAfter = await scrape();
    const metricsAfter = requestHistograms(scrapeAfter);
    const churnSeconds = (Date.now() - churnStart) / 1000;
    const processes: ScaleReport['processes'] = {};
    for (const [k, pid] of measured()) {
      if (cpuBefore[k] === undefined) continue;
      const s = procStats(pid);
      processes[k] = { ...s, churnCpuPercent: (100 * (s.cpuSeconds - cpuBefore[k])) / churnSeconds };
    }
    latencyWatch.stop();
    if (errors.length > 0) log(`churn errors (first ${errors.length}): ${errors.join('; ')}`);

    // --- lists, once the churn is over ---
    log('listing every pod');
    const all = await timedRead(`${url}/api/v1/pods`, ['"kind":"Pod"', '"phase":"Running"'], tokens?.of.bench);
    const oneNamespace = await timedRead(`${url}/api/v1/namespaces/scale-0/pods`, ['"kind":"Pod"'], tokens?.of.bench);
    // The live hollow process says, as it stops, what became of its nodes' events.
    await procs.hollow.kill('SIGTERM', 30_000);
    const eventsLine = /\{[^\n]*"msg":"events"[^\n]*\}/.exec(procs.hollow.logs());
    const warnings = logWarnings(api.logs());
    const nodeWarnings = logWarnings(procs.hollow.logs());
    const started = [...latency.values()].filter((r) => r.runningAt !== undefined);
    const startups = started.map((r) => (r.runningAt! - r.createdAt) / 1000);
    // A pod bound and Running in one event counts its whole startup as the scheduler's part.
    const boundAt = (r: { boundAt?: number; runningAt?: number }) => r.boundAt ?? r.runningAt!;
    // startedAt has whole seconds: it is up to a second early, which these steps show as it is.
    const withStart = started.filter((r) => r.startedWall !== undefined && r.boundWall !== undefined);
    const report: ScaleReport = {
      options: { ...opts, failingNodes: failing },
      fillStartedAt: fillStart,
      churnStartedAt: churnStart,
      fillSeconds,
      schedulingAverage: totalBinds / ((bindSamples[bindSamples.length - 1].at - bindSamples[0].at) / 1000),
      schedulingPeak,
      serverLatency: serverLatency(histogramsBetween(metricsBefore, metricsAfter)),
      clientLatency: timings.latencies(),
      listAllPods: { seconds: all.seconds, bytes: all.bytes, pods: all.counts[0], running: all.counts[1] },
      listNamespace: { seconds: oneNamespace.seconds, pods: oneNamespace.counts[0] },
      watchLatency: quantiles([...watchDelays.create.delays, ...watchDelays.delete.delays].map((ms) => ms / 1000)),
      watchLatencyByWrite: { create: delaysOf(watchDelays.create), delete: delaysOf(watchDelays.delete) },
      podStartup: quantiles(startups),
      podStartupSteps: {
        bound: quantiles(started.map((r) => (boundAt(r) - r.createdAt) / 1000)),
        running: quantiles(started.map((r) => (r.runningAt! - boundAt(r)) / 1000)),
        started: quantiles(withStart.map((r) => (r.startedWall! - r.boundWall!) / 1000)),
        reported: quantiles(withStart.map((r) => (r.runningWall! - r.startedWall!) / 1000)),
      },
      nodeFailure: { nodes: failing, notReadySeconds: notReadyAt ? (notReadyAt - killedAt) / 1000 : NaN, evictedSeconds: evictedAt ? (evictedAt - killedAt) / 1000 : NaN, taintedByEnd },
      processes,
      apiserverIdleRssMiB,
      apiserverRuntime: apiserverRuntime(scrapeBefore, scrapeAfter),
      benchEventLoop: { p99: ownLoop.percentile(99) / 1e9, max: ownLoop.max / 1e9 },
      slowCalls: timings.slowest(10).map((call) => ({ ...call, ...serverSideOf(call, warnings) })),
      flowControl: flowControlFigures(scrapeBefore, scrapeAfter),
      databaseMiB: directoryBytes(etcd ? etcd.dataDir : api.dataDir) / MiB,
      timeline: timeline(churnStart, churnEnd, timelineSeconds, {
        calls: timings.calls.filter((c) => MUTATING.has(c.call.split(' ')[0])),
        warnings,
        pressure,
        startups: started.map((r) => ({ call: 'pod startup', at: r.createdWall, seconds: (r.runningAt! - r.createdAt) / 1000 })),
        nodeWarnings,
        scales,
      }),
      stalls: {
        fill: stallTotals(warnings, Math.max(fillStart, logsFrom(api.logs())), fillStart + fillSeconds * 1000),
        churn: stallTotals(warnings, churnStart, churnEnd),
        nodesChurn: stallTotals(nodeWarnings, churnStart, churnEnd),
      },
      listenOverflows: {
        fill: difference(overflowsAtFill, pressure[0].listenOverflows),
        churn: difference(pressure[0].listenOverflows, pressure[pressure.length - 1].listenOverflows),
      },
      hollowEvents: eventsLine ? (JSON.parse(eventsLine[0]) as ScaleReport['hollowEvents']) : undefined,
    };
    return report;
  } catch (err) {
    // The bench's error is one line; its cause is in the server's log, which goes with the run's directory.
    for (const line of errorLines(api?.logs() ?? '', 20)) log(`API server: ${line}`);
    throw err;
  } finally {
    for (const stop of stops) stop();
    client?.close();
    // SIGTERM lets a profiled process write its profile.
    for (const p of Object.values(procs)) await p.kill('SIGTERM', 30_000);
    await api?.kill('SIGTERM', 30_000);
    await etcd?.stop();
    process.off('exit', removeDir);
    removeDir();
  }
}

function stallFigures(s: ReturnType<typeof stallTotals>): string {
  return `${s.count}, ${fmtSeconds(s.totalMs / 1000)} (${fmtSeconds(s.gcMs / 1000)}), ${fmtSeconds(s.longestMs / 1000)}`;
}

/** Our slowest calls split at the request made, its headers sent and the response's headers read (see call-phases.ts). */
function slowCallsTable(r: ScaleReport): string[] {
  if (r.slowCalls.length === 0) return [];
  const ms = (x: number | undefined): string => (x === undefined ? '-' : fmtSeconds(x / 1000));
  return [
    `| our slowest calls during churn (${fmtSeconds(slowCallSeconds)} or more) | at (s into the churn) | took | before its request (our client) | the request made → sent (a connection) | on a new connection (the server accepts one connection a turn of its loop from each descriptor of its listening socket) | sent → the response's headers (the server and the kernel) | the body | the API server's own time for it (its log; none under ${fmtSeconds(serverSlowRequestSeconds)}) | the API server's stalls while it was out: count, time |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.slowCalls.map(
      (c) =>
        `| ${c.call} | ${((c.at - r.churnStartedAt) / 1000).toFixed(1)} | ${fmtSeconds(c.seconds)} | ${ms(c.phases.toRequestMs)} | ${ms(c.phases.toSendMs)} | ${c.phases.newConnection === undefined ? '-' : c.phases.newConnection ? 'yes' : 'no'} | ${ms(c.phases.toResponseMs)} | ${ms(c.phases.bodyMs)} | ${c.serverSeconds === undefined ? `under ${fmtSeconds(serverSlowRequestSeconds)}` : fmtSeconds(c.serverSeconds)} | ${c.stalls}, ${fmtSeconds(c.stallMs / 1000)} |`,
    ),
    '',
  ];
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return 'n/a';
  return s < 1 ? `${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms` : `${s.toFixed(2)} s`;
}

/** The last `most` lines a component logged at level error. */
function errorLines(logs: string, most: number): string[] {
  return logs.split('\n').filter((line) => line.includes('"level":"error"')).slice(-most);
}

function rateLimit(qps: number): string {
  return qps > 0 ? `at most ${qps}` : 'no limit';
}

/** The report as Markdown: the SLO table first, then the detail. */
export function formatReport(r: ScaleReport): string {
  const o = r.options;
  const mutating = r.serverLatency.filter((x) => x.mutating);
  const reads = r.serverLatency.filter((x) => x.call.startsWith('get '));
  const worst = (xs: CallLatency[]) => xs.reduce((a, b) => (b.p99 > a.p99 || !Number.isFinite(a.p99) ? b : a), { call: 'none', p99: NaN } as CallLatency);
  const wm = worst(mutating);
  const wr = worst(reads);
  const cm = worst(r.clientLatency.filter((x) => x.mutating));
  const cr = worst(r.clientLatency.filter((x) => x.call.startsWith('get ')));
  const rt = r.apiserverRuntime;
  const ok = (v: number, limit: number) => (Number.isFinite(v) ? (v <= limit ? 'yes' : '**no**') : 'n/a');
  const lines = [
    `Scale: ${o.nodes} hollow nodes, ${o.pods} pods in replication controllers, filled at ${o.fillRate} pods/s, ${o.churnSeconds} s of churn (${r.nodeFailure.nodes} nodes failing, ${o.latencyPodsPerSecond} latency pods/s); stored in ${o.etcdMembers > 0 ? `etcd (${o.etcdMembers} member${o.etcdMembers > 1 ? 's' : ''})` : 'SQLite'}; clients' requests/s: ${rateLimit(o.controllerManagerQps)} (controller manager), ${rateLimit(o.schedulerQps)} (scheduler); ${o.authentication ? 'authentication on, each process as its own user (API Priority and Fairness)' : 'no authentication (requests let in as they come)'}; API server's --max-requests-inflight / --max-mutating-requests-inflight: ${o.inflight.reads} / ${o.inflight.mutating}; the hollow processes at CPU niceness ${o.hollowNiceness}.`,
    '',
    '| SLI | measured | SLO | met |',
    '|---|---|---|---|',
    `| mutating API calls, p99, server side (worst: ${wm.call}) | ${fmtSeconds(wm.p99)} | ≤ 1 s | ${ok(wm.p99, 1)} |`,
    `| mutating API calls, p99, our client (worst: ${cm.call}) | ${fmtSeconds(cm.p99)} | ≤ 1 s | ${ok(cm.p99, 1)} |`,
    `| single-object reads, p99, server side (worst: ${wr.call}) | ${fmtSeconds(wr.p99)} | ≤ 1 s | ${ok(wr.p99, 1)} |`,
    `| single-object reads, p99, our client (worst: ${cr.call}) | ${fmtSeconds(cr.p99)} | ≤ 1 s | ${ok(cr.p99, 1)} |`,
    `| LIST of all ${r.listAllPods.pods} pods | ${fmtSeconds(r.listAllPods.seconds)} | ≤ 30 s | ${ok(r.listAllPods.seconds, 30)} |`,
    `| LIST of one namespace's ${r.listNamespace.pods} pods | ${fmtSeconds(r.listNamespace.seconds)} | ≤ 5 s | ${ok(r.listNamespace.seconds, 5)} |`,
    `| pod startup (create → Running seen by a watch), p99 of ${r.podStartup.count} | ${fmtSeconds(r.podStartup.p99)} | ≤ 5 s | ${ok(r.podStartup.p99, 5)} |`,
    '',
    '| figure | value |',
    '|---|---|',
    `| pod startup p50 / p90 (fake start delay ${o.startDelaySeconds} s included) | ${fmtSeconds(r.podStartup.p50)} / ${fmtSeconds(r.podStartup.p90)} |`,
    `| pod startup in steps, p50 / p99: create → bound (the scheduler), bound → Running (the node) | ${fmtSeconds(r.podStartupSteps.bound.p50)} / ${fmtSeconds(r.podStartupSteps.bound.p99)}; ${fmtSeconds(r.podStartupSteps.running.p50)} / ${fmtSeconds(r.podStartupSteps.running.p99)} |`,
    `| the node's step in two, p50 / p99: bound → container started (its sync and the start delay; startedAt has whole seconds), started → Running seen (its status write) | ${fmtSeconds(r.podStartupSteps.started.p50)} / ${fmtSeconds(r.podStartupSteps.started.p99)}; ${fmtSeconds(r.podStartupSteps.reported.p50)} / ${fmtSeconds(r.podStartupSteps.reported.p99)} |`,
    `| watch event latency p50 / p99 (write acknowledged → event seen) | ${fmtSeconds(r.watchLatency.p50)} / ${fmtSeconds(r.watchLatency.p99)} |`,
    ...(['create', 'delete'] as const).map((w) => {
      const q = r.watchLatencyByWrite[w];
      return `| the same for the latency pods' ${w}s: p50 / p99 of ${q.count} (of them seen before the acknowledgement, counted as 0: ${q.early}) | ${fmtSeconds(q.p50)} / ${fmtSeconds(q.p99)} |`;
    }),
    `| fill: all ${o.pods} pods Running after | ${r.fillSeconds.toFixed(0)} s |`,
    `| scheduling throughput while filling: average / best 10 s | ${r.schedulingAverage.toFixed(0)} / ${r.schedulingPeak.toFixed(0)} pods/s |`,
    `| failed nodes NotReady / the first one's pods evicted, after the kill; failed nodes tainted for eviction by the end (the controller manager's --node-eviction-rate) | ${fmtSeconds(r.nodeFailure.notReadySeconds)} / ${fmtSeconds(r.nodeFailure.evictedSeconds)}; ${r.nodeFailure.taintedByEnd} of ${r.nodeFailure.nodes} |`,
    `| pods Running at the end (LIST) | ${r.listAllPods.running} |`,
    `| pod JSON size, average (LIST bytes / pods) | ${(r.listAllPods.bytes / Math.max(1, r.listAllPods.pods)).toFixed(0)} bytes |`,
    `| API server memory per stored pod ((RSS - idle RSS) / pods) | ${(((r.processes.apiserver?.rssMiB ?? NaN) - r.apiserverIdleRssMiB) * MiB / Math.max(1, r.listAllPods.pods)).toFixed(0)} bytes |`,
    `| database size | ${r.databaseMiB.toFixed(0)} MiB |`,
    `| API server event-loop delay during churn, p99 / max | ${fmtSeconds(rt.eventLoopP99)} / ${fmtSeconds(rt.eventLoopMax)} |`,
    `| API server garbage collection during churn (count, time) | ${rt.gc.map((g) => `${g.kind} ${g.count}, ${fmtSeconds(g.seconds)}`).join('; ')} |`,
    `| API server memory at the end: heap used / heap total / external / RSS | ${[rt.heapUsedMiB, rt.heapTotalMiB, rt.externalMiB, rt.rssMiB].map((m) => `${m.toFixed(0)} MiB`).join(' / ')} |`,
    `| API server heap used per stored pod | ${((rt.heapUsedMiB * MiB) / Math.max(1, r.listAllPods.pods)).toFixed(0)} bytes |`,
    `| hollow nodes' events: written / dropped (queue full) / filtered (spam) / failed | ${r.hollowEvents ? [r.hollowEvents.written, r.hollowEvents.dropped, r.hollowEvents.filtered, r.hollowEvents.failed].join(' / ') : 'n/a'} |`,
    `| connections dropped from a full listen queue (the kernel's ListenOverflows: each waits a second or more to be read) while filling / during churn | ${r.listenOverflows.fill ?? 'n/a'} / ${r.listenOverflows.churn ?? 'n/a'} |`,
    `| our client's own event-loop delay during churn, p99 / max | ${fmtSeconds(r.benchEventLoop.p99)} / ${fmtSeconds(r.benchEventLoop.max)} |`,
    ...(['fill', 'churn'] as const).map((phase) => {
      const s = r.stalls[phase];
      // The harness keeps the last MiBs of a process's log: a long fill's start may be gone.
      const since = phase === 'fill' && s.from > r.fillStartedAt ? ` (its last ${((r.fillStartedAt + r.fillSeconds * 1000 - s.from) / 1000).toFixed(0)} s, the log kept)` : '';
      return `| API server event-loop stalls ≥ 100 ms ${phase === 'fill' ? 'while filling' : 'during churn'}${since}: count, total (GC in them), longest | ${stallFigures(s)} |`;
    }),
    `| hollow nodes' process (the live one): event-loop stalls ≥ 100 ms during churn: count, total (GC in them), longest | ${stallFigures(r.stalls.nodesChurn)} |`,
    '',
    '| process | RSS | peak RSS | CPU during churn |',
    '|---|---|---|---|',
    ...Object.entries(r.processes).map(([k, p]) => `| ${k} | ${p.rssMiB.toFixed(0)} MiB | ${p.peakRssMiB.toFixed(0)} MiB | ${p.churnCpuPercent.toFixed(0)} % |`),
    ...(r.flowControl.length > 0
      ? [
          '',
          '| priority level (API Priority and Fairness) during churn | requests let in | their wait in a queue, p99 | turned away (429) |',
          '|---|---|---|---|',
          ...r.flowControl.map((f) => `| ${f.level} | ${f.dispatched} | ${fmtSeconds(f.waitP99)} | ${f.rejected} |`),
        ]
      : []),
    '',
    '| API call during churn (server histograms) | calls | p50 | p99 |',
    '|---|---|---|---|',
    ...r.serverLatency.map((x) => `| ${x.call} | ${x.count} | ${fmtSeconds(x.p50)} | ${fmtSeconds(x.p99)} |`),
    '',
    '| our own calls during churn (client side) | calls | p50 | p99 |',
    '|---|---|---|---|',
    ...r.clientLatency.map((x) => `| ${x.call} | ${x.count} | ${fmtSeconds(x.p50)} | ${fmtSeconds(x.p99)} |`),
    '',
    ...slowCallsTable(r),
    `| churn, ${timelineSeconds} s windows (by start) | the churn's scale patches: replicas added / removed | our slowest mutating call | latency pods created: slowest startup (how many over ${slowStartupSeconds} s) | API server: requests ≥ 0.5 s, slowest | event-loop stalls ≥ 100 ms, longest (its GC, its CPU) | slow steps ≥ 100 ms (count, longest) | hollow nodes' stalls ≥ 100 ms, longest (its GC, its CPU) | machine waiting for CPU / disk | connections dropped from a full listen queue |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.timeline.map((w) => {
      const slowest = (x: { what: string; seconds: number } | undefined) => (x ? `${x.what} ${fmtSeconds(x.seconds)}` : '-');
      const steps = [...w.steps].map(([step, x]) => `${step} ${x.count}, ${fmtSeconds(x.maxMs / 1000)}`).join('; ') || '-';
      const stalls = w.stalls ? `${w.stalls}, ${fmtSeconds(w.longestStallMs / 1000)} (${fmtSeconds(w.longestStallGcMs / 1000)}, ${fmtSeconds(w.longestStallCpuMs / 1000)})` : '-';
      const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(0)} %`);
      const startups = w.startups ? `${fmtSeconds(w.slowestStartup)} (${w.slowStartups})` : '-';
      const nodeStalls = w.nodeStalls ? `${w.nodeStalls}, ${fmtSeconds(w.longestNodeStallMs / 1000)} (${fmtSeconds(w.longestNodeStallGcMs / 1000)}, ${fmtSeconds(w.longestNodeStallCpuMs / 1000)})` : '-';
      return `| ${w.from}-${w.from + timelineSeconds} s | +${w.scaledUp} / −${w.scaledDown} | ${slowest(w.client)} | ${startups} | ${w.slowRequests ? `${w.slowRequests}, ${slowest(w.server)}` : '-'} | ${stalls} | ${steps} | ${nodeStalls} | ${pct(w.cpuPressure)} / ${pct(w.ioPressure)} | ${w.listenOverflows ?? 'n/a'} |`;
    }),
  ];
  return lines.join('\n');
}
