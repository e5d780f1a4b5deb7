import type { KubeObject } from '@peapod/api';
import { ParsedOnRead } from './json-entry';
import { KeyIndex } from './key-index';
import type { KeySnapshot } from './key-index';
import { CachedObjects, ListOptions, ListResult, ListSnapshotExpiredError, ListSnapshotRef, RevisionCompactedError, selectableOf, StoreEvent, StoredEntry, StoreWatch, WatchSink } from './types';

interface Watcher {
  prefix: string;
  sink: WatchSink;
}

/** The live watchers of one resource: those without an index hint, and the others by field and value. */
interface WatcherGroup {
  all: Set<Watcher>;
  byField: Map<string, { of: (o: KubeObject) => string; byValue: Map<string, Set<Watcher>> }>;
}

export interface WatchCacheOptions {
  /** how many recent events are kept in memory to start watches without asking the store */
  recentEvents?: number;
  /**
   * The events after fromRev from the store's own history, for a watch reaching back past the
   * recent events; undefined when the store keeps none that old.
   */
  history?: (fromRev: number) => StoreEvent[] | undefined;
  /**
   * Resources whose stored objects are kept only as their JSON, parsed whenever an entry's
   * `object` is read, selectors included: for many objects that are written once and seldom
   * read (events, about two per pod), a parsed object is a score of small objects that each
   * full garbage collection marks, where its text is one (in an API server holding 150,000
   * pods and 380,000 events, a full collection took about 40% less time with the events as
   * text, for 14% more heap). The key index keeps each as one string, its revision and its
   * JSON (json-entry.ts), and makes its entry when it is read. A list passes over those
   * whose text lacks what its field selector requires (ListOptions.contains) before parsing
   * any, so their selectable fields must be strings that the JSON holds as they are read (no
   * defaults).
   */
  jsonOnly?: ReadonlySet<string>;
  /**
   * Resources whose stored objects are kept only as JSON, parsed again when an entry's
   * `object` is read, with what selectors read of them (the view this gives): for the many
   * objects of the biggest kind (pods, ~150,000 at Kubernetes' scale limit), a parsed object
   * costs several times its text, and every object the heap holds is work for each of the
   * garbage collector's full marks.
   */
  parseOnRead?: ReadonlyMap<string, (object: KubeObject) => KubeObject>;
  /**
   * Fields whose values are indexed for lists, by resource: a list selecting one value reads
   * only the objects with it (Kubernetes' watch cache indexes pods by `spec.nodeName`, so that
   * a node agent's list of its own pods does not walk every pod of the cluster).
   */
  listIndexes?: ReadonlyMap<string, ReadonlyMap<string, (object: KubeObject) => string>>;
  /**
   * How long a list's snapshot is kept for its next page after the last one was read, and
   * how many are kept at most (the least recently read go first). A snapshot holds the
   * objects written since it was taken, so a list given up halfway costs memory until then.
   */
  listSnapshots?: { idleMs?: number; max?: number };
}

/** The snapshot a list cut by its limit left for its next pages (see WatchCache.list). */
interface HeldSnapshot {
  ref: ListSnapshotRef;
  resource: string;
  keys: KeySnapshot;
  readAt: number;
}

/** One resource's list indexes: for each indexed field, the keys by value. */
type ResourceIndexes = Map<string, { of: (object: KubeObject) => string; byValue: Map<string, Set<string>> }>;

/**
 * A recent event of a resource kept only as JSON (see WatchCacheOptions.parseOnRead and
 * jsonOnly), as the watch cache keeps it: its JSON and its selectors' view (the stored
 * entry's own), its object parsed when read. The recent events hold about a minute of a big
 * cluster's writes, and a parsed pod is dozens of objects for each full collection to mark.
 */
class RecentEvent implements StoreEvent {
  readonly type: StoreEvent['type'];
  readonly key: string;
  readonly rev: number;
  readonly json: string;
  readonly prev?: KubeObject;

  constructor(
    event: StoreEvent,
    readonly selectable?: KubeObject,
    json = event.json,
  ) {
    this.type = event.type;
    this.key = event.key;
    this.rev = event.rev;
    this.json = json;
    this.prev = event.prev;
  }

  get object(): KubeObject {
    return JSON.parse(this.json) as KubeObject;
  }
}

