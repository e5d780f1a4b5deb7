import type { KubeObject } from '@peapod/api';

/** One change recorded by the store, at its own revision. */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** storage key, e.g. /pods/default/web */
  key: string;
  rev: number;
  /** the object after the change (for DELETED: the last state, carrying the deletion revision); may be parsed from `json` on each read */
  readonly object: KubeObject;
  /** the object's JSON, serialized once for every watcher */
  json: string;
  /**
   * the object before the change (MODIFIED and DELETED only, when known), or only what
   * selectors read of it (see StoredEntry.selectable): watch filters and indexes read it
   */
  prev?: KubeObject;
  /**
   * For an event kept only as JSON (the watch cache's recent events of resources it keeps
   * only as JSON): what selectors read of its object (see StoredEntry.selectable). Watch
   * filters read this, not `object`, when it is there.
   */
  readonly selectable?: KubeObject;
}

export interface StoredEntry {
  key: string;
  rev: number;
  /** parsed object; callers copy before changing it (an entry kept only as JSON parses it anew on each read) */
  readonly object: KubeObject;
  json: string;
  /**
   * For an entry kept only as JSON: what label and field selectors read of its object (see
   * WatchCacheOptions.parseOnRead). Filters and watch indexes read this, not `object`; an
   * entry kept only as JSON without a view (WatchCacheOptions.jsonOnly) has none, and they
   * parse its object.
   */
  readonly selectable?: KubeObject;
}

/**
 * An entry's object for a caller that changes it: an entry kept only as JSON parses it anew
 * on each read; any other's object is shared, so it is parsed again from its JSON.
 */
export function ownObject(entry: StoredEntry): KubeObject {
  return entry.selectable ? entry.object : (JSON.parse(entry.json) as KubeObject);
}

/** What label and field selectors read of an entry's object, without parsing it when the entry keeps only its JSON. */
export function selectableOf(entry: StoredEntry): KubeObject {
  return entry.selectable ?? entry.object;
}

export interface ListResult {
  items: StoredEntry[];
  /** the revision the whole list was read at */
  rev: number;
  /** key to continue after, when a limit cut the list */
  continueAfter?: string;
  /** when a limit cut the list: the snapshot its next pages are read from (ListOptions.snapshot) */
  snapshot?: ListSnapshotRef;
}

/** The objects of a list as they were at its first page, kept for the pages after it. */
export interface ListSnapshotRef {
  rev: number;
  id: number;
}

export interface ListOptions {
  limit?: number;
  /** continue strictly after this key */
  after?: string;
  /**
   * A continue page: read from the snapshot the list's first page left (Kubernetes' pages are
   * one snapshot), ListSnapshotExpiredError when it is no longer kept.
   */
  snapshot?: ListSnapshotRef;
  filter?: (o: KubeObject) => boolean;
  /**
   * A hint that only objects with this value of this field can pass the filter (the list's
   * field selector asks for it): a store with an index of the field may read just those
   * instead of every object under the prefix. The filter still decides.
   */
  index?: WatchIndex;
  /**
   * Text that the JSON of every object the filter can pass contains (the values its field
   * selector requires, as JSON writes them): a store may pass over an object kept only as its
   * JSON (WatchCacheOptions.jsonOnly) whose text lacks one, without parsing it. The filter
   * still decides.
   */
  contains?: string[];
}

export interface WatchSink {
  /** Receives every change after the start revision, in order, exactly once. */
  send(event: StoreEvent): void;
  /**
   * A hint that the sink only wants changes whose object (or its state before the change)
   * has this value of this field: a store may deliver it only those (the cacher's "trigger"
   * in Kubernetes), so that a thousand agents watching their own node's pods do not each
   * look at every pod's change. The sink still filters what it gets; a store may ignore the
   * hint. Only live changes are narrowed, never the history a watch starts with.
   */
  index?: WatchIndex;
  /** The store can no longer continue this watch (its cache was reloaded): the watcher should start again. */
  end?(): void;
}

export interface WatchIndex {
  field: string;
  value: string;
  /** The field's value in an object. */
  of(object: KubeObject): string;
}

export interface StoreWatch {
  stop(): void;
}

/**
 * What the stored object must still be for a write to go ahead (Kubernetes' storage
 * Preconditions): checked against the object as it is at the moment of the write, on
 * every retry; a mismatch is a RevisionConflictError (uid or resourceVersion).
 */
export interface Preconditions {
  uid?: string;
  resourceVersion?: number;
}

/**
 * Computes the next state of an object from its current one, in a guaranteed update. It may
 * run more than once (the object changed underneath: it is re-read and tryUpdate runs on the
 * new state), so it must not keep anything from an earlier run; throwing aborts the update.
 */
export type TryUpdate = (current: KubeObject) => KubeObject | Promise<KubeObject>;

/** Decides on the current object whether it may be deleted; throws to refuse. Runs on every retry. */
export type ValidateDeletion = (current: KubeObject) => void | Promise<void>;

export interface CreateOptions {
  /** the object expires this many seconds after the write (events): an etcd lease */
  ttlSeconds?: number;
}

