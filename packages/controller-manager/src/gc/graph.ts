// The ownership graph the garbage collector reads: which observed object has which uid, and
// which objects name a uid as their owner. Built from the informers' events only (no I/O), so
// it is exactly as current as the caches the controllers act on.

import type { KubeObject, OwnerReference } from '@peapod/api';
import { objectKey } from '@peapod/client';

/** An object in the graph: `<resource>/<namespace>/<name>`, or `<resource>/<name>` when cluster-scoped. */
export type ItemId = string;

export function itemId(resource: string, obj: KubeObject): ItemId {
  return `${resource}/${objectKey(obj)}`;
}

/** The resource and the cache key (`ns/name` or `name`) of an item. */
export function splitItemId(id: ItemId): { resource: string; key: string } {
  const slash = id.indexOf('/');
  return { resource: id.slice(0, slash), key: id.slice(slash + 1) };
}

export class OwnershipGraph {
  /** uid → the item observed with it */
  private readonly items = new Map<string, ItemId>();
  /** owner uid → the items whose ownerReferences name it (the owner itself need not be observed) */
  private readonly dependents = new Map<string, Set<ItemId>>();
  /** item → the owners it named when last observed */
  private readonly owners = new Map<ItemId, OwnerReference[]>();

  /** Records the object's current state; returns the owner references it dropped since the last one. */
  observe(id: ItemId, obj: KubeObject): OwnerReference[] {
    const uid = obj.metadata.uid;
    if (uid !== undefined) this.items.set(uid, id);
    const before = this.owners.get(id) ?? [];
    const after = obj.metadata.ownerReferences ?? [];
    const dropped = before.filter((r) => !after.some((a) => a.uid === r.uid));
    for (const ref of dropped) this.unlink(ref.uid, id);
    for (const ref of after) {
      let set = this.dependents.get(ref.uid);
      if (set === undefined) this.dependents.set(ref.uid, (set = new Set()));
      set.add(id);
    }
    if (after.length > 0) this.owners.set(id, after);
    else this.owners.delete(id);
    return dropped;
  }

  forget(id: ItemId, obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (uid !== undefined && this.items.get(uid) === id) this.items.delete(uid);
    for (const ref of this.owners.get(id) ?? []) this.unlink(ref.uid, id);
    this.owners.delete(id);
  }

  /** The observed item with this uid. */
  itemOf(uid: string): ItemId | undefined {
    return this.items.get(uid);
  }

  dependentsOf(uid: string): ItemId[] {
    return [...(this.dependents.get(uid) ?? [])];
  }

  private unlink(ownerUid: string, id: ItemId): void {
    const set = this.dependents.get(ownerUid);
    set?.delete(id);
    if (set?.size === 0) this.dependents.delete(ownerUid);
  }
}