/**
 * The API server's mirror of the store (Kubernetes' watch cache): every current object by
 * key, the recent events, and the watchers, fed by the backend with each committed change in
 * revision order. Lists and watches are served from it; a watch registered in the same turn
 * of the event loop as a list sees exactly the changes after that list's revision. Both
 * backends use it: SQLite feeds it as it commits, etcd from one watch on the key prefix.
 */
export class WatchCache implements CachedObjects {
  private readonly index = new KeyIndex();
  private readonly listIndexes = new Map<string, ResourceIndexes>();
  private readonly recent: StoreEvent[] = [];
  private readonly recentMax: number;
  private readonly watchers = new Map<string, WatcherGroup>();
  private readonly waiters: { rev: number; resolve: () => void }[] = [];
  private rev = 0;
  /** the revision the cache was (re)loaded at: it has no events from before it */
  private loadedAt = 0;
  /** by id, the least recently read first */
  private readonly snapshots = new Map<number, HeldSnapshot>();
  private nextSnapshotId = 1;
  private snapshotSweep: NodeJS.Timeout | undefined;
  private readonly snapshotIdleMs: number;
  private readonly snapshotMax: number;

  constructor(private readonly opts: WatchCacheOptions = {}) {
    this.recentMax = opts.recentEvents ?? 20_000;
    this.snapshotIdleMs = opts.listSnapshots?.idleMs ?? 60_000;
    this.snapshotMax = opts.listSnapshots?.max ?? 16;
    this.resetListIndexes();
  }

  private resetListIndexes(): void {
    for (const [resource, fields] of this.opts.listIndexes ?? []) {
      this.listIndexes.set(resource, new Map([...fields].map(([field, of]) => [field, { of, byValue: new Map() }])));
    }
  }

