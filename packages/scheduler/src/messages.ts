// The words of a FailedScheduling message, as kube-scheduler writes them, so that users
// (and tools that grep events) read the same thing as on a Kubernetes cluster.

export const reasonNotReady = 'node(s) were not ready';
export const reasonUnschedulable = 'node(s) were unschedulable';
export const reasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector";
export const reasonNodePorts = "node(s) didn't have free ports for the requested pod ports";
export const reasonTooManyPods = 'Too many pods';
export const reasonInsufficientCpu = 'Insufficient cpu';
export const reasonInsufficientMemory = 'Insufficient memory';
export const noNodesAvailable = 'no nodes available to schedule pods';

export function reasonUntoleratedTaint(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ''}}`;
}

/**
 * "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu."
 * Each reason is prefixed with the number of nodes that gave it, and the resulting strings
 * are sorted as plain strings (so "10 …" sorts before "2 …", as in kube-scheduler).
 */
export function fitErrorMessage(numAllNodes: number, reasons: ReadonlyMap<string, number>): string {
  if (numAllNodes === 0) return noNodesAvailable;
  const parts: string[] = [];
  for (const [reason, count] of reasons) parts.push(`${count} ${reason}`);
  parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const head = `0/${numAllNodes} nodes are available`;
  return parts.length === 0 ? `${head}.` : `${head}: ${parts.join(', ')}.`;
}

export function scheduledMessage(namespace: string, name: string, nodeName: string): string {
  return `Successfully assigned ${namespace}/${name} to ${nodeName}`;
}
