// Pods go only to nodes that are Ready and not cordoned, unless they tolerate the taint
// that stands for that state (as DaemonSet-style pods do).

import type { FilterPlugin, FilterResult } from '../framework';
import { reasonNotReady, reasonUnschedulable } from '../messages';
import type { NodeInfo } from '../node-info';
import type { PodInfo } from '../pod-info';
import { tolerates } from './taint-toleration';

export const notReadyTaint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' } as const;
export const unschedulableTaint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' } as const;

export const nodeReadyUnschedulable: FilterPlugin = {
  name: 'NodeReadyUnschedulable',
  filter(pod: PodInfo, node: NodeInfo): FilterResult {
    if (!node.ready && !tolerates(pod.tolerations, notReadyTaint)) return reasonNotReady;
    if (node.unschedulable && !tolerates(pod.tolerations, unschedulableTaint)) return reasonUnschedulable;
    return null;
  },
};
