import type { Pod } from '@peapod/api';
import { badRequest } from '../errors';

/**
 * The container a logs, exec or attach request names, checked against the pod: without a
 * name, a pod's only container; an ephemeral container counts too.
 */
export function podContainer(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata.name;
  const containers = pod.spec.containers.map((c) => c.name);
  if (!requested) {
    if (containers.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
    return containers[0];
  }
  const ephemeral = pod.spec.ephemeralContainers?.map((c) => c.name) ?? [];
  if (!containers.includes(requested) && !ephemeral.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}
