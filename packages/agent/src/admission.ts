import type { Pod } from '@peapod/api';

export interface AdmissionOptions {
  allowPrivileged: boolean;
  nodeName: string;
}

export type AdmissionResult = { admit: true } | { admit: false; reason: string; message: string };

/** Field paths of the containers that ask for privileged mode. */
export function privilegedFields(pod: Pod): string[] {
  const fields: string[] = [];
  const scan = (list: Pod['spec']['containers'] | undefined, path: string): void => {
    (list ?? []).forEach((c, i) => {
      if (c.securityContext?.privileged === true) fields.push(`spec.${path}[${i}].securityContext.privileged`);
    });
  };
  scan(pod.spec.initContainers, 'initContainers');
  scan(pod.spec.containers, 'containers');
  return fields;
}

/**
 * Whether this node runs the pod. A refused pod stays Pending; the message, written in
 * the spirit of the kubelet's own, names the pod and the offending field.
 */
export function admitPod(pod: Pod, opts: AdmissionOptions): AdmissionResult {
  if (opts.allowPrivileged) return { admit: true };
  const fields = privilegedFields(pod);
  if (fields.length === 0) return { admit: true };
  const name = pod.metadata.name ?? '';
  const namespace = pod.metadata.namespace ?? 'default';
  const causes = fields.map(
    (f) => `${f}: Forbidden: privileged containers are not allowed on node "${opts.nodeName}" (agent runs with --allow-privileged=false)`,
  );
  return {
    admit: false,
    reason: 'FailedValidation',
    message: `Error validating pod "${name}"."${namespace}" from api, ignoring: ${causes.join(', ')}`,
  };
}
