// What deletion with dependents means on the wire, shared by the API server (which sets
// these finalizers) and the garbage collector (which does their work and removes them).

import type { KubeObject, ObjectMeta } from './types';

/** Held by an owner deleted with propagationPolicy Orphan until its dependents no longer name it. */
export const orphanFinalizer = 'orphan';
/** Held by an owner deleted with propagationPolicy Foreground until its blocking dependents are gone. */
export const foregroundDeletionFinalizer = 'foregroundDeletion';

export function hasFinalizer(meta: ObjectMeta, finalizer: string): boolean {
  return meta.finalizers?.includes(finalizer) ?? false;
}

/** An owner in foreground deletion: it stays, marked, while its dependents go first. */
export function isDeletingDependents(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined && hasFinalizer(obj.metadata, foregroundDeletionFinalizer);
}

/** An owner in orphan deletion: its dependents lose their reference to it, then it goes. */
export function isOrphaningDependents(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined && hasFinalizer(obj.metadata, orphanFinalizer);
}
