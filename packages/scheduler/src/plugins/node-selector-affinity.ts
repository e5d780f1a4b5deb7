// spec.nodeSelector and required node affinity, compiled per pod into PodInfo.nodeMatcher.

import type { FilterPlugin, FilterResult } from '../framework';
import { reasonNodeAffinity } from '../messages';
import type { NodeInfo } from '../node-info';
import type { PodInfo } from '../pod-info';

export const nodeSelectorAffinity: FilterPlugin = {
  name: 'NodeAffinity',
  appliesTo: (pod: PodInfo): boolean => pod.nodeMatcher !== null,
  filter(pod: PodInfo, node: NodeInfo): FilterResult {
    return pod.nodeMatcher === null || pod.nodeMatcher(node) ? null : reasonNodeAffinity;
  },
};