  /** Moves key in its resource's list indexes from what it was (if it was) to what it is (if it still is). */
  private reindex(indexes: ResourceIndexes, key: string, before: StoredEntry | undefined, after: KubeObject | undefined): void {
    for (const { of, byValue } of indexes.values()) {
      const was = before ? of(selectableOf(before)) : undefined;
      const is = after ? of(after) : undefined;
      if (was === is) continue;
      if (was !== undefined) {
        const keys = byValue.get(was)!;
        keys.delete(key);
        if (keys.size === 0) byValue.delete(was);
      }
      if (is !== undefined) {
        let keys = byValue.get(is);
        if (!keys) byValue.set(is, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  /**
   * The keys under prefix after `after`, in key order, that the list's index hint allows, when
   * an index of that field narrows the list to well under the resource's objects; else
   * undefined (walking the keys costs less than sorting most of them).
   */
  private indexedKeys(prefix: string, opts: ListOptions): string[] | undefined {
    const hint = opts.index;
    if (!hint) return undefined;
    const resource = resourceOf(prefix);
    const field = this.listIndexes.get(resource)?.get(hint.field);
    if (!field) return undefined;
    const keys = field.byValue.get(hint.value);
    if (!keys) return [];
    if (keys.size * 8 > this.index.count(resource)) return undefined;
    const after = opts.after;
    const out: string[] = [];
    for (const key of keys) if (key.startsWith(prefix) && (after === undefined || key > after)) out.push(key);
    return out.sort();
  }

  get revision(): number {
    return this.rev;
  }

  /**
   * Replaces the contents with the objects as of rev (start-up, or a relist after the
   * store's history ran out): every watch ends, since changes between are unknown.
   */
  load(entries: Iterable<StoredEntry>, rev: number): void {
    for (const group of this.watchers.values()) {
      for (const w of group.all) w.sink.end?.();
      for (const { byValue } of group.byField.values()) for (const set of byValue.values()) for (const w of set) w.sink.end?.();
    }
    this.watchers.clear();
    this.index.clear();
    this.resetListIndexes();
    for (const e of entries) {
      const resource = resourceOf(e.key);
      const indexes = this.listIndexes.get(resource);
      if (indexes) this.reindex(indexes, e.key, undefined, e.object);
      this.keep(resource, e.key, e.rev, e.object, e.json);
    }
    this.recent.length = 0;
    this.snapshots.clear();
    this.loadedAt = rev;
    this.progress(rev);
  }

  /** Keeps an object as its resource is kept (see jsonOnly and parseOnRead): the entry kept (for one kept only as its JSON, made of what is kept). */
  private keep(resource: string, key: string, rev: number, object: KubeObject, json: string): StoredEntry {
    if (this.opts.jsonOnly?.has(resource)) return this.index.setJson(key, rev, json);
    const view = this.opts.parseOnRead?.get(resource);
    const entry = view ? new ParsedOnRead(key, rev, json, view(object)) : { key, rev, object, json };
    this.index.set(entry);
    return entry;
  }

  /**
   * An event as the recent events keep it: without its parsed object where the stored entries
   * keep none (entry: the one it stored, whose JSON it shares: the write's own is a copy).
   */
  private recentOf(resource: string, event: StoreEvent, entry: StoredEntry | undefined): StoreEvent {
    if (this.opts.jsonOnly?.has(resource)) return new RecentEvent(event, undefined, entry?.json);
    const view = this.opts.parseOnRead?.get(resource);
    if (!view) return event;
    return new RecentEvent(event, entry?.selectable ?? view(event.object));
  }

  get(key: string): StoredEntry | undefined {
    return this.index.get(key);
  }

  /**
   * Objects under prefix in key order. A list cut by its limit leaves a snapshot of its
   * resource as it is now, and its continue pages (opts.snapshot) are read from it: every page
   * shows the objects as they were at the first page's revision, as Kubernetes' do.
   */
  list(prefix: string, opts: ListOptions = {}): ListResult {
    const resource = resourceOf(prefix);
    const held = opts.snapshot ? this.heldSnapshot(opts.snapshot, resource) : undefined;
    const items: StoredEntry[] = [];
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    let continueAfter: string | undefined;
    const keys = held ? undefined : this.indexedKeys(prefix, opts);
    const entries = held ? held.keys.range(prefix, opts.after) : keys ? keys.map((key) => this.index.get(key)!) : this.index.range(prefix, opts.after);
    const contains = opts.contains?.length ? opts.contains : undefined;
    for (const entry of entries) {
      if (contains && entry instanceof ParsedOnRead && !entry.selectable && !contains.every((text) => entry.json.includes(text))) continue;
      if (opts.filter && !opts.filter(selectableOf(entry))) continue;
      if (items.length === limit) {
        continueAfter = items[items.length - 1].key;
        break;
      }
      items.push(entry);
    }
    const rev = held ? held.ref.rev : this.rev;
    if (continueAfter === undefined) return { items, rev };
    return { items, rev, continueAfter, snapshot: held ? this.reread(held) : this.keepSnapshot(resource, rev) };
  }

  private keepSnapshot(resource: string, rev: number): ListSnapshotRef {
    const ref = { rev, id: this.nextSnapshotId++ };
    this.snapshots.set(ref.id, { ref, resource, keys: this.index.snapshot(resource), readAt: Date.now() });
    if (this.snapshots.size > this.snapshotMax) this.snapshots.delete(this.snapshots.keys().next().value!);
    this.sweepSnapshotsLater();
    return ref;
  }

  /** The snapshot a continue page asks for, taken out until the page is cut again (reread). */
  private heldSnapshot(ref: ListSnapshotRef, resource: string): HeldSnapshot {
    const held = this.snapshots.get(ref.id);
    if (!held || held.ref.rev !== ref.rev || held.resource !== resource) throw new ListSnapshotExpiredError(ref);
    this.snapshots.delete(ref.id);
    return held;
  }

  private reread(held: HeldSnapshot): ListSnapshotRef {
    held.readAt = Date.now();
    this.snapshots.set(held.ref.id, held);
    return held.ref;
  }

  private sweepSnapshotsLater(): void {
    if (this.snapshotSweep) return;
    this.snapshotSweep = setTimeout(() => {
      this.snapshotSweep = undefined;
      const idleSince = Date.now() - this.snapshotIdleMs;
      for (const [id, held] of this.snapshots) {
        if (held.readAt > idleSince) break;
        this.snapshots.delete(id);
      }
      if (this.snapshots.size > 0) this.sweepSnapshotsLater();
    }, this.snapshotIdleMs / 4);
    this.snapshotSweep.unref();
  }

  objectCount(resource: string): number {
    return this.index.count(resource);
  }

  count(prefix: string): number {
    let n = 0;
    for (const _ of this.index.range(prefix)) n++;
    return n;
  }

  /** A committed change, in revision order. */
  apply(event: StoreEvent): void {
    const resource = resourceOf(event.key);
    const indexes = this.listIndexes.size > 0 ? this.listIndexes.get(resource) : undefined;
    if (indexes) this.reindex(indexes, event.key, this.index.get(event.key), event.type === 'DELETED' ? undefined : event.object);
    let entry: StoredEntry | undefined;
    if (event.type === 'DELETED') this.index.delete(event.key);
    else entry = this.keep(resource, event.key, event.rev, event.object, event.json);
    this.recent.push(this.recentOf(resource, event, entry));
    // Trimmed in batches so a write does not pay for shifting the whole array.
    if (this.recent.length > this.recentMax + 1024) this.recent.splice(0, this.recent.length - this.recentMax);
    this.publish(resource, event);
    this.progress(event.rev);
  }

  /** Nothing the cache holds changed after its last change up to rev (only keys it does not keep did). */
  advance(rev: number): void {
    this.progress(rev);
  }

  /** The cache holds every change up to rev. */
  private progress(rev: number): void {
    if (rev <= this.rev) return;
    this.rev = rev;
    if (this.waiters.length === 0) return;
    let kept = 0;
    for (const w of this.waiters) {
      if (w.rev <= rev) w.resolve();
      else this.waiters[kept++] = w;
    }
    this.waiters.length = kept;
  }

  /** Resolves once the cache has caught up to rev (a consistent read waits for this). */
  waitFor(rev: number): Promise<void> {
    if (rev <= this.rev) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ rev, resolve }));
  }

  private publish(resource: string, event: StoreEvent): void {
    const group = this.watchers.get(resource);
    if (!group) return;
    for (const w of group.all) {
      if (event.key.startsWith(w.prefix)) w.sink.send(event);
    }
    for (const { of, byValue } of group.byField.values()) {
      const now = byValue.get(of(event.selectable ?? event.object));
      const before = event.prev ? byValue.get(of(event.prev)) : undefined;
      if (now) for (const w of now) if (event.key.startsWith(w.prefix)) w.sink.send(event);
      if (before && before !== now) for (const w of before) if (event.key.startsWith(w.prefix)) w.sink.send(event);
    }
  }

  /** The oldest revision a watch may start from. */
  private get oldestRevision(): number {
    return this.recent.length ? this.recent[0].rev - 1 : this.rev;
  }

  /** Sends the changes after fromRev under prefix, then every live one, until stopped. */
  watch(prefix: string, fromRev: number, sink: WatchSink): StoreWatch {
    for (const event of this.history(fromRev)) {
      if (event.key.startsWith(prefix)) sink.send(event);
    }
    const watcher: Watcher = { prefix, sink };
    const resource = resourceOf(prefix);
    let group = this.watchers.get(resource);
    if (!group) this.watchers.set(resource, (group = { all: new Set(), byField: new Map() }));
    const index = sink.index;
    if (!index) {
      const all = group.all;
      all.add(watcher);
      return { stop: () => all.delete(watcher) };
    }
    let field = group.byField.get(index.field);
    if (!field) group.byField.set(index.field, (field = { of: index.of, byValue: new Map() }));
    let set = field.byValue.get(index.value);
    if (!set) field.byValue.set(index.value, (set = new Set()));
    set.add(watcher);
    const byValue = field.byValue;
    return {
      stop: () => {
        set!.delete(watcher);
        if (set!.size === 0 && byValue.get(index.value) === set) byValue.delete(index.value);
      },
    };
  }

  /** Whether memory holds every change after fromRev (the recent events reach back that far). */
  holds(fromRev: number): boolean {
    if (fromRev >= this.rev) return true;
    const oldestRecent = this.recent.length ? this.recent[0].rev : Infinity;
    return fromRev + 1 >= oldestRecent || (this.recent.length === 0 && fromRev >= this.loadedAt);
  }

  /** The events after fromRev: from memory when it reaches back that far, else from the store's history. */
  private history(fromRev: number): StoreEvent[] {
    if (fromRev >= this.rev) return [];
    if (this.holds(fromRev)) return this.recent.slice(lowerBound(this.recent, fromRev + 1));
    const fromStore = this.opts.history?.(fromRev);
    if (fromStore) return fromStore;
    throw new RevisionCompactedError(fromRev, this.oldestRevision);
  }

  /** Ends every watch (the store is closing). */
  close(): void {
    this.watchers.clear();
    this.snapshots.clear();
    clearTimeout(this.snapshotSweep);
    this.snapshotSweep = undefined;
  }
}

export function resourceOf(keyOrPrefix: string): string {
  const end = keyOrPrefix.indexOf('/', 1);
  return end < 0 ? keyOrPrefix.slice(1) : keyOrPrefix.slice(1, end);
}

function lowerBound(events: StoreEvent[], rev: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid].rev < rev) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
