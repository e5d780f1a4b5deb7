// One scheduling decision: filter the nodes, score the feasible ones, pick the best.
//
// On a large cluster it is enough to find some of the feasible nodes and pick the best of
// those (kube-scheduler's percentageOfNodesToScore): filtering stops once that many are
// found, and the next pod starts where this one stopped, so every node gets its turn.
// When fewer nodes fit, the scan simply goes on to the end: a feasible node is always found
// if one exists, and a pod that fits nowhere has been checked against every node.

import { FilterSets, runFilters } from './framework';
import type { Framework } from './framework';
import type { SchedulerCache } from './cache';
import { fitErrorMessage } from './messages';
import type { NodeInfo } from './node-info';
import type { PodInfo } from './pod-info';

export class FitError extends Error {
  constructor(
    readonly numAllNodes: number,
    /** reason → how many nodes gave it */
    readonly reasons: ReadonlyMap<string, number>,
  ) {
    super(fitErrorMessage(numAllNodes, reasons));
    this.name = 'FitError';
  }
}

export const minFeasibleNodesToFind = 100;

/** 50% of a 100-node cluster, falling linearly to 5% at 5,000 nodes and beyond. */
export function adaptivePercentage(numAllNodes: number): number {
  return Math.max(5, 50 - ((numAllNodes - 100) * 45) / 4900);
}

/** How many feasible nodes to look for before scoring; `percentage` 0 means adaptive. */
export function numFeasibleNodesToFind(numAllNodes: number, percentage = 0): number {
  if (numAllNodes <= minFeasibleNodesToFind) return numAllNodes;
  const p = percentage > 0 ? percentage : adaptivePercentage(numAllNodes);
  if (p >= 100) return numAllNodes;
  return Math.max(minFeasibleNodesToFind, Math.floor((numAllNodes * p) / 100));
}

export interface AlgorithmOptions {
  /** 1..100: the share of nodes to find feasible before scoring; 0 or absent: adaptive. */
  percentageOfNodesToScore?: number;
  /** Uniform in [0, 1); breaks ties between equally good nodes. */
  random?: () => number;
}

export class Algorithm {
  private nextStartIndex = 0;
  // Reused from one pod to the next, so that scheduling a pod allocates no per-node arrays.
  private feasible: NodeInfo[] = [];
  private totals = new Float64Array(0);
  private scores = new Float64Array(0);
  private readonly percentage: number;
  private readonly random: () => number;
  private readonly filterSets: FilterSets;

  constructor(
    private readonly framework: Framework,
    private readonly cache: SchedulerCache,
    opts: AlgorithmOptions = {},
  ) {
    this.percentage = opts.percentageOfNodesToScore ?? 0;
    this.random = opts.random ?? Math.random;
    this.filterSets = new FilterSets(framework.filters);
  }

  /** The name of the node the pod should go to, or why it fits nowhere. */
  schedule(pod: PodInfo): string | FitError {
    const nodes = this.cache.nodes;
    const n = nodes.length;
    if (n === 0) return new FitError(0, new Map());

    const wanted = numFeasibleNodesToFind(n, this.percentage);
    const start = this.nextStartIndex % n;
    const filters = this.filterSets.for(pod);
    const feasible = this.feasible;
    let found = 0;
    let processed = 0;
    let reasons: Map<string, number> | null = null;
    for (; processed < n && found < wanted; processed++) {
      let i = start + processed;
      if (i >= n) i -= n;
      const node = nodes[i];
      const result = runFilters(filters, pod, node);
      if (result === null) {
        feasible[found++] = node;
      } else {
        reasons ??= new Map();
        if (typeof result === 'string') reasons.set(result, (reasons.get(result) ?? 0) + 1);
        else for (const r of result) reasons.set(r, (reasons.get(r) ?? 0) + 1);
      }
    }
    this.nextStartIndex = (start + processed) % n;

    if (found === 0) return new FitError(n, reasons ?? new Map());
    return (found === 1 ? feasible[0] : this.pickBest(pod, found)).name;
  }

  private pickBest(pod: PodInfo, count: number): NodeInfo {
    if (this.totals.length < count) {
      const size = Math.max(count, this.totals.length * 2);
      this.totals = new Float64Array(size);
      this.scores = new Float64Array(size);
    }
    const { totals, scores, feasible } = this;
    totals.fill(0, 0, count);
    for (const plugin of this.framework.scorers) {
      plugin.score(pod, feasible, count, scores);
      plugin.normalize?.(pod, scores, count);
      const w = plugin.weight;
      for (let i = 0; i < count; i++) totals[i] += w * scores[i];
    }
    // One draw per pod among the tied best (each of k chosen with chance 1/k): a draw per tie
    // cost a number allocated at each of the hundreds of equal nodes of a uniform cluster.
    let best = totals[0];
    let ties = 1;
    for (let i = 1; i < count; i++) {
      if (totals[i] > best) {
        best = totals[i];
        ties = 1;
      } else if (totals[i] === best) {
        ties++;
      }
    }
    let pick = Math.min(ties - 1, Math.floor(this.random() * ties));
    // Ends at the pick-th tie: there are `ties` of them.
    for (let i = 0; ; i++) {
      if (totals[i] === best && pick-- === 0) return feasible[i];
    }
  }
}
