// A host port can be held by one pod per node (per protocol and address).

import type { FilterPlugin, FilterResult } from '../framework';
import { reasonNodePorts } from '../messages';
import type { NodeInfo } from '../node-info';
import type { PodInfo } from '../pod-info';

export const nodePorts: FilterPlugin = {
  name: 'NodePorts',
  appliesTo: (pod: PodInfo): boolean => pod.hostPorts.length > 0,
  filter(pod: PodInfo, node: NodeInfo): FilterResult {
    // Indexed, as in TaintToleration: no iterator per node checked.
    const ports = pod.hostPorts;
    for (let i = 0; i < ports.length; i++) if (node.portInUse(ports[i])) return reasonNodePorts;
    return null;
  },
};
