// The scheduling framework's extension points, in the spirit of kube-scheduler: Filter
// plugins say whether a pod may run on a node (and why not), Score plugins rank the nodes
// that passed. Plugins read pre-computed PodInfo / NodeInfo so that the per-node work of a
// scheduling attempt does no parsing and little allocation.

import type { NodeInfo } from './node-info';
import type { PodInfo } from './pod-info';

/**
 * `null` when the node fits; otherwise why it does not, worded as the FailedScheduling
 * message counts it ("Insufficient cpu"). A plugin may give several reasons for one node.
 */
export type FilterResult = null | string | readonly string[];

export interface FilterPlugin {
  readonly name: string;
  /**
   * False when the filter can turn no node down for this pod (kube-scheduler's PreFilter
   * Skip): it is then not run on any node for this attempt. Absent: it always runs.
   */
  appliesTo?(pod: PodInfo): boolean;
  filter(pod: PodInfo, node: NodeInfo): FilterResult;
}

export const maxNodeScore = 100;

export interface ScorePlugin {
  readonly name: string;
  /** Multiplies this plugin's 0..maxNodeScore score in the node's total. */
  readonly weight: number;
  /**
   * Scores the first `count` nodes into `scores`: 0..maxNodeScore, integers so that equal
   * nodes tie; raw if normalize() is defined. All of them in one call, not one call a node: a
   * loop of its own keeps each plugin's arithmetic inlined, and a plugin may read what the
   * nodes share once (see OwnerSpread).
   */
  score(pod: PodInfo, nodes: readonly NodeInfo[], count: number, scores: Float64Array): void;
  /** Maps the raw scores of the first `count` feasible nodes into 0..maxNodeScore, in place. */
  normalize?(pod: PodInfo, scores: Float64Array, count: number): void;
}

export interface Framework {
  /** Run in order; a node's first failing plugin decides its reason(s). */
  readonly filters: readonly FilterPlugin[];
  readonly scorers: readonly ScorePlugin[];
}

/**
 * The filters that apply to a pod, in order. Skipping the others saves their calls on every
 * node, and the loop over the ones left calls few enough distinct functions for V8 to inline
 * them (at most four), where five made every call in it a full call.
 */
export class FilterSets {
  private readonly sets = new Map<number, readonly FilterPlugin[]>();

  constructor(private readonly filters: readonly FilterPlugin[]) {
    // A set is named by a bit per filter skipped.
    if (filters.length > 30) throw new Error(`at most 30 filter plugins, got ${filters.length}`);
  }

  for(pod: PodInfo): readonly FilterPlugin[] {
    let skipped = 0;
    for (let i = 0; i < this.filters.length; i++) {
      if (this.filters[i].appliesTo?.(pod) === false) skipped |= 1 << i;
    }
    let set = this.sets.get(skipped);
    if (!set) this.sets.set(skipped, (set = this.filters.filter((_, i) => (skipped & (1 << i)) === 0)));
    return set;
  }
}

export function runFilters(filters: readonly FilterPlugin[], pod: PodInfo, node: NodeInfo): FilterResult {
  for (let i = 0; i < filters.length; i++) {
    const result = filters[i].filter(pod, node);
    if (result !== null) return result;
  }
  return null;
}
