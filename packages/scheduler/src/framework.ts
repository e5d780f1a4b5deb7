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
  filter(pod: PodInfo, node: NodeInfo): FilterResult;
}

export const maxNodeScore = 100;

export interface ScorePlugin {
  readonly name: string;
  /** Multiplies this plugin's 0..maxNodeScore score in the node's total. */
  readonly weight: number;
  /** 0..maxNodeScore, an integer so that equal nodes tie; raw if normalize() is defined. */
  score(pod: PodInfo, node: NodeInfo): number;
  /** Maps the raw scores of the first `count` feasible nodes into 0..maxNodeScore, in place. */
  normalize?(pod: PodInfo, scores: Float64Array, count: number): void;
}

export interface Framework {
  /** Run in order; a node's first failing plugin decides its reason(s). */
  readonly filters: readonly FilterPlugin[];
  readonly scorers: readonly ScorePlugin[];
}

export function runFilters(filters: readonly FilterPlugin[], pod: PodInfo, node: NodeInfo): FilterResult {
  for (let i = 0; i < filters.length; i++) {
    const result = filters[i].filter(pod, node);
    if (result !== null) return result;
  }
  return null;
}
