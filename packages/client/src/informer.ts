// An informer keeps a local cache of one resource in step with the server and tells
// handlers what changed. It starts with a streaming list (a watch whose current objects come
// first, as ADDED events, up to a bookmark that says they are all there: Kubernetes'
// sendInitialEvents) and goes on watching on the same stream; a watch that ends is resumed
// from the last resourceVersion seen; a 410 (the server no longer has that history) means
// listing again and diffing against the cache, so handlers see the adds, updates and deletes
// they missed. Connection failures are retried with jittered exponential back-off.
//
// Not a LIST: a list of 150,000 pods is one body of over 500 MB, which a client must hold and
// parse whole (past V8's longest string, it cannot be read at all), its thread held tens of
// seconds meanwhile, long enough for a leader to lose its lease. Events come one by one, as
// fast as the client reads them, from one consistent revision.

import { initialEventsEndAnnotation, StringInterner } from '@peapod/api';
import type { KubeObject, WatchEvent } from '@peapod/api';
import { ConnectionError, isGone } from './errors';
import { createLogger } from './log';
import type { Logger } from './log';
import type { Client } from './rest';
import type { Watch } from './watch';

/** The cache key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  const name = obj.metadata.name ?? '';
  return ns !== undefined && ns !== '' ? `${ns}/${name}` : name;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** Doubling back-off with jitter so that many clients do not retry in lockstep. */
export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions = { initialMs: 200, maxMs: 10_000 }) {}

  next(): number {
    const base = Math.min(this.opts.initialMs * 2 ** this.attempt, this.opts.maxMs);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  reset(): void {
    this.attempt = 0;
  }
}

export interface InformerOptions<T extends KubeObject = KubeObject> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** When set, every cached object is re-delivered as update(obj, obj) this often. */
  resyncMs?: number;
  transport?: 'http' | 'websocket';
  backoff?: BackoffOptions;
  logger?: Logger;
  /**
   * Applied to every object the server sends, before it is cached or handed to handlers
   * (client-go's WithTransform), e.g. stripManagedFields: what a component never reads
   * need not be kept for every object it caches.
   */
  transform?: (obj: T) => T;
  /**
   * Objects are kept without metadata.managedFields: each event loses it before it is parsed
   * (cheaper than stripManagedFields after, which still catches a layout the cut missed); then
   * `transform` runs.
   */
  dropManagedFields?: boolean;
  /**
   * Equal short strings of the cached objects are one string (StringInterner), after
   * `transform`: worth it for an informer of many objects that repeat values, as pods do.
   */
  internStrings?: boolean;
}

/** The object without metadata.managedFields, which few components read and every write grows. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** The values an object is filed under in an index (none: not in it). */
export type IndexFunc<T> = (obj: T) => string[];

interface Index<T> {
  fn: IndexFunc<T>;
  /** value → key → object */
  buckets: Map<string, Map<string, T>>;
}

type AddHandler<T> = (obj: T) => void;
type UpdateHandler<T> = (oldObj: T, newObj: T) => void;
type DeleteHandler<T> = (obj: T) => void;

// A watch that ends this quickly without delivering anything is treated like a failure, so
// a server that closes every watch at once is not hammered.
const minHealthyWatchMs = 1000;
/**
 * How many of a relist's (or a resync's) changes go to the handlers in one turn of the event
 * loop: a controller manager's handlers for 150,000 pods held its thread for 5 s in one.
 */
const replaceChunk = 1000;

/**
 * Handlers run one at a time, in the order the changes happened. They receive the cached
 * objects themselves: treat them as read-only (copy before changing and writing back).
 * delete handlers get the object's last state as the server reported it (or, after a
 * relist, as the cache last knew it).
 */
