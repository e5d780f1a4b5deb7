// The garbage collector: the half of deletion propagation the API server leaves to a
// controller. The server only marks an owner (deletionTimestamp and, for the Orphan and
// Foreground policies, the `orphan` or `foregroundDeletion` finalizer) or, for Background,
// removes it at once. From the informers of every resource it monitors, this collector then
//   - deletes objects whose every owner is gone (Background), and drops references to gone
//     owners from objects that still have a live one;
//   - for an owner in foreground deletion, deletes its dependents (in foreground too when they
//     have dependents of their own) and removes the finalizer once no dependent that blocks
//     the owner (ownerReferences[].blockOwnerDeletion) is left, so the owner goes last;
//   - for an owner being orphaned, removes its reference from every dependent, then the finalizer.
// It never trusts an absence in its caches alone: an owner missing from the cache is looked up
// on the server, and a dependent is re-read before it is changed or deleted, at the
// resourceVersion read, so one that changed meanwhile (adopted, orphaned) is left alone.

import {
  foregroundDeletionFinalizer,
  groupVersion,
  hasFinalizer,
  isDeletingDependents,
  isOrphaningDependents,
  orphanFinalizer,
  resourceForKind,
} from '@peapod/api';
import type { KubeObject, OwnerReference, PropagationPolicy } from '@peapod/api';
import { WorkQueue, createLogger, isNotFound } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { mapLimited, splitKey } from '../cache';
import type { SharedCache } from '../cache';
import { itemId, OwnershipGraph, splitItemId } from './graph';
import type { ItemId } from './graph';

export interface GarbageCollectorClient {
  /** The object, or undefined when the server says 404. */
  get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  /** Deletes the object if it still has this uid and resourceVersion (409 otherwise). */
  delete(resource: string, namespace: string | undefined, name: string, uid: string, resourceVersion: string, policy: PropagationPolicy): Promise<void>;
  /** Replaces the object's ownerReferences if it is still at resourceVersion. */
  setOwners(resource: string, namespace: string | undefined, name: string, resourceVersion: string, owners: OwnerReference[]): Promise<void>;
  /** Replaces the object's finalizers if it is still at resourceVersion. */
  setFinalizers(resource: string, namespace: string | undefined, name: string, resourceVersion: string, finalizers: string[]): Promise<void>;
}

export interface GarbageCollectorOptions {
  workers?: number;
  logger?: Logger;
}

/**
 * What an owner reference points at: gone (`dangling`), an owner in foreground deletion
 * (`waiting` for its dependents), or a live owner (`solid`; also any kind this collector
 * cannot look up).
 */
type OwnerState = 'dangling' | 'waiting' | 'solid';

/** Queue keys: an item to examine (delete if ownerless), or an owner whose dependents to orphan. */
type Task = `examine ${ItemId}` | `orphan ${ItemId}`;

/** Dependents released at once when an owner is orphaned. */
const orphanConcurrency = 20;

export class GarbageCollector {
  private readonly queue: WorkQueue<Task>;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly graph = new OwnershipGraph();

  /** caches: the informer of every monitored resource, by resource name. */
  constructor(
    private readonly caches: ReadonlyMap<string, SharedCache<KubeObject>>,
    private readonly api: GarbageCollectorClient,
    opts: GarbageCollectorOptions = {},
  ) {
    this.log = opts.logger ?? createLogger('garbage-collector');
    this.workers = opts.workers ?? 2;
    this.queue = new WorkQueue<Task>({ logger: this.log });
    for (const [resource, cache] of caches) {
      cache.on('add', (obj) => this.added(itemId(resource, obj), obj));
      cache.on('update', (old, obj) => this.updated(itemId(resource, obj), old, obj));
      cache.on('delete', (obj) => this.deleted(itemId(resource, obj), obj));
    }
  }

