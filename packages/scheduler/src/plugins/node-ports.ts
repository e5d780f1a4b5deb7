// A host port can be held by one pod per node (per protocol and address).

import type { FilterPlugin, FilterResult } from '../framework';
import { reasonNodePorts } from '../messages';
import type { NodeInfo } from '../node-info';
import type { PodInfo } from '../pod-info';

export const nodePorts: FilterPlugin = {
  name: 'NodePorts',
  filter(pod: PodInfo, node: NodeInfo): FilterResult {
    for (const p of pod.hostPorts) if (node.portInUse(p)) return reasonNodePorts;
    return null;
  },
};
