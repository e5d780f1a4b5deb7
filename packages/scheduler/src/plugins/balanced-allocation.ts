// Prefers nodes whose cpu and memory would be used in similar proportions once the pod is
// placed, so that neither runs out while the other sits idle.

import { maxNodeScore } from '../framework';
import type { ScorePlugin } from '../framework';
import type { NodeInfo } from '../node-info';
import type { PodInfo } from '../pod-info';

function usedShare(requested: number, allocatable: number): number {
  return allocatable <= 0 ? 1 : Math.min(requested / allocatable, 1);
}

export function balancedAllocation(weight = 1): ScorePlugin {
  return {
    name: 'BalancedAllocation',
    weight,
    score(pod: PodInfo, nodes: readonly NodeInfo[], count: number, scores: Float64Array): void {
      for (let i = 0; i < count; i++) {
        const node = nodes[i];
        const cpu = usedShare(node.nonZeroCpu + pod.nonZeroCpu, node.allocatableCpu);
        const memory = usedShare(node.nonZeroMemory + pod.nonZeroMemory, node.allocatableMemory);
        // The standard deviation of two shares is half their difference.
        const deviation = Math.abs(cpu - memory) / 2;
        scores[i] = Math.floor((1 - deviation) * maxNodeScore);
      }
    },
  };
}
