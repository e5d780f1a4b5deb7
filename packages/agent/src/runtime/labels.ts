import { createHash } from 'crypto';
import type { Container, Pod } from '@peapod/api';

/** Docker labels that tie containers and volumes back to their pod (and survive an agent restart). */
export const LABEL_MANAGED = 'peapod.managed';
export const LABEL_NODE = 'peapod.node';
export const LABEL_POD_NAMESPACE = 'peapod.pod.namespace';
export const LABEL_POD_NAME = 'peapod.pod.name';
export const LABEL_POD_UID = 'peapod.pod.uid';
export const LABEL_CONTAINER = 'peapod.container';
export const LABEL_RESTART_COUNT = 'peapod.restartCount';
export const LABEL_SPEC_HASH = 'peapod.container.hash';
export const LABEL_VOLUME = 'peapod.volume';

/** The peapod.container value of a pod's infra container. */
export const INFRA_CONTAINER_NAME = 'POD';

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
}

export function podIdentity(pod: Pod): PodIdentity {
  const { namespace = 'default', name, uid } = pod.metadata;
  if (!name || !uid) throw new Error('pod needs metadata.name and metadata.uid to run');
  return { namespace, name, uid };
}

export function podLabels(pod: Pod, node: string, extra: Record<string, string>): Record<string, string> {
  const id = podIdentity(pod);
  return {
    ...extra,
    [LABEL_MANAGED]: 'true',
    [LABEL_NODE]: node,
    [LABEL_POD_NAMESPACE]: id.namespace,
    [LABEL_POD_NAME]: id.name,
    [LABEL_POD_UID]: id.uid,
  };
}

export function infraLabels(pod: Pod, node: string, extra: Record<string, string>): Record<string, string> {
  return { ...podLabels(pod, node, extra), [LABEL_CONTAINER]: INFRA_CONTAINER_NAME };
}

export function appLabels(
  pod: Pod,
  container: Container,
  restartCount: number,
  node: string,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    ...podLabels(pod, node, extra),
    [LABEL_CONTAINER]: container.name,
    [LABEL_RESTART_COUNT]: String(restartCount),
    [LABEL_SPEC_HASH]: containerSpecHash(container),
  };
}

/** Docker container name: readable in `docker ps`, unique per pod uid, container and attempt. */
export function dockerContainerName(id: PodIdentity, container: string, attempt: number): string {
  return `peapod_${container}_${id.name}_${id.namespace}_${id.uid}_${attempt}`;
}

export function emptyDirVolumeName(uid: string, volume: string): string {
  return `peapod-${uid}-${volume}`;
}

/** JSON with object keys sorted, so equal specs hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Short stable hash of a container spec; a changed spec means the container must be recreated. */
export function containerSpecHash(container: Container): string {
  return createHash('sha256').update(canonicalJson(container)).digest('hex').slice(0, 16);
}
