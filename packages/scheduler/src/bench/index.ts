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
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';
import { startScheduler } from '../testing/processes';

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
    scheduler = await startScheduler(api.url, { args: opts.schedulerArgs, nodeArgs: opts.schedulerNodeArgs });

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