export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly indexes = new Map<string, Index<T>>();
  private readonly addHandlers: AddHandler<T>[] = [];
  private readonly updateHandlers: UpdateHandler<T>[] = [];
  private readonly deleteHandlers: DeleteHandler<T>[] = [];
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private running = false;
  private synced = false;
  private resourceVersion = '';
  private failureStreak = 0;
  private currentWatch: Watch | undefined;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncing = false;
  private syncWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /** Watch events that came while a relist was handing out its changes: applied after them, in order. */
  private held: WatchEvent<T>[] | undefined;
  /** Counts starts, so that a relist of an informer since stopped (and started again) ends. */
  private generation = 0;
  /** What every object from the server goes through before it is cached: options' transform and dropManagedFields. */
  private readonly transform: ((obj: T) => T) | undefined;

  constructor(
    private readonly client: Client,
    readonly resource: string,
    private readonly opts: InformerOptions<T> = {},
  ) {
    this.log = opts.logger ?? createLogger('informer');
    this.backoff = new Backoff(opts.backoff);
    const steps: ((obj: T) => T)[] = [];
    // An event whose text did not let managedFields be cut (an unusual layout) still loses it here.
    if (opts.dropManagedFields) steps.push(stripManagedFields);
    if (opts.transform) steps.push(opts.transform);
    if (opts.internStrings) {
      const interner = new StringInterner();
      steps.push((obj) => interner.internValues(obj));
    }
    this.transform = steps.length === 0 ? undefined : steps.length === 1 ? steps[0] : (obj) => steps.reduce((o, step) => step(o), obj);
  }

  on(event: 'add', handler: AddHandler<T>): this;
  on(event: 'update', handler: UpdateHandler<T>): this;
  on(event: 'delete', handler: DeleteHandler<T>): this;
  on(event: 'add' | 'update' | 'delete', handler: AddHandler<T> | UpdateHandler<T>): this {
    if (event === 'add') this.addHandlers.push(handler as AddHandler<T>);
    else if (event === 'update') this.updateHandlers.push(handler as UpdateHandler<T>);
    else this.deleteHandlers.push(handler as DeleteHandler<T>);
    return this;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.held = undefined;
    void this.run();
    if (this.opts.resyncMs !== undefined && this.opts.resyncMs > 0) {
      this.resyncTimer = setInterval(() => void this.resync(), this.opts.resyncMs);
    }
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.currentWatch?.stop();
    this.currentWatch = undefined;
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w.reject(new Error(`informer for ${this.resource} stopped before it synced`));
  }

  /** True once the first list has been applied to the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (!this.running) return Promise.reject(new Error(`informer for ${this.resource} is not running`));
    return new Promise<void>((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  list(): T[] {
    return [...this.store.values()];
  }

  /**
   * Files every cached object, now and from now on, under the values fn gives it, so that
   * byIndex finds them without walking the whole cache (client-go's indexers).
   */
  addIndex(name: string, fn: IndexFunc<T>): this {
    if (this.indexes.has(name)) throw new Error(`informer for ${this.resource} already has an index ${name}`);
    const index: Index<T> = { fn, buckets: new Map() };
    this.indexes.set(name, index);
    for (const [key, obj] of this.store) indexAdd(index, key, obj);
    return this;
  }

  /** The cached objects filed under value in the named index. */
  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`informer for ${this.resource} has no index ${name}`);
    const bucket = index.buckets.get(value);
    return bucket ? [...bucket.values()] : [];
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  /** The resourceVersion the cache reflects (from the last list, event or bookmark). */
  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (this.running) {
      const outcome = await this.watchOnce(needList);
      if (!this.running) return;
      if (outcome.listed) needList = false;
      const wasHealthy = outcome.delivered || outcome.durationMs >= minHealthyWatchMs;
      // A watch that worked for a while resets the back-off, even if it then failed.
      if (wasHealthy) this.healthy();
      if (outcome.error === undefined) {
        if (!wasHealthy) await this.sleep(this.backoff.next());
      } else if (isGone(outcome.error)) {
        this.log.info('watch history expired; relisting', { resource: this.resource, resourceVersion: this.resourceVersion });
        needList = true;
      } else if (outcome.error instanceof ConnectionError) {
        await this.retryLater('watch failed', outcome.error);
      } else {
        // A refusal (403, 500, ...) or a stream we could not read may mean our view is wrong: start over.
        needList = true;
        await this.retryLater('watch refused', outcome.error);
      }
    }
  }

  private async retryLater(what: string, err: unknown): Promise<void> {
    const delayMs = this.backoff.next();
    this.failureStreak++;
    // Say it once per outage, not once per retry.
    const fields = { resource: this.resource, error: err, delayMs };
    if (this.failureStreak === 1) this.log.warn(`${what}; retrying`, fields);
    else this.log.debug(`${what}; retrying`, fields);
    await this.sleep(delayMs);
  }

  private healthy(): void {
    this.backoff.reset();
    if (this.failureStreak > 0) this.log.info('reconnected', { resource: this.resource, failures: this.failureStreak });
    this.failureStreak = 0;
  }

  /**
   * The streaming list is complete: the cache becomes what it listed, at its revision. Its
   * changes go to the handlers a chunk per turn of the event loop, and the watch events that
   * come meanwhile wait for them.
   */
  private async listed(items: Map<string, T>, resourceVersion: string): Promise<void> {
    const generation = this.generation;
    this.held = [];
    await this.replace(items, generation);
    if (generation !== this.generation || !this.running) return;
    this.resourceVersion = resourceVersion;
    const held = this.held ?? [];
    this.held = undefined;
    for (const event of held) this.apply(event);
    if (!this.synced) {
      this.synced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  /**
   * Called after each change handed out: every replaceChunk of them it waits for the next turn
   * of the event loop; false once this informer was stopped (or started again) meanwhile.
   */
  private chunked(generation: number): () => Promise<boolean> {
    let changes = 0;
    return async () => {
      if (++changes % replaceChunk === 0) await new Promise((resolve) => setImmediate(resolve));
      return generation === this.generation && this.running;
    };
  }

  /** Makes the cache equal to `fresh`, telling handlers what differed, replaceChunk changes per turn. */
  private async replace(fresh: Map<string, T>, generation: number): Promise<void> {
    const more = this.chunked(generation);
    for (const [key, old] of [...this.store]) {
      if (fresh.has(key)) continue;
      this.remove(key);
      this.emitDelete(old);
      if (!(await more())) return;
    }
    for (const [key, obj] of fresh) {
      const old = this.put(key, obj);
      if (old === undefined) this.emitAdd(obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion || old.metadata.uid !== obj.metadata.uid) {
        this.emitUpdate(old, obj);
      }
      if (!(await more())) return;
    }
  }

  /**
   * One watch: resumed from the last resourceVersion, or (`list`) a streaming list, whose
   * objects are gathered until the bookmark that ends them and then replace the cache.
   * `listed` says whether that bookmark came.
   */
  private async watchOnce(list: boolean): Promise<{ error?: unknown; delivered: boolean; listed: boolean; durationMs: number }> {
    const started = Date.now();
    let delivered = false;
    let listing: Map<string, T> | undefined = list ? new Map() : undefined;
    let relisted: Promise<void> | undefined;
    const watch = this.client.watch<T>(
      this.resource,
      {
        namespace: this.opts.namespace,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        resourceVersion: list ? undefined : this.resourceVersion,
        sendInitialEvents: list ? true : undefined,
        allowWatchBookmarks: true,
        transport: this.opts.transport,
        dropManagedFields: this.opts.dropManagedFields,
      },
      (event) => {
        if (!listing) {
          delivered = true;
          this.apply(event);
        } else if (event.type === 'BOOKMARK') {
          if (event.object.metadata?.annotations?.[initialEventsEndAnnotation] !== 'true') return;
          const items = listing;
          listing = undefined;
          delivered = true;
          relisted = this.listed(items, event.object.metadata.resourceVersion ?? '');
        } else {
          const obj = this.transform ? this.transform(event.object) : event.object;
          if (event.type === 'DELETED') listing.delete(objectKey(obj));
          else listing.set(objectKey(obj), obj);
        }
      },
    );
    this.currentWatch = watch;
    const listed = () => list && listing === undefined;
    try {
      await watch.done;
      return { delivered, listed: listed(), durationMs: Date.now() - started };
    } catch (error) {
      return { error, delivered, listed: listed(), durationMs: Date.now() - started };
    } finally {
      if (this.currentWatch === watch) this.currentWatch = undefined;
      // The next watch resumes from the list's revision: not before the list is in the cache.
      await relisted;
    }
  }

  private apply(event: WatchEvent<T>): void {
    if (this.held) {
      this.held.push(event);
      return;
    }
    const obj = this.transform && event.type !== 'BOOKMARK' ? this.transform(event.object) : event.object;
    const rv = obj.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const key = objectKey(obj);
    if (event.type === 'DELETED') {
      this.remove(key);
      this.emitDelete(obj);
    } else {
      const old = this.put(key, obj);
      if (old === undefined) this.emitAdd(obj);
      else this.emitUpdate(old, obj);
    }
    if (rv) this.resourceVersion = rv;
  }

  /** Caches obj under key (indexes included); returns what it replaced. */
  private put(key: string, obj: T): T | undefined {
    const old = this.store.get(key);
    this.store.set(key, obj);
    for (const index of this.indexes.values()) {
      if (old !== undefined) indexRemove(index, key, old);
      indexAdd(index, key, obj);
    }
    return old;
  }

  private remove(key: string): void {
    const old = this.store.get(key);
    if (old === undefined) return;
    this.store.delete(key);
    for (const index of this.indexes.values()) indexRemove(index, key, old);
  }

  /**
   * Every cached object to the update handlers as an update to itself, replaceChunk per turn
   * of the event loop. One changed meanwhile has had its own update and is skipped; none
   * while a relist hands out its changes (those tell the handlers everything anyway).
   */
  private async resync(): Promise<void> {
    if (this.resyncing || this.held) return;
    this.resyncing = true;
    const generation = this.generation;
    try {
      const more = this.chunked(generation);
      for (const [key, obj] of [...this.store]) {
        if (this.store.get(key) === obj) this.emitUpdate(obj, obj);
        if (!(await more())) return;
      }
    } finally {
      this.resyncing = false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.running) {
        resolve();
        return;
      }
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    }).finally(() => {
      this.wake = undefined;
      this.sleepTimer = undefined;
    });
  }

  private emitAdd(obj: T): void {
    for (const h of this.addHandlers) this.guard('add', obj, () => h(obj));
  }

  private emitUpdate(oldObj: T, newObj: T): void {
    for (const h of this.updateHandlers) this.guard('update', newObj, () => h(oldObj, newObj));
  }

  private emitDelete(obj: T): void {
    for (const h of this.deleteHandlers) this.guard('delete', obj, () => h(obj));
  }

  private guard(event: string, obj: T, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.error('informer handler threw', { resource: this.resource, event, key: objectKey(obj), error: err });
    }
  }
}

function indexAdd<T>(index: Index<T>, key: string, obj: T): void {
  for (const value of index.fn(obj)) {
    let bucket = index.buckets.get(value);
    if (!bucket) index.buckets.set(value, (bucket = new Map()));
    bucket.set(key, obj);
  }
}

function indexRemove<T>(index: Index<T>, key: string, obj: T): void {
  for (const value of index.fn(obj)) {
    const bucket = index.buckets.get(value);
    bucket?.delete(key);
    if (bucket?.size === 0) index.buckets.delete(value);
  }
}
