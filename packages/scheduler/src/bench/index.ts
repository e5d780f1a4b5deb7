// Benchmarks: the scheduling algorithm in process (decide and assume every pod, no API
// server in the loop), and the whole path end to end (real API server and scheduler
// processes, pods created over HTTP, timed until the last one is bound).

import type { Node, Pod } from '@peapod/api';
import { Client } from '@peapod/client';
import { Algorithm, FitError } from '../algorithm';
import { SchedulerCache } from '../cache';
import { makeNode, makePod } from '../fixtures';
import type { NodeShape, PodShape } from '../fixtures';
import { podInfoFor } from '../pod-info';
import { defaultFramework } from '../plugins';
import { createAll, nodeManifest, podManifest } from '../testing/cluster';
import { cpuSecondsOf, startApiServer, unlimitedRate } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';
import { startScheduler } from '../testing/processes';
import { defaultMaxRequestsInFlight } from '../scheduler';
import { BindClock } from './bind-clock';

/** The i-th benchmark node: 32 cpu / 128Gi / 110 pods, with a zone label in five. */
function benchNodeShape(i: number): NodeShape {
  return { cpu: '32', memory: '128Gi', labels: { zone: `zone-${i % 5}` } };
}

/** The i-th benchmark pod: 100m / 128Mi, in groups of 50 owned by one controller. */
function benchPodShape(i: number): PodShape {
  return { cpu: '100m', memory: '128Mi', ownerUid: `rc-${Math.floor(i / 50)}` };
}

/** `count` equal benchmark nodes, node-0 to node-(count-1). */
export function benchNodes(count: number): Node[] {
  return Array.from({ length: count }, (_, i) => makeNode(`node-${i}`, benchNodeShape(i)));
}

/** `count` benchmark pods, pod-0 to pod-(count-1). */
export function benchPods(count: number): Pod[] {
  return Array.from({ length: count }, (_, i) => makePod(`pod-${i}`, benchPodShape(i)));
}

export interface BenchOptions {
  percentageOfNodesToScore?: number;
}

