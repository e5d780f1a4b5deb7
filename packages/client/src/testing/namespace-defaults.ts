// What the controller manager gives every namespace, for tests that run no controller manager:
// the `default` service account and the kube-root-ca.crt ConfigMap, which every pod's
// kube-api-access volume reads (without them the agent holds the pod's containers on FailedMount).

import type { KubeObject } from '@peapod/api';
import { Client } from '../rest';
import { isAlreadyExists } from '../errors';

export async function createNamespaceDefaults(client: Client, namespace = 'default', caCert = ''): Promise<void> {
  const created = (p: Promise<unknown>) =>
    p.catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
    });
  await created(client.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } }));
  await created(client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace }, data: { 'ca.crt': caCert } } as KubeObject));
}
