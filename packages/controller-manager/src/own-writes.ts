// A controller's own writes laid over its informer's cache. What a controller wrote is what
// it reads back until the watch brings that version (or a newer one, or the object's
// deletion): a sync right after a write neither acts on the old version (writing again, or
// conflicting on its stale resourceVersion) nor has to wait for the watch. Kubernetes'
// endpoints controllers reach the same end by tracking the versions they wrote and retrying
// while the cache is behind. resourceVersions are compared as numbers: Peapod's are the
// store's one global revision.

import type { KubeObject } from '@peapod/api';
import { objectKey } from '@peapod/client';
import type { SharedCache } from './cache';

interface Pending<T> {
  /** undefined: deleted by us */
  obj: T | undefined;
  rv: number;
}

function rvOf(obj: KubeObject): number {
  return Number(obj.metadata.resourceVersion ?? 0) || 0;
}

export class OwnWrites<T extends KubeObject> {
  private readonly pending = new Map<string, Pending<T>>();

  constructor(private readonly cache: SharedCache<T>) {
    cache.on('add', (obj) => this.seen(obj));
    cache.on('update', (_old, obj) => this.seen(obj));
    cache.on('delete', (obj) => this.pending.delete(objectKey(obj)));
  }

  /** Records an object as the server returned it from our create or update. */
  wrote(obj: T): void {
    this.pending.set(objectKey(obj), { obj, rv: rvOf(obj) });
  }

  /** Records our delete (the object as the server returned it, carrying the deletion's revision). */
  deleted(obj: T): void {
    this.pending.set(objectKey(obj), { obj: undefined, rv: rvOf(obj) });
  }

  /**
   * Whether a watch event is our own write (or delete) coming back. Meaningful only in a handler
   * registered on the cache before this OwnWrites was made: after it runs, the write is forgotten.
   */
  isOwnWrite(obj: T): boolean {
    return this.pending.get(objectKey(obj))?.rv === rvOf(obj);
  }

  /** The cached object, or our newer write of it; undefined when we deleted it. */
  get(key: string): T | undefined {
    const p = this.pending.get(key);
    return p ? p.obj : this.cache.get(key);
  }

  /** Our own writes not yet in the cache that pass the filter (created objects, mostly). */
  *unseen(filter: (obj: T) => boolean): Iterable<T> {
    for (const [key, p] of this.pending) if (p.obj && !this.cache.get(key) && filter(p.obj)) yield p.obj;
  }

  private seen(obj: T): void {
    const key = objectKey(obj);
    const p = this.pending.get(key);
    if (p && rvOf(obj) >= p.rv) this.pending.delete(key);
  }
}
