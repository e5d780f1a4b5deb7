// The replicationcontrollers/scale subresource: an autoscaling/v1 Scale read from and written
// back to a replication controller's spec.replicas.

import type { ReplicationController, Scale } from '@peapod/api';
import { badRequest, invalid } from '../errors';

/** The replicas a Scale asks for; a 400 or 422 for one that is not a valid Scale. */
export function replicasOf(scale: Scale, name: string): number {
  if (typeof scale !== 'object' || scale === null || typeof scale.spec !== 'object' || scale.spec === null) {
    throw badRequest('the body must be an autoscaling/v1 Scale');
  }
  const replicas = scale.spec.replicas ?? 0;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw invalid('Scale', name, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
  }
  return replicas;
}

/** The Scale of a replication controller. */
export function scaleOf(rc: ReplicationController): Scale {
  const m = rc.metadata;
  const selector = Object.entries(rc.spec?.selector ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: rc.spec?.replicas ?? 0 },
    status: { replicas: rc.status?.replicas ?? 0, selector },
  };
}
