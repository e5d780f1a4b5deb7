import type { KubeObject, ResourceInfo } from '@peapod/api';
import { forbidden, notFound } from '../errors';
import type { ObjectReader } from './strategy';

/**
 * Content may be created only in a namespace that exists and is not being deleted
 * (Kubernetes' NamespaceLifecycle admission), decided on the namespace as this server last
 * heard of it, read from storage only when it has not heard of it.
 */
export async function admitNamespaceContent(resource: ResourceInfo, obj: KubeObject, read: ObjectReader): Promise<void> {
  const namespace = obj.metadata.namespace ?? '';
  const ns = await read('namespaces', undefined, namespace);
  if (!ns) throw notFound('namespaces', namespace);
  if (ns.metadata.deletionTimestamp) {
    const name = typeof obj.metadata.name === 'string' ? obj.metadata.name : '';
    throw forbidden(resource, name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
      { reason: 'NamespaceTerminating', field: 'metadata.namespace', message: `namespace ${namespace} is being terminated` },
    ]);
  }
}
