// The replicationcontrollers/scale subresource: an autoscaling/v1 Scale read from and written
// back to a replication controller's spec.replicas.

import type { KubeObject, ReplicationController, Scale } from '@peapod/api';
import { badRequest, invalid } from '../errors';
import { applyPatch, parseRevision, type PatchType, type Registry } from './registry';

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

/** GET replicationcontrollers/NAME/scale. */
export async function getScale(registry: Registry, namespace: string, name: string): Promise<Scale> {
  return scaleOf((await registry.get('replicationcontrollers', namespace, name)).object as ReplicationController);
}

/** PUT (body) or PATCH (patch, applied to the Scale as it is at the write) of replicationcontrollers/NAME/scale: written back as spec.replicas. */
export async function updateScale(
  registry: Registry,
  namespace: string,
  name: string,
  body: unknown,
  patch: { type: PatchType; patch: unknown } | undefined,
  dryRun: boolean,
): Promise<Scale> {
  // A PUT is checked before anything is read.
  const put = patch ? undefined : replicasOf(body as Scale, name);
  const rv = patch ? undefined : (body as Scale).metadata?.resourceVersion;
  const next = (current: KubeObject): KubeObject => {
    const rc = JSON.parse(JSON.stringify(current)) as ReplicationController;
    const replicas = put ?? replicasOf(applyPatch(scaleOf(rc), patch!.type, patch!.patch, undefined, name), name);
    rc.spec = { ...rc.spec, replicas };
    return rc;
  };
  const entry = await registry.updateWith('replicationcontrollers', namespace, name, next, rv ? { resourceVersion: parseRevision(rv) } : {}, dryRun);
  return scaleOf(entry.object as ReplicationController);
}
