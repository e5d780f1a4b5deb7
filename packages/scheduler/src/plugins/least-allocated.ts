// Prefers the nodes with the most cpu and memory left once the pod is placed, which
// spreads load. Pods without requests count with default requests so they spread too.

import { maxNodeScore } from '../framework';
import type { ScorePlugin } from '../framework';
import type { NodeInfo } from '../node-info';
import type { PodInfo } from '../pod-info';

function freeShare(requested: number, allocatable: number): number {
  if (allocatable <= 0 || requested > allocatable) return 0;
  return Math.floor(((allocatable - requested) * maxNodeScore) / allocatable);
}

export function leastAllocated(weight = 1): ScorePlugin {
  return {
    name: 'LeastAllocated',
    weight,
    score(pod: PodInfo, nodes: readonly NodeInfo[], count: number, scores: Float64Array): void {
      for (let i = 0; i < count; i++) {
        const node = nodes[i];
        const cpu = freeShare(node.nonZeroCpu + pod.nonZeroCpu, node.allocatableCpu);
        const memory = freeShare(node.nonZeroMemory + pod.nonZeroMemory, node.allocatableMemory);
        scores[i] = Math.floor((cpu + memory) / 2);
      }
    },
  };
}
