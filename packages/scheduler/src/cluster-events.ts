// Which changes to the cluster can let an unschedulable pod fit somewhere.

import type { Node } from '@peapod/api';

function readyStatus(node: Node): string | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * A node update matters to waiting pods only if it touches what the filters read;
 * heartbeats (which rewrite the conditions' timestamps every few seconds) do not.
 */
export function nodeSchedulingChanged(oldNode: Node, newNode: Node): boolean {
  if (oldNode === newNode) return false;
  return (
    readyStatus(oldNode) !== readyStatus(newNode) ||
    (oldNode.spec?.unschedulable === true) !== (newNode.spec?.unschedulable === true) ||
    !same(oldNode.metadata.labels, newNode.metadata.labels) ||
    !same(oldNode.spec?.taints, newNode.spec?.taints) ||
    !same(oldNode.status?.allocatable, newNode.status?.allocatable) ||
    !same(oldNode.status?.capacity, newNode.status?.capacity)
  );
}
