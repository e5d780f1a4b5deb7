// A node's NoSchedule/NoExecute taints keep off every pod that does not tolerate them.

import type { Taint, Toleration } from '@peapod/api';
import type { FilterPlugin, FilterResult } from '../framework';
import { reasonUntoleratedTaint } from '../messages';
import type { NodeInfo } from '../node-info';
import type { PodInfo } from '../pod-info';

/**
 * An empty effect tolerates every effect and an empty key (with Exists) every key;
 * Exists ignores the value, Equal (the default) needs the same value.
 */
export function toleratesTaint(t: Toleration, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function tolerates(tolerations: readonly Toleration[], taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  for (let i = 0; i < tolerations.length; i++) if (toleratesTaint(tolerations[i], taint)) return true;
  return false;
}

export const taintToleration: FilterPlugin = {
  name: 'TaintToleration',
  // Indexed: it runs for every node a pod is checked against, and for-of allocated an
  // iterator at each (a fifth of what the scheduler allocated in the scheduler bench).
  filter(pod: PodInfo, node: NodeInfo): FilterResult {
    const taints = node.taints;
    for (let i = 0; i < taints.length; i++) {
      if (!tolerates(pod.tolerations, taints[i])) return reasonUntoleratedTaint(taints[i].key, taints[i].value);
    }
    return null;
  },
};
