// Everything the plugins need to know about a pod, computed once per scheduling attempt
// (and kept in the cache for pods on nodes) so that filtering a node parses nothing.

import { podRequests } from '@peapod/api';
import type { Pod, PodResourceRequests, Toleration } from '@peapod/api';
import { compileNodeMatcher } from './node-matcher';
import type { NodeMatcher } from './node-matcher';

export interface HostPort {
  /** "0.0.0.0" when the port is bound on every address */
  ip: string;
  protocol: string;
  port: number;
}

export interface PodInfo {
  readonly pod: Pod;
  readonly key: string;
  /** millicores requested, for fitting */
  readonly cpu: number;
  /** bytes requested, for fitting */
  readonly memory: number;
  /** millicores with the default for containers that request none, for scoring */
  readonly nonZeroCpu: number;
  /** bytes with the default for containers that request none, for scoring */
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
  /** uid of the controlling owner (ownerReferences[controller=true]) */
  readonly ownerUid: string | undefined;
  readonly tolerations: readonly Toleration[];
  /** null when the pod puts no constraint on node labels */
  readonly nodeMatcher: NodeMatcher | null;
}

export const anyAddress = '0.0.0.0';

// What scoring assumes a container uses when it requests nothing, so that pods without
// requests still spread out instead of all landing on the same "empty" node.
export const defaultCpuRequestMillis = 100;
export const defaultMemoryRequestBytes = 200 * 1024 * 1024;
const unsetDefaults: PodResourceRequests = { cpuMillis: defaultCpuRequestMillis, memoryBytes: defaultMemoryRequestBytes };

/** The cache key of a pod: its uid, which stays unique when a pod is recreated under the same name. */
export function podKey(pod: Pod): string {
  return pod.metadata.uid ?? `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
}

export function podName(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
}

/** uid of the pod's controlling owner (ownerReferences[controller=true]). */
export function controllerUid(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((o) => o.controller)?.uid;
}

function hostPortsOf(pod: Pod): HostPort[] {
  const ports: HostPort[] = [];
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      // On the host network a container port is a host port, whether or not the spec says so.
      const port = p.hostPort ?? (pod.spec.hostNetwork ? p.containerPort : 0);
      if (!port) continue;
      ports.push({ ip: p.hostIP || anyAddress, protocol: p.protocol ?? 'TCP', port });
    }
  }
  return ports;
}

export function podInfoFor(pod: Pod): PodInfo {
  // The server validated the quantities; one it let through that we cannot read counts as nothing.
  const requests = podRequests(pod, { lenient: true });
  const forScoring = podRequests(pod, { lenient: true, unsetDefaults });
  return {
    pod,
    key: podKey(pod),
    cpu: requests.cpuMillis,
    memory: requests.memoryBytes,
    nonZeroCpu: forScoring.cpuMillis,
    nonZeroMemory: forScoring.memoryBytes,
    hostPorts: hostPortsOf(pod),
    ownerUid: controllerUid(pod),
    tolerations: pod.spec.tolerations ?? [],
    nodeMatcher: compileNodeMatcher(pod),
  };
}
