// The objects every namespace gets: the `default` service account (Kubernetes' serviceaccounts
// controller) and the `kube-root-ca.crt` ConfigMap with the CA that pods use to verify the
// API server (its root CA cert publisher).

import type { ConfigMap, ServiceAccount } from '@peapod/api';
import type { PerNamespaceObject } from './per-namespace';

export const defaultServiceAccount: PerNamespaceObject<ServiceAccount> = {
  resource: 'serviceaccounts',
  name: 'default',
  desired: () => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }),
};

export const rootCAConfigMapName = 'kube-root-ca.crt';
const descriptionAnnotation = 'kubernetes.io/description';
const description =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usage is guaranteed across distributions of Kubernetes clusters.';

/** kube-root-ca.crt holding `caPem` (empty when the components trust no particular CA, as with plain HTTP). */
export function rootCAConfigMap(caPem: string): PerNamespaceObject<ConfigMap> {
  return {
    resource: 'configmaps',
    name: rootCAConfigMapName,
    desired: () => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: rootCAConfigMapName, annotations: { [descriptionAnnotation]: description } },
      data: { 'ca.crt': caPem },
    }),
    repaired(existing) {
      const data = existing.data ?? {};
      const right = Object.keys(data).length === 1 && data['ca.crt'] === caPem;
      if (right && existing.metadata.annotations?.[descriptionAnnotation]) return undefined;
      return {
        ...existing,
        metadata: { ...existing.metadata, annotations: { ...existing.metadata.annotations, [descriptionAnnotation]: description } },
        data: { 'ca.crt': caPem },
      };
    },
  };
}
