// The pod's requests must fit in what the node's allocatable leaves after the pods already
// there (bound or assumed). Every resource that falls short is a reason.

import type { FilterPlugin, FilterResult } from '../framework';
import { reasonInsufficientCpu, reasonInsufficientMemory, reasonTooManyPods } from '../messages';
import type { NodeInfo } from '../node-info';
import type { PodInfo } from '../pod-info';

export const resourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter(pod: PodInfo, node: NodeInfo): FilterResult {
    let reasons: string[] | null = null;
    if (node.podCount + 1 > node.allocatablePods) (reasons ??= []).push(reasonTooManyPods);
    if (pod.cpu > 0 && pod.cpu > node.allocatableCpu - node.requestedCpu) (reasons ??= []).push(reasonInsufficientCpu);
    if (pod.memory > 0 && pod.memory > node.allocatableMemory - node.requestedMemory) {
      (reasons ??= []).push(reasonInsufficientMemory);
    }
    if (reasons === null) return null;
    return reasons.length === 1 ? reasons[0] : reasons;
  },
};
