import type { KubeObject } from '@peapod/api';

/** One change recorded by the store, at its own revision. */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** storage key, e.g. /pods/default/web */
  key: string;
  rev: number;
  /** the object after the change (for DELETED: the last state, carrying the deletion revision) */
  object: KubeObject;
  /** the object's JSON, serialized once for every watcher */
  json: string;
  /** the object before the change (MODIFIED and DELETED only, when known) */
  prev?: KubeObject;
}

export interface StoredEntry {
  key: string;
  rev: number;
  /** parsed object; frozen: callers copy before changing it */
  object: KubeObject;
  json: string;
}

export interface ListResult {
  items: StoredEntry[];
  rev: number;
  /** key to continue after, when a limit cut the list */
  continueAfter?: string;
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

/** Precondition for an update: the revision the caller read, or none to skip the check. */
export type UpdateFn = (current: KubeObject) => KubeObject;

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
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`key ${key} is at revision ${actual}, not ${expected}`);
  }
}

/** A watch asked for history the store no longer keeps. */
export class RevisionCompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

/**
 * The storage interface the registry is written against (the shape of the Kubernetes
 * storage.Interface): a distributed store could take the SQLite one's place.
 */
export interface Store {
  /** the revision of the last committed write */
  readonly revision: number;
  /** the oldest revision a watch may start from */
  readonly compactedRevision: number;
  get(key: string): StoredEntry | undefined;
  /** objects whose key starts with prefix, in key order */
  list(prefix: string, opts?: { limit?: number; after?: string; filter?: (o: KubeObject) => boolean }): ListResult;
  count(prefix: string): number;
  create(key: string, object: KubeObject): StoredEntry;
  /**
   * Replaces the object at key with update(current). With expectedRev, fails with
   * RevisionConflictError unless the stored object is at that revision.
   */
  update(key: string, update: UpdateFn, expectedRev?: number): StoredEntry;
  delete(key: string, expectedRev?: number): StoredEntry;
  /** Changes to keys under prefix after fromRev: history first, then live, with no gap. */
  watch(prefix: string, fromRev: number, sink: WatchSink): StoreWatch;
  close(): void;
}