  /** Waits for every cache (an owner missing from an unsynced cache proves nothing), then collects until stop(). */
  async run(): Promise<void> {
    await Promise.all([...this.caches.values()].map((c) => c.waitForSync()));
    for (const [resource, cache] of this.caches) {
      for (const obj of cache.list()) this.added(itemId(resource, obj), obj);
    }
    await this.queue.run((task) => this.process(task), this.workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  // --- what an event means ---

  private added(id: ItemId, obj: KubeObject): void {
    this.graph.observe(id, obj);
    if (obj.metadata.ownerReferences?.length) this.queue.add(`examine ${id}`);
    this.ownerStarted(id, obj, undefined);
  }

  private updated(id: ItemId, old: KubeObject, obj: KubeObject): void {
    const dropped = this.graph.observe(id, obj);
    if (obj.metadata.ownerReferences?.length && !sameOwners(old, obj)) this.queue.add(`examine ${id}`);
    // An owner in foreground deletion waits on this dependent no longer.
    for (const ref of dropped) this.examineOwner(ref.uid);
    this.ownerStarted(id, obj, old);
  }

  private deleted(id: ItemId, obj: KubeObject): void {
    this.graph.forget(id, obj);
    const uid = obj.metadata.uid ?? '';
    for (const dep of this.graph.dependentsOf(uid)) this.queue.add(`examine ${dep}`);
    for (const ref of obj.metadata.ownerReferences ?? []) this.examineOwner(ref.uid);
  }

  /** An owner marked for foreground or orphan deletion: its dependents' turn. */
  private ownerStarted(id: ItemId, obj: KubeObject, old: KubeObject | undefined): void {
    if (isOrphaningDependents(obj)) this.queue.add(`orphan ${id}`);
    if (isDeletingDependents(obj)) {
      this.queue.add(`examine ${id}`);
      if (old === undefined || !isDeletingDependents(old)) {
        for (const dep of this.graph.dependentsOf(obj.metadata.uid ?? '')) this.queue.add(`examine ${dep}`);
      }
    }
  }

  private examineOwner(uid: string): void {
    const owner = this.graph.itemOf(uid);
    if (owner !== undefined) this.queue.add(`examine ${owner}`);
  }

  // --- the work ---

  async process(task: Task): Promise<void> {
    const space = task.indexOf(' ');
    const id = task.slice(space + 1);
    if (task.startsWith('orphan ')) await this.orphanDependents(id);
    else await this.examine(id);
  }

  private cached(id: ItemId): KubeObject | undefined {
    const { resource, key } = splitItemId(id);
    return this.caches.get(resource)?.get(key);
  }

  /**
   * An owner in foreground deletion: done when no blocking dependent is left. Any other item:
   * deleted when all its owners are gone or waiting on their dependents; cut loose from gone
   * or waiting owners when a live one remains.
   */
  private async examine(id: ItemId): Promise<void> {
    const obj = this.cached(id);
    if (obj === undefined) return;
    if (isDeletingDependents(obj)) {
      await this.finishForeground(id, obj);
      return;
    }
    // Being deleted is a one-way trip: nothing to decide until it is gone.
    if (obj.metadata.deletionTimestamp !== undefined) return;
    const refs = obj.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const states = new Map<string, OwnerState>();
    for (const ref of refs) states.set(ref.uid, await this.ownerState(ref, obj.metadata.namespace));
    if ([...states.values()].every((s) => s === 'solid')) return;

    const { resource, key } = splitItemId(id);
    const { namespace, name } = splitKey(key);
    const ns = namespace || undefined;
    const fresh = await this.api.get(resource, ns, name);
    if (fresh === undefined || fresh.metadata.uid !== obj.metadata.uid || fresh.metadata.deletionTimestamp !== undefined) return;
    const freshRefs = fresh.metadata.ownerReferences ?? [];
    for (const ref of freshRefs) if (!states.has(ref.uid)) states.set(ref.uid, await this.ownerState(ref, fresh.metadata.namespace));
    const solid = freshRefs.filter((r) => states.get(r.uid) === 'solid');
    const waiting = freshRefs.filter((r) => states.get(r.uid) === 'waiting');
    const uid = fresh.metadata.uid ?? '';
    const rv = fresh.metadata.resourceVersion ?? '';
    try {
      if (solid.length > 0) {
        if (solid.length === freshRefs.length) return;
        await this.api.setOwners(resource, ns, name, rv, solid);
        this.log.info('removed references to owners that are gone or being deleted', { item: id });
        return;
      }
      if (freshRefs.length === 0) return;
      // An owner waits in foreground: a dependent that has dependents of its own makes them go first too.
      const hasDependents = this.graph.dependentsOf(uid).length > 0;
      const policy: PropagationPolicy =
        waiting.length > 0 && hasDependents
          ? 'Foreground'
          : hasFinalizer(fresh.metadata, orphanFinalizer)
            ? 'Orphan'
            : hasFinalizer(fresh.metadata, foregroundDeletionFinalizer)
              ? 'Foreground'
              : 'Background';
      await this.api.delete(resource, ns, name, uid, rv, policy);
      this.log.info('deleted an object whose owners are gone or being deleted', { item: id, propagationPolicy: policy });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  private async ownerState(ref: OwnerReference, namespace: string | undefined): Promise<OwnerState> {
    const info = resourceForKind(ref.kind);
    if (info === undefined || groupVersion(info) !== ref.apiVersion) return 'solid';
    const ownerNamespace = info.namespaced ? namespace : undefined;
    // The cache first: the controllers act on what it holds, so an owner it still holds live is live.
    const cached = this.caches.get(info.name)?.get(ownerNamespace ? `${ownerNamespace}/${ref.name}` : ref.name);
    if (cached?.metadata.uid === ref.uid) return isDeletingDependents(cached) ? 'waiting' : 'solid';
    const owner = await this.api.get(info.name, ownerNamespace, ref.name);
    if (owner === undefined || owner.metadata.uid !== ref.uid) return 'dangling';
    return isDeletingDependents(owner) ? 'waiting' : 'solid';
  }

  /** Foreground: the owner goes (its finalizer removed) once no dependent blocks it; until then its blocking dependents are deleted. */
  private async finishForeground(id: ItemId, owner: KubeObject): Promise<void> {
    const uid = owner.metadata.uid ?? '';
    const blocking = this.graph.dependentsOf(uid).filter((dep) => {
      const ref = this.cached(dep)?.metadata.ownerReferences?.find((r) => r.uid === uid);
      return ref?.blockOwnerDeletion === true;
    });
    if (blocking.length === 0) {
      await this.removeFinalizer(id, owner, foregroundDeletionFinalizer);
      return;
    }
    for (const dep of blocking) {
      const obj = this.cached(dep);
      if (obj !== undefined && !isDeletingDependents(obj)) this.queue.add(`examine ${dep}`);
    }
  }

  /** Orphan: every dependent loses its reference to the owner, then the owner its finalizer. */
  private async orphanDependents(id: ItemId): Promise<void> {
    const owner = this.cached(id);
    if (owner === undefined || !isOrphaningDependents(owner)) return;
    const uid = owner.metadata.uid ?? '';
    const results = await mapLimited(this.graph.dependentsOf(uid), orphanConcurrency, async (dep) => {
      const { resource, key } = splitItemId(dep);
      const { namespace, name } = splitKey(key);
      const ns = namespace || undefined;
      const fresh = await this.api.get(resource, ns, name);
      const refs = fresh?.metadata.ownerReferences ?? [];
      if (fresh === undefined || !refs.some((r) => r.uid === uid)) return;
      await this.api.setOwners(resource, ns, name, fresh.metadata.resourceVersion ?? '', refs.filter((r) => r.uid !== uid));
    });
    const failed = results.find((r) => r.status === 'rejected' && !isNotFound(r.reason));
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    await this.removeFinalizer(id, owner, orphanFinalizer);
    this.log.info('orphaned the dependents of a deleted owner', { owner: id });
  }

  private async removeFinalizer(id: ItemId, owner: KubeObject, finalizer: string): Promise<void> {
    const { resource, key } = splitItemId(id);
    const { namespace, name } = splitKey(key);
    const ns = namespace || undefined;
    const fresh = await this.api.get(resource, ns, name);
    if (fresh === undefined || fresh.metadata.uid !== owner.metadata.uid || !hasFinalizer(fresh.metadata, finalizer)) return;
    const rest = (fresh.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    try {
      await this.api.setFinalizers(resource, ns, name, fresh.metadata.resourceVersion ?? '', rest);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function sameOwners(a: KubeObject, b: KubeObject): boolean {
  const ua = (a.metadata.ownerReferences ?? []).map((r) => r.uid).join(',');
  const ub = (b.metadata.ownerReferences ?? []).map((r) => r.uid).join(',');
  return ua === ub;
}

/** GarbageCollectorClient over the real API. */
export class ApiGarbageCollectorClient implements GarbageCollectorClient {
  constructor(private readonly client: Client) {}

  async get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.client.get(resource, name, { namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(resource: string, namespace: string | undefined, name: string, uid: string, resourceVersion: string, policy: PropagationPolicy): Promise<void> {
    await this.client.delete(resource, name, { namespace, preconditions: { uid, resourceVersion }, propagationPolicy: policy });
  }

  // In a merge patch null removes a field; naming the resourceVersion makes it a precondition.
  async setOwners(resource: string, namespace: string | undefined, name: string, resourceVersion: string, owners: OwnerReference[]): Promise<void> {
    const patch = { metadata: { resourceVersion, ownerReferences: owners.length > 0 ? owners : null } };
    await this.client.patch(resource, name, patch, 'merge', { namespace });
  }

  async setFinalizers(resource: string, namespace: string | undefined, name: string, resourceVersion: string, finalizers: string[]): Promise<void> {
    const patch = { metadata: { resourceVersion, finalizers: finalizers.length > 0 ? finalizers : null } };
    await this.client.patch(resource, name, patch, 'merge', { namespace });
  }
}
