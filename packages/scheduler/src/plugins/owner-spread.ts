// Spreads the pods of one controller (ownerReferences with controller=true) across nodes:
// the fewer of its pods a node already has, the higher it scores.

import { maxNodeScore } from '../framework';
import type { ScorePlugin } from '../framework';
import type { NodeInfo } from '../node-info';
import type { PodInfo } from '../pod-info';

export function ownerSpread(weight = 2): ScorePlugin {
  return {
    name: 'OwnerSpread',
    weight,
    score(pod: PodInfo, nodes: readonly NodeInfo[], count: number, scores: Float64Array): void {
      if (pod.ownerUid === undefined || count === 0) scores.fill(0, 0, count);
      else nodes[0].owners.countOn(pod.ownerUid, nodes, count, scores);
    },
    normalize(_pod: PodInfo, scores: Float64Array, count: number): void {
      let most = 0;
      for (let i = 0; i < count; i++) if (scores[i] > most) most = scores[i];
      for (let i = 0; i < count; i++) {
        scores[i] = most === 0 ? maxNodeScore : Math.floor((maxNodeScore * (most - scores[i])) / most);
      }
    },
  };
}
