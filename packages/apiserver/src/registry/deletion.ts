// The rules of a DELETE, as Kubernetes' generic registry applies them. Each function works on
// a copy of the stored object. The API server only marks: deletionTimestamp, the grace
// period, and the garbage collector's finalizers (`orphan`, `foregroundDeletion`) that the
// propagation policy asks for; the garbage collector does the work and removes them.

import { DeleteOptions, foregroundDeletionFinalizer, hasFinalizer, KubeObject, ObjectMeta, orphanFinalizer, rfc3339 } from '@peapod/api';
import type { Strategy } from './strategy';

/**
 * What a delete does before finalizers are considered:
 * - `pending`: an earlier graceful delete already covers it (a later one may only shorten the grace period);
 * - `graceful`: obj now carries its deletionTimestamp and deletionGracePeriodSeconds;
 * - `now`: no grace period applies (the resource has none, or it already ran out).
 */
export type DeleteStep = 'pending' | 'graceful' | 'now';

export function beforeDelete(s: Strategy, obj: KubeObject, opts: DeleteOptions, now: Date): DeleteStep {
  const meta = obj.metadata;
  if (meta.deletionTimestamp !== undefined) {
    const existing = meta.deletionGracePeriodSeconds ?? 0;
    if (existing === 0) return 'now';
    const requested = opts.gracePeriodSeconds;
    if (requested === undefined || requested >= existing) return 'pending';
    // A shorter grace period counts from when the first delete started it.
    const started = Date.parse(meta.deletionTimestamp) - existing * 1000;
    meta.deletionTimestamp = rfc3339(new Date(started + requested * 1000));
    meta.deletionGracePeriodSeconds = requested;
    return 'graceful';
  }
  const grace = s.deleteGracePeriod(obj, opts);
  if (grace === undefined) return 'now';
  meta.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
  meta.deletionGracePeriodSeconds = grace;
  if (meta.generation) meta.generation += 1;
  return 'graceful';
}

/** An object without a grace period that finalizers keep: marked as deleting now, with grace 0. */
export function markAsDeleting(obj: KubeObject, now: Date): void {
  const meta = obj.metadata;
  if (meta.deletionTimestamp === undefined && meta.generation) meta.generation += 1;
  if (meta.deletionTimestamp === undefined || Date.parse(meta.deletionTimestamp) > now.getTime()) meta.deletionTimestamp = rfc3339(now);
  meta.deletionGracePeriodSeconds = 0;
}

/**
 * Whether dependents are orphaned: an explicit choice in the options wins, then a finalizer an
 * earlier delete left, then the resource's default (Orphan only for v1 replication controllers).
 */
function shouldOrphan(s: Strategy, meta: ObjectMeta, opts: DeleteOptions): boolean {
  if (opts.orphanDependents !== undefined) return opts.orphanDependents;
  if (opts.propagationPolicy !== undefined) return opts.propagationPolicy === 'Orphan';
  if (hasFinalizer(meta, orphanFinalizer)) return true;
  if (hasFinalizer(meta, foregroundDeletionFinalizer)) return false;
  return s.garbageCollectionPolicy === 'Orphan';
}

function shouldDeleteDependentsFirst(meta: ObjectMeta, opts: DeleteOptions): boolean {
  if (opts.orphanDependents !== undefined) return false;
  if (opts.propagationPolicy !== undefined) return opts.propagationPolicy === 'Foreground';
  return hasFinalizer(meta, foregroundDeletionFinalizer);
}

/** Sets the garbage collector's finalizers the delete asks for, keeping every other finalizer. */
export function setDeletionFinalizers(s: Strategy, meta: ObjectMeta, opts: DeleteOptions): void {
  if (s.garbageCollectionPolicy === 'Unsupported') return;
  const current = meta.finalizers ?? [];
  const next = current.filter((f) => f !== orphanFinalizer && f !== foregroundDeletionFinalizer);
  if (shouldOrphan(s, meta, opts)) next.push(orphanFinalizer);
  if (shouldDeleteDependentsFirst(meta, opts)) next.push(foregroundDeletionFinalizer);
  const same = next.length === current.length && next.every((f) => current.includes(f));
  if (same) return;
  if (next.length) meta.finalizers = next;
  else delete meta.finalizers;
}