export class KeyExistsError extends Error {
  constructor(readonly key: string) {
    super(`key ${key} already exists`);
  }
}

export class KeyNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`key ${key} not found`);
  }
}

export class RevisionConflictError extends Error {
  constructor(
    readonly key: string,
    readonly expected: number | string,
    readonly actual: number | string,
  ) {
    super(`key ${key} is at ${actual}, not ${expected}`);
  }
}

/** A watch or read asked for history the store no longer keeps. */
export class RevisionCompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

/** A continue page asked for a list snapshot this server no longer keeps (or never had: another server's). */
export class ListSnapshotExpiredError extends Error {
  constructor(readonly snapshot: ListSnapshotRef) {
    super(`the list snapshot ${snapshot.id} at revision ${snapshot.rev} is no longer kept`);
  }
}

/** A transaction failed to commit: none of the writes committed with it was stored. */
export class StorageCommitError extends Error {
  constructor(
    readonly writes: number,
    failure: Error,
  ) {
    super(`storage could not commit the write (nor the ${writes - 1} other writes committed with it): ${failure.message}`, { cause: failure });
  }
}

/** The store could not be reached in time (etcd without quorum), and nothing was written: the request may be retried. */
export class StorageUnavailableError extends Error {}

/**
 * A write reached the store but was not confirmed in time (etcd's "request timed out"): it
 * may or may not have been applied, so the client should read before writing again.
 */
export class WriteOutcomeUnknownError extends StorageUnavailableError {}

/**
 * The current objects as this API server last heard of them, read without waiting (the
 * informers' role in Kubernetes): admission and authorization look up related objects
 * here. It may trail the store by the latest writes of another API server.
 */
export interface CachedObjects {
  get(key: string): StoredEntry | undefined;
  list(prefix: string, opts?: ListOptions): ListResult;
  /** how many objects of the resource there are (at once) */
  objectCount(resource: string): number;
  /** the newest revision heard of */
  readonly revision: number;
}

/**
 * The storage interface the registry is written against, shaped like Kubernetes'
 * storage.Interface: every operation is asynchronous, so that a remote store (etcd) fits
 * behind it, and every read-modify-write is a guaranteedUpdate, so that the registry's
 * rules hold with any number of concurrent writers and API servers. Reads are consistent:
 * they see every write acknowledged before they started, whichever API server made it.
 */
export interface Store {
  get(key: string): Promise<StoredEntry | undefined>;
  /** objects whose key starts with prefix, in key order, all at one revision */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  count(prefix: string): Promise<number>;
  /** Writes object at key if the key is absent; KeyExistsError otherwise. */
  create(key: string, object: KubeObject, opts?: CreateOptions): Promise<StoredEntry>;
  /**
   * Reads the object at key, checks the preconditions, writes tryUpdate's result if the
   * object has not changed since it was read, and otherwise starts again from the new
   * state. An update that changes nothing writes nothing and answers the current entry.
   * tryUpdate is handed an object of its own (ownObject), which it may change.
   */
  guaranteedUpdate(key: string, preconditions: Preconditions, tryUpdate: TryUpdate): Promise<StoredEntry>;
  /** Removes the object at key once preconditions and validateDeletion pass on its current state; answers its last state. */
  delete(key: string, preconditions?: Preconditions, validateDeletion?: ValidateDeletion): Promise<StoredEntry>;
  /**
   * Changes to keys under prefix after fromRev: history first, then live, with no gap. Pass
   * the revision a list was read at to see everything after it; RevisionCompactedError when
   * the history no longer reaches back that far.
   */
  watch(prefix: string, fromRev: number, sink: WatchSink): Promise<StoreWatch>;
  /**
   * A list and a watch from the revision it was read at, taken together (a watch without a
   * resourceVersion, which starts with the current objects).
   */
  listAndWatch(prefix: string, filter: ListOptions['filter'], sink: WatchSink): Promise<{ list: ListResult; watch: StoreWatch }>;
  /** Drops history older than the store's window; answers how many records went. */
  compact(): Promise<number>;
  /** the objects as last heard of, without waiting */
  readonly cache: CachedObjects;
  /** Resolves once the store has loaded what it holds and can serve. */
  ready(): Promise<void>;
  /** what the health checks call the store */
  readonly backend: 'etcd' | 'sqlite';
  /** Resolves when the store can serve a consistent read and take writes now; rejects with why not. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** The preconditions' verdict on the current object, as the error a write answers. */
export function checkPreconditions(key: string, current: StoredEntry, p: Preconditions): void {
  if (p.uid !== undefined && p.uid !== current.object.metadata.uid) {
    throw new PreconditionError(key, `UID in precondition: ${p.uid}, UID in object meta: ${current.object.metadata.uid ?? ''}`);
  }
  if (p.resourceVersion !== undefined && p.resourceVersion !== current.rev) throw new RevisionConflictError(key, p.resourceVersion, current.rev);
}

/** A uid precondition that the stored object does not meet. */
export class PreconditionError extends RevisionConflictError {
  constructor(
    key: string,
    readonly detail: string,
  ) {
    super(key, 'precondition', detail);
    this.message = `Precondition failed: ${detail}`;
  }
}
