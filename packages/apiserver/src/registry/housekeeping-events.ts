// Event expiry as a TTL index would do it: a queue of (key, event time) ordered by time, fed
// by a watch on /events/ that starts from a list of what is stored (so events from before a
// restart, and those other API servers write, are covered). A pass pops only what is due.
//
// The invariant: every stored event has an entry in the queue whose time is no later than
// the event's current time. Entries are not removed when an event changes or goes: a popped
// entry is checked against the event as the cache holds it now (gone: dropped; moved later
// by an update: queued again at its new time), so an update or a delete costs nothing here.
import type { Event, KubeObject } from '@peapod/api';
import type { Registry } from './registry';
import type { StoreEvent, Store, StoreWatch, StoredEntry } from '../storage/types';
import { StatusError } from '../errors';

/** Events looked at (and at most deleted) in one chunk of a pass. */
const chunk = 100;

/**
 * A binary min-heap of keys by time in two flat arrays: per queued event one key and one
 * number, no object (the envelope queues some 380,000). Events arrive mostly in time order,
 * so a push seldom moves up more than a step. A hand-written heap, as the maintained
 * flat-array queues are ES modules only, which this CommonJS build cannot load.
 */
export class ExpiryQueue {
  private readonly keys: string[] = [];
  private readonly times: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** The earliest time queued (Infinity when empty). */
  peekTime(): number {
    return this.keys.length ? this.times[0] : Infinity;
  }

  push(key: string, time: number): void {
    let i = this.keys.length;
    this.keys.push(key);
    this.times.push(time);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent] <= time) break;
      this.keys[i] = this.keys[parent];
      this.times[i] = this.times[parent];
      i = parent;
    }
    this.keys[i] = key;
    this.times[i] = time;
  }

  /** Removes and answers the key with the earliest time. */
  pop(): string | undefined {
    if (!this.keys.length) return undefined;
    const top = this.keys[0];
    const lastKey = this.keys.pop()!;
    const lastTime = this.times.pop()!;
    const n = this.keys.length;
    if (n) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && this.times[child + 1] < this.times[child]) child++;
        if (this.times[child] >= lastTime) break;
        this.keys[i] = this.keys[child];
        this.times[i] = this.times[child];
        i = child;
      }
      this.keys[i] = lastKey;
      this.times[i] = lastTime;
    }
    return top;
  }
}

/** Expires events older than the TTL through the queue; one instance per API server. */
export class EventExpiry {
  private followed?: { queue: ExpiryQueue; watch: StoreWatch };
  private stopped = false;

  constructor(
    private readonly registry: Registry,
    private readonly store: Store,
    private readonly ttlSeconds: number,
    private readonly now: () => number,
  ) {}

  /** Lists the stored events and follows their changes, unless already following. */
  async follow(): Promise<ExpiryQueue> {
    if (this.followed) return this.followed.queue;
    const queue = new ExpiryQueue();
    let ended = false;
    const follower = {
      send: (e: StoreEvent) => heard(queue, e),
      // The store's cache was reloaded: the next pass lists again into a new queue.
      end: () => {
        ended = true;
        if (this.followed?.queue !== queue) return;
        this.followed.watch.stop();
        this.followed = undefined;
      },
    };
    const { list, watch } = await this.store.listAndWatch('/events/', undefined, follower);
    for (const entry of list.items) queueAt(queue, entry.key, eventTime(entry.object));
    // Stopped while listing, the watch must not outlive the server; ended already, this queue serves one pass.
    if (this.stopped || ended) watch.stop();
    else this.followed = { queue, watch };
    return queue;
  }

  stop(): void {
    this.stopped = true;
    this.followed?.watch.stop();
    this.followed = undefined;
  }

  /** Deletes the events whose time is more than the TTL ago; answers how many went. */
  async expire(): Promise<number> {
    const queue = await this.follow();
    const cutoff = this.now() - this.ttlSeconds * 1000;
    // Events whose delete did not go through (changed by another writer meanwhile, or the store
    // failed): looked at again in the next pass, once the cache has heard of the change.
    const kept: { key: string; time: number }[] = [];
    let removed = 0;
    try {
      while (queue.peekTime() < cutoff) {
        const doomed: StoredEntry[] = [];
        for (let looked = 0; looked < chunk && queue.peekTime() < cutoff; looked++) {
          const key = queue.pop()!;
          const entry = this.store.cache.get(key);
          if (!entry) continue;
          const time = eventTime(entry.object);
          if (time < cutoff) doomed.push(entry);
          else queueAt(queue, key, time);
        }
        // A chunk's deletes go together, so that the store can commit them together; requests go first between chunks.
        const outcomes = await Promise.allSettled(doomed.map((entry) => this.remove(entry)));
        let failure: { reason: unknown } | undefined;
        outcomes.forEach((o, i) => {
          if (o.status === 'fulfilled' && o.value === 'removed') removed++;
          if (o.status === 'rejected' || o.value === 'changed') kept.push({ key: doomed[i].key, time: eventTime(doomed[i].object) });
          if (o.status === 'rejected') failure ??= o;
        });
        if (failure) throw failure.reason;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      for (const k of kept) queue.push(k.key, k.time);
    }
    return removed;
  }

  /** Deletes the event as it was read, and nothing newer: it may have gone, or changed, meanwhile. */
  private async remove(entry: StoredEntry): Promise<'removed' | 'gone' | 'changed'> {
    const meta = entry.object.metadata;
    try {
      await this.registry.delete('events', meta.namespace, meta.name!, { preconditions: { uid: meta.uid, resourceVersion: meta.resourceVersion } });
      return 'removed';
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) return 'gone';
      if (err instanceof StatusError && err.code === 409) return 'changed';
      throw err;
    }
  }
}

/** Keeps the invariant for a change: a new event is queued; an update only if it moved the event's time earlier. */
function heard(queue: ExpiryQueue, e: StoreEvent): void {
  if (e.type === 'DELETED') return;
  const time = eventTime(e.object);
  if (e.type === 'MODIFIED' && e.prev && eventTime(e.prev) <= time) return;
  queueAt(queue, e.key, time);
}

/** An event without a readable time never expires (as a comparison with NaN says), so it is not queued. */
function queueAt(queue: ExpiryQueue, key: string, time: number): void {
  if (!Number.isNaN(time)) queue.push(key, time);
}

/** The time an event's age counts from: its latest occurrence (an update of a series moves it on). */
function eventTime(obj: KubeObject): number {
  const e = obj as Event;
  const t = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}
