// The ServiceAccount admission of a new pod, as Kubernetes' does it: the pod runs as
// `default` unless it names a service account; a named account must exist; and unless the
// pod or its account turns automounting off, every container gets the projected volume
// kube-api-access-XXXXX (a bound token, the cluster's CA, the namespace) at
// /var/run/secrets/kubernetes.io/serviceaccount.
//
// One difference: Kubernetes waits a moment for the controller manager to create `default`
// and then refuses the pod; here a missing `default` is taken as an account with no
// settings, so an API server running without a controller manager still takes pods.

import type { Container, Pod, ServiceAccount, Volume } from '@peapod/api';
import { forbidden } from '../errors';
import { randomSuffix } from './registry';
import type { ObjectLookup } from './strategy';
import { mountedTokenSeconds } from './token-request';

export const defaultServiceAccount = 'default';
export const tokenMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
const volumePrefix = 'kube-api-access-';
export const rootCAConfigMap = 'kube-root-ca.crt';

/** The projected volume of a pod's API credentials. */
export function apiAccessVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: mountedTokenSeconds, path: 'token' } },
        { configMap: { name: rootCAConfigMap, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function containers(list: unknown): Container[] {
  return Array.isArray(list) ? list.filter((c): c is Container => typeof c === 'object' && c !== null) : [];
}

/** Runs before validation, so it must not trust the shape of the pod beyond what it touches. */
export function admitServiceAccount(pod: Pod, lookup: ObjectLookup): void {
  const spec = pod.spec;
  if (typeof spec !== 'object' || spec === null) return;
  // serviceAccount is the deprecated spelling: it names the account when serviceAccountName does not, and mirrors it.
  if (!spec.serviceAccountName) spec.serviceAccountName = typeof spec.serviceAccount === 'string' && spec.serviceAccount ? spec.serviceAccount : defaultServiceAccount;
  spec.serviceAccount = spec.serviceAccountName;
  const namespace = pod.metadata.namespace ?? '';
  const name = spec.serviceAccountName;
  const sa = lookup('serviceaccounts', namespace, name) as ServiceAccount | undefined;
  if (!sa && name !== defaultServiceAccount) {
    throw forbidden('pods', pod.metadata.name ?? '', `error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`);
  }
  const automount = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
  if (automount) mountToken(spec);
}

function mountToken(spec: Pod['spec']): void {
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  const existing = volumes.find((v) => typeof v?.name === 'string' && v.name.startsWith(volumePrefix));
  const volumeName = existing?.name ?? volumePrefix + randomSuffix();
  let needed = false;
  for (const c of [...containers(spec.initContainers), ...containers(spec.containers)]) {
    const mounts = Array.isArray(c.volumeMounts) ? c.volumeMounts : [];
    // A container that mounts something at the path already keeps it.
    if (mounts.some((m) => m?.mountPath === tokenMountPath)) continue;
    c.volumeMounts = [...mounts, { name: volumeName, readOnly: true, mountPath: tokenMountPath }];
    needed = true;
  }
  if (needed && !existing) spec.volumes = [...volumes, apiAccessVolume(volumeName)];
}