/** Schedules the pods onto the nodes (numbers make synthetic ones) and returns pods per second. */
export function benchAlgorithm(nodes: Node[] | number, pods: Pod[] | number, opts: BenchOptions = {}): number {
  const nodeList = typeof nodes === 'number' ? benchNodes(nodes) : nodes;
  const podList = typeof pods === 'number' ? benchPods(pods) : pods;
  const cache = new SchedulerCache();
  for (const node of nodeList) cache.addNode(node);
  const algorithm = new Algorithm(defaultFramework(), cache, opts);
  const started = process.hrtime.bigint();
  for (const pod of podList) {
    const info = podInfoFor(pod);
    const result = algorithm.schedule(info);
    if (!(result instanceof FitError)) cache.assumePod(info, result);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return podList.length / Math.max(seconds, 1e-9);
}

export interface EndToEndOptions {
  nodes: number;
  pods: number;
  /** Pod creations in flight at once; default 32. */
  concurrency?: number;
  /** Extra flags for the scheduler, e.g. ['--percentage-of-nodes-to-score', '50']. */
  schedulerArgs?: string[];
  /** Node flags for each process, e.g. ['--cpu-prof', '--cpu-prof-dir', DIR] to profile it. */
  apiserverNodeArgs?: string[];
  schedulerNodeArgs?: string[];
  /** Give up when no pod has been bound for this long; default 30 s. */
  stallTimeoutMs?: number;
  /** Progress notes. */
  log?: (msg: string) => void;
}

export interface EndToEndResult {
  nodes: number;
  pods: number;
  /** pods / seconds: the figure to compare with the goal of 500. */
  podsPerSecond: number;
  /** From the first pod creation until the last pod was seen bound. */
  seconds: number;
  /** From the first pod creation until the API server had taken the last one. */
  createSeconds: number;
  /** The creation rate in the same run: the ceiling the scheduler is held to. */
  createsPerSecond: number;
  /** How long the last bind came after the last creation. */
  tailSeconds: number;
}

/**
 * Starts an API server (fresh data directory) and a scheduler as processes, registers
 * `nodes` Ready nodes of 32 cpu / 128Gi / 110 pods, creates `pods` pods of 100m / 128Mi as
 * fast as the server takes them, and times until a watch has seen every one bound.
 * Everything it started is stopped and removed, also on failure.
 */
export async function benchEndToEnd(opts: EndToEndOptions): Promise<EndToEndResult> {
  const log = opts.log ?? ((): void => undefined);
  const concurrency = opts.concurrency ?? 32;
  const stallTimeoutMs = opts.stallTimeoutMs ?? 30_000;
  let api: RunningApiServer | undefined;
  let scheduler: RunningProcess | undefined;
  let client: Client | undefined;
  let watch: { stop(): void } | undefined;
  let stallTimer: NodeJS.Timeout | undefined;
  try {
    api = await startApiServer({ nodeArgs: opts.apiserverNodeArgs });
    client = new Client({ server: api.url });
    const nodes = Array.from({ length: opts.nodes }, (_, i) => nodeManifest(`node-${i}`, benchNodeShape(i)));
    await createAll(client, 'nodes', nodes, concurrency);
    log(`${opts.nodes} nodes registered`);
    // Without its client rate limit (50 a second past a burst of 100): the bench measures the code.
    scheduler = await startScheduler(api.url, { args: [...unlimitedRate, ...(opts.schedulerArgs ?? [])], nodeArgs: opts.schedulerNodeArgs });

    const bound = new Set<string>();
    let lastBoundAt = 0;
    let allBound: () => void = () => undefined;
    const allBoundPromise = new Promise<void>((resolve) => (allBound = resolve));
    const startRv = (await client.list('pods', { limit: 1 })).metadata.resourceVersion;
    const podWatch = client.watch<Pod>('pods', { fieldSelector: 'spec.nodeName!=', resourceVersion: startRv }, (event) => {
      if (event.type !== 'ADDED') return;
      bound.add(event.object.metadata.name ?? '');
      lastBoundAt = Date.now();
      if (bound.size >= opts.pods) allBound();
    });
    watch = podWatch;

    const manifests = Array.from({ length: opts.pods }, (_, i) => podManifest(`pod-${i}`, benchPodShape(i)));
    const started = Date.now();
    lastBoundAt = started;
    await createAll(client, 'pods', manifests, concurrency);
    const created = Date.now();
    log(`${opts.pods} pods created in ${((created - started) / 1000).toFixed(2)} s; ${bound.size} bound so far`);

    const stalled = new Promise<never>((_resolve, reject) => {
      stallTimer = setInterval(() => {
        if (Date.now() - lastBoundAt > stallTimeoutMs) {
          reject(new Error(`no pod bound for ${stallTimeoutMs} ms; ${bound.size}/${opts.pods} bound`));
        }
      }, 500);
    });
    const watchEnded = podWatch.done.then(() => Promise.reject(new Error('the pod watch ended')));
    await Promise.race([allBoundPromise, stalled, watchEnded]);
    const finished = lastBoundAt;
    const seconds = (finished - started) / 1000;
    const createSeconds = (created - started) / 1000;
    return {
      nodes: opts.nodes,
      pods: opts.pods,
      podsPerSecond: opts.pods / seconds,
      seconds,
      createSeconds,
      createsPerSecond: opts.pods / createSeconds,
      tailSeconds: Math.max(0, (finished - created) / 1000),
    };
  } finally {
    clearInterval(stallTimer);
    watch?.stop();
    client?.close();
    await scheduler?.kill();
    await api?.stop();
  }
}
export interface BindOnlyOptions {
  nodes: number;
  pods: number;
  /** Binds in flight at once, for the bind-only client; default the scheduler's own limit (256). */
  concurrency?: number;
  /** Rounds of each, alternating (default 2). */
  rounds?: number;
  /** Node flags for each process, e.g. ['--cpu-prof', '--cpu-prof-dir', DIR] to profile it. */
  apiserverNodeArgs?: string[];
  schedulerNodeArgs?: string[];
  log?: (msg: string) => void;
}

export interface BindOnlyResult {
  /** Pods bound per second by the scheduler, from its first bind to its last, over its rounds. */
  schedulerPerSecond: number;
  /** Pods bound per second by a client that only binds (round-robin over the nodes, no decisions). */
  bindOnlyPerSecond: number;
  /**
   * CPU milliseconds per pod over each side's rounds (first bind request, or SIGCONT, until
   * the watch has seen every pod bound): the API server's, and the scheduler process's own.
   * Unlike rates, these hardly depend on what else the machine runs.
   */
  apiserverCpuMsPerPod: { bindOnly: number; scheduler: number };
  schedulerCpuMsPerPod: { bindOnly: number; scheduler: number };
}

/** A pod no scheduler takes: the bind-only client binds it. */
const heldBack = 'bench-bind-only';

/**
 * The scheduler beside the least any scheduler must do, through one API server holding
 * `nodes` nodes, in alternating rounds (so that what else the machine runs weighs on both
 * alike): pending pods bound by a client that only binds (each to the next node in turn,
 * `concurrency` at a time), then as many pending pods created while the scheduler process is
 * stopped (SIGSTOP) and bound by it once it runs again (SIGCONT). The scheduler runs through
 * the bind-only rounds too (it ignores their pods but, as any informer, reads their events),
 * so each side's rounds see the same processes; it runs without leader election, which a
 * stopped process would lose (and restart from fresh informers) as the client has none.
 * Both are timed the same way, by the watch that sees the pods bound: from the first bind to
 * the last, so neither pays for creating pods; the scheduler also watches, decides, and
 * reports events.
 */
export async function benchBindOnly(opts: BindOnlyOptions): Promise<BindOnlyResult> {
  const log = opts.log ?? ((): void => undefined);
  const concurrency = opts.concurrency ?? defaultMaxRequestsInFlight;
  const rounds = opts.rounds ?? 2;
  const perRound = Math.floor(opts.pods / rounds);
  let api: RunningApiServer | undefined;
  let scheduler: RunningProcess | undefined;
  let client: Client | undefined;
  let watch: { stop(): void } | undefined;
  try {
    api = await startApiServer({ nodeArgs: opts.apiserverNodeArgs });
    client = new Client({ server: api.url });
    const c = client;
    await createAll(c, 'nodes', Array.from({ length: opts.nodes }, (_, i) => nodeManifest(`node-${i}`, benchNodeShape(i))), 32);
    const sched = await startScheduler(api.url, { args: ['--leader-elect=false', ...unlimitedRate], nodeArgs: opts.schedulerNodeArgs });
    scheduler = sched;
    log(`${opts.nodes} nodes; ${rounds} rounds of ${perRound} pods bound by a bind-only client, then by the scheduler`);
    // Binds seen by a watch open through every round: both sides are timed by it and pay for it alike.
    const rv = (await c.list('pods', { limit: 1 })).metadata.resourceVersion ?? '';
    const clock = await BindClock.start(c, rv);
    watch = clock;
    // The rounds follow one another: the `count` binds the clock sees after the `from`-th are the round's.
    // First to last bind spans one bind fewer than the pods: each side's span is stretched by one bind.
    const boundSpan = (from: number, count: number): number =>
      ((clock.at(from + count) - clock.at(from + 1)) / 1000) * (count / Math.max(1, count - 1));
    const noneUnbound = async (): Promise<void> => {
      const unbound = await c.list('pods', { fieldSelector: 'spec.nodeName=', limit: 1 });
      if (unbound.items.length > 0) throw new Error(`pod ${unbound.items[0].metadata.name} is not bound after its round`);
    };
    let bindOnlySeconds = 0;
    let schedulerSeconds = 0;
    const server = api;
    const cpu = (): { apiserver: number; scheduler: number } => ({ apiserver: cpuSecondsOf(server.pid), scheduler: cpuSecondsOf(sched.pid) });
    const used = { bindOnly: { apiserver: 0, scheduler: 0 }, scheduler: { apiserver: 0, scheduler: 0 } };
    const addUsed = (side: keyof typeof used, before: { apiserver: number; scheduler: number }): void => {
      const after = cpu();
      used[side].apiserver += after.apiserver - before.apiserver;
      used[side].scheduler += after.scheduler - before.scheduler;
    };
    // Round 0 warms both up and is not counted: the scheduler process starts cold while the
    // client runs in the bench's process, warm from registering the nodes, and V8 compiles a
    // path for speed only after it ran many times. It is as large as the others: after a
    // warm-up of 1,000 pods the scheduler's first counted round was its slowest in 11 runs of
    // 11 (by 8 to 21%), as its heap grew to hold the burst, and lowered the ratio in 10.
    for (let round = 0; round <= rounds; round++) {
      const held = await createAll(
        c,
        'pods',
        Array.from({ length: perRound }, (_, i) => podManifest(`bind-${round}-${i}`, { ...benchPodShape(i), spec: { schedulerName: heldBack } })),
        32,
      );
      let next = 0;
      const bindOnlyFrom = clock.seen;
      const bindOnlyCpu = cpu();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < held.length) {
            const i = next++;
            const pod = held[i];
            await c.bind('default', pod.metadata.name ?? '', `node-${i % opts.nodes}`, pod.metadata.uid);
          }
        }),
      );
      await clock.until(bindOnlyFrom + perRound);
      if (round > 0) addUsed('bindOnly', bindOnlyCpu);
      await noneUnbound();

      const names = Array.from({ length: perRound }, (_, i) => `sched-${round}-${i}`);
      sched.proc.kill('SIGSTOP');
      await createAll(c, 'pods', names.map((name, i) => podManifest(name, benchPodShape(i))), 32);
      const schedulerFrom = clock.seen;
      const schedulerCpu = cpu();
      sched.proc.kill('SIGCONT');
      await clock.until(schedulerFrom + perRound);
      if (round > 0) addUsed('scheduler', schedulerCpu);
      await noneUnbound();
      // Its Scheduled events are its work too: those it keeps (past 1,000 waiting it drops them,
      // as Kubernetes does) are written before the next bind-only round, once their count stops growing.
      const scheduledEvents = async (): Promise<number> =>
        (await c.list('events', { namespace: 'default', fieldSelector: 'reason=Scheduled' })).items.length;
      const drained = Date.now() + 30_000;
      for (let last = -1, now = await scheduledEvents(); now !== last && Date.now() < drained; ) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        last = now;
        now = await scheduledEvents();
      }
      if (round === 0) continue;
      const bindOnlyRound = boundSpan(bindOnlyFrom, perRound);
      const schedulerRound = boundSpan(schedulerFrom, perRound);
      bindOnlySeconds += bindOnlyRound;
      schedulerSeconds += schedulerRound;
      log(`round ${round}: bind-only ${(perRound / bindOnlyRound).toFixed(0)}/s, scheduler ${(perRound / schedulerRound).toFixed(0)}/s`);
    }
    const pods = rounds * perRound;
    const perPod = (seconds: number): number => (seconds * 1000) / pods;
    return {
      schedulerPerSecond: pods / schedulerSeconds,
      bindOnlyPerSecond: pods / bindOnlySeconds,
      apiserverCpuMsPerPod: { bindOnly: perPod(used.bindOnly.apiserver), scheduler: perPod(used.scheduler.apiserver) },
      schedulerCpuMsPerPod: { bindOnly: perPod(used.bindOnly.scheduler), scheduler: perPod(used.scheduler.scheduler) },
    };
  } finally {
    watch?.stop();
    client?.close();
    scheduler?.proc.kill('SIGCONT');
    await scheduler?.kill();
    await api?.stop();
  }
}
