import crypto from 'crypto';
import type { KubeObject } from '@peapod/api';
import type { Logger } from '@peapod/client';
import {
  checkPreconditions,
  CreateOptions,
  KeyExistsError,
  KeyNotFoundError,
  ListOptions,
  ListResult,
  ListSnapshotExpiredError,
  ListSnapshotRef,
  ownObject,
  Preconditions,
  RevisionCompactedError,
  selectableOf,
  StorageUnavailableError,
  Store,
  StoreEvent,
  StoredEntry,
  StoreWatch,
  TryUpdate,
  ValidateDeletion,
  WatchSink,
  WriteOutcomeUnknownError,
} from './types';
import { WatchCache, type WatchCacheOptions } from './watch-cache';
import { EtcdWriter } from './etcd-writer';
import { checkServers, deadlineExceeded, EtcdMember, EtcdTls, WatchStream } from './etcd-rpc';
import { deleteOp, putOp, rangeOp } from './etcd-proto';
import type { KeyValue, RangeResponse, TxnResponse, WatchEvent, WatchResponse } from './etcd-proto';
import type { ValueTransformer } from './encryption';
import { Slab } from './slab';

export interface EtcdStoreOptions {
  /** client URLs of the etcd members (http:// or https://) */
  servers: string[];
  /** where the objects live in etcd's key space (Kubernetes: /registry) */
  prefix?: string;
  /** client TLS: the CA that signed the members' certificates, and this client's certificate and key */
  tls?: EtcdTls;
  /** how long one request may wait for etcd before it fails (quorum lost, members down) */
  requestTimeoutMs?: number;
  /** how many revisions of history compaction keeps */
  historyRevisions?: number;
  /** how many recent events the watch cache keeps to start watches from */
  recentEvents?: number;
  /** resources whose objects the cache keeps only as their JSON, without a view (WatchCacheOptions.jsonOnly) */
  jsonOnly?: ReadonlySet<string>;
  /** resources whose objects the cache keeps only as JSON, with their selectors' view (WatchCacheOptions.parseOnRead) */
  parseOnRead?: WatchCacheOptions['parseOnRead'];
  /** fields the cache indexes for lists (WatchCacheOptions.listIndexes) */
  listIndexes?: WatchCacheOptions['listIndexes'];
  transformer?: ValueTransformer;
  observe?: (op: string, seconds: number) => void;
  log?: Logger;
}

/**
 * Answers that say the request was not applied: etcd's during an election ("no leader",
 * "raft proposal dropped"), a leader change or an overloaded member; the client's when it
 * reached no member (no connection).
 */
const notApplied = /etcdserver: (no leader|leader changed|not capable|too many requests)|raft proposal dropped|No connection established|ECONNREFUSED|no (address|connection) available/i;

/** A TLS handshake with etcd that failed on a certificate (one side does not trust the other). */
const tlsRefused = /certificate|handshake failure|SSL routines/i;

/** Back-off between attempts of a request etcd refused: 50 ms doubling, at most 1 s. */
function retryDelay(attempt: number): number {
  return Math.min(1000, 50 * 2 ** attempt);
}

/** A write this server made, as the cache is to apply it: the stored entry, or its last state when deleted. */
interface OwnWrite extends StoredEntry {
  deleted: boolean;
}

/**
 * Stands for the resourceVersion in an object's JSON until its write's revision is known, so
 * that one stringify gives both the value etcd keeps (without it) and the cached JSON (with
 * the revision): random, so that no object holds it otherwise.
 */
const revisionPlaceholder = `rv-${crypto.randomBytes(12).toString('hex')}`;
const placeholderField = `"resourceVersion":"${revisionPlaceholder}"`;

/** A put this server sent that etcd has not answered yet (its watch event may come first). */
interface Sent {
  /** the value as sent */
  value: Buffer;
  object: KubeObject;
  /** the object's JSON, revisionPlaceholder for its resourceVersion */
  json: string;
  /** the entry made of it, once its event or its answer came */
  entry?: StoredEntry;
}

/** What an update or delete decided on the current object. */
type Decision = { put: KubeObject; json: string } | { remove: true } | { unchanged: true };

/** The object's JSON with revisionPlaceholder as metadata's last field, its resourceVersion left as it was. */
function placeholderJson(object: KubeObject): string {
  const rv = object.metadata.resourceVersion;
  // Deleted first so that it is metadata's last field.
  delete object.metadata.resourceVersion;
  object.metadata.resourceVersion = revisionPlaceholder;
  const json = JSON.stringify(object);
  if (rv === undefined) delete object.metadata.resourceVersion;
  else object.metadata.resourceVersion = rv;
  return json;
}

/** Whether an object's placeholder JSON is the entry's JSON: the same with the entry's revision where the placeholder is. */
function sameAsEntry(json: string, entry: StoredEntry): boolean {
  const field = `"resourceVersion":"${entry.rev}"`;
  const at = json.indexOf(placeholderField);
  const current = entry.json;
  return (
    current.length === json.length - placeholderField.length + field.length &&
    current.startsWith(field, at) &&
    current.startsWith(json.slice(0, at)) &&
    current.endsWith(json.slice(at + placeholderField.length))
  );
}

/** Objects that expire share a lease granted within this window (as Kubernetes' lease reuse), so that a burst of events does not grant a lease each. */
const leaseReuseSeconds = 60;
/** Keys per etcd range of a continue page read from etcd (a filter may pass over most of them). */
const pageKeys = 500;

/** A watch from this key to this range end (etcd's "\0": no end) covers every key. */
const everyKey = Buffer.from([0]);

/**
 * The objects in etcd, as Kubernetes keeps them: each at PREFIX/RESOURCE/NAMESPACE/NAME, its
 * resourceVersion etcd's mod_revision (one revision for the whole store), every write a
 * transaction compared on the revision it was decided on (a create on the key not existing),
 * so that any number of API servers can write at once without losing an update.
 *
 * One etcd watch feeds the watch cache (shared with the SQLite backend), from which lists
 * and watches are served. It watches every key, not only the prefix's, so that every revision
 * reaches the cache (one that changed only other keys just moves its revision on); this
 * server's own writes go into the cache as etcd acknowledges them (once it holds every
 * revision before theirs), not when the watch brings them back, so their watchers hear of
 * them before the client has its answer; an event of a put still unanswered is recognised by
 * its bytes and not parsed. A read is consistent: it asks etcd for its current revision (a
 * linearizable read, so it needs a quorum) and waits until the cache has caught up to it. So a
 * client reads its own writes whichever API server it asks. (etcd 3.4's watch progress
 * requests cannot tell the cache it is up to date: they may report a revision before the
 * events that precede it have been sent. A marker key put in every write transaction, as this
 * store did before, costs every write a second put.)
 *
 * A request that etcd refuses unapplied (no leader yet) is sent again until the timeout; one
 * that fails or is not answered in time is StorageUnavailableError, or WriteOutcomeUnknownError
 * for a write that may have been applied. The client reconnects by itself, and the watch resumes
 * from the last revision it saw (or, when etcd has compacted past it, the cache is loaded again
 * and its watches end, for their clients to list again). A watch from before what the cache
 * holds is served by an etcd watch of its own (watchEtcd).
 */
export class EtcdStore implements Store {
  readonly backend = 'etcd';
  readonly cache: WatchCache;
  /** one channel per server */
  private readonly members: EtcdMember[];
  /** the member reads and the watch go to: the next one after a call through it failed */
  private reading = 0;
  /** which member writes go to (the leader's when known); a write is never sent twice unless etcd refused it unapplied */
  private readonly writer: EtcdWriter;
  private readonly prefix: string;
  /** the prefix's length in a key's bytes */
  private readonly prefixBytes: number;
  private readonly keys = new Slab();
  private readonly prefixKey: Buffer;
  private readonly prefixEnd: Buffer;
  /** a key read for etcd's current revision (a quorum read of a key that need not exist) */
  private readonly probeKey: Buffer;
  private readonly timeoutMs: number;
  private readonly historyRevisions: number;
  private readonly observe: (op: string, seconds: number) => void;
  private readonly log?: Logger;
  /** leases of the keys that have one: an update keeps its object's lease */
  private readonly leases = new Map<string, string>();
  private lease?: { id: string; grantedAt: number; ttl: number };
  private stream?: WatchStream;
  /** watch streams that broke in a row (none since the last answer): the back-off before the next */
  private watchFailures = 0;
  private closed = false;
  private readonly started: Promise<void>;
  private revisionInFlight?: Promise<number>;
  private revisionQueued?: Promise<number>;
  private compacted = 0;
  /**
   * This server's own acknowledged writes that the cache has not applied yet, by revision:
   * each goes into the cache as soon as the cache holds every revision before it, without
   * waiting for (or decoding) its event from the watch.
   */
  private readonly own = new Map<number, OwnWrite>();
  /** by key, the puts sent and not yet answered: their events are recognised by their bytes, not parsed */
  private readonly sending = new Map<string, Sent>();
  /** watches from before what the cache holds, each an etcd watch of its own */
  private readonly etcdWatches = new Set<StoreWatch>();

  constructor(private readonly opts: EtcdStoreOptions) {
    this.prefix = (opts.prefix ?? '/registry').replace(/\/+$/, '');
    this.prefixBytes = Buffer.byteLength(this.prefix);
    this.prefixKey = Buffer.from(`${this.prefix}/`);
    this.prefixEnd = rangeEnd(this.prefixKey);
    this.probeKey = Buffer.from(`${this.prefix}#revision`);
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.historyRevisions = opts.historyRevisions ?? 100_000;
    this.observe = opts.observe ?? (() => undefined);
    this.log = opts.log;
    this.cache = new WatchCache({ recentEvents: opts.recentEvents, jsonOnly: opts.jsonOnly, parseOnRead: opts.parseOnRead, listIndexes: opts.listIndexes });
    checkServers(opts.servers);
    this.members = opts.servers.map((server) => new EtcdMember(server, opts.tls));
    this.writer = new EtcdWriter(this.members, this.timeoutMs);
    this.started = this.start();
    // A store that never comes up is reported through ready(); this keeps the rejection from being unhandled meanwhile.
    this.started.catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.started;
  }

  /** A quorum read answers, and the watch has brought the cache up to the last write. */
  async check(): Promise<void> {
    if (this.closed) throw new Error('the store is closed');
    await this.consistent();
  }

  /** Loads every object, then watches from the revision they were read at. */
  private async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) return;
      try {
        await this.load();
        return;
      } catch (err) {
        const message = (err as Error).message;
        // A certificate refused (a wrong --etcd-cafile, a client certificate etcd does not accept) will not heal by waiting.
        if (tlsRefused.test(message)) throw new Error(`etcd at ${this.opts.servers.join(',')}: TLS handshake failed: ${message}`);
        this.log?.warn('etcd not reachable yet', { servers: this.opts.servers.join(','), error: message });
        await sleep(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  }

  private async load(): Promise<void> {
    const res = await this.call('list', this.viaReader((m, deadline) => m.range({ key: this.prefixKey, rangeEnd: this.prefixEnd }, deadline)));
    const rev = res.revision;
    this.leases.clear();
    const entries = res.kvs.map((kv) => this.decode(kv));
    this.cache.load(entries, rev);
    for (const r of this.own.keys()) if (r <= rev) this.own.delete(r);
    await this.watchFrom(rev);
  }

  private async watchFrom(rev: number): Promise<void> {
    if (this.closed) return;
    const member = this.members[this.reading % this.members.length];
    const stream = member.watch();
    this.stream = stream;
    const broken = (err?: Error) => {
      if (this.stream !== stream || this.closed) return;
      this.stream = undefined;
      stream.cancel();
      this.readerFailed(member);
      this.log?.warn('etcd watch broken: resuming', { revision: this.cache.revision, error: err?.message });
      void this.resume();
    };
    stream.on('data', (res: WatchResponse) => {
      if (this.stream !== stream) return;
      // Refused rather than compacted (a user that may not read every key, say): tried again, backing off.
      if (res.canceled && !res.compactRevision) return broken(new Error(`etcd refused the watch: ${res.cancelReason || 'no reason given'}`));
      this.watchFailures = 0;
      this.onWatch(res);
    });
    stream.on('error', broken);
    stream.on('end', () => broken());
    // Every key, not only the prefix's: then every revision reaches the cache, and a consistent
    // read need only wait for it to reach etcd's current revision (see revision()).
    stream.write({ key: everyKey, rangeEnd: everyKey, startRevision: rev + 1 });
  }

  /** After the watch broke: from where it left off (on the next member, after a back-off when it broke again at once). */
  private async resume(): Promise<void> {
    const failures = this.watchFailures++;
    if (failures > 0) await sleep(Math.min(2000, 100 * 2 ** (failures - 1)));
    await this.watchFrom(this.cache.revision);
  }

  private onWatch(res: WatchResponse): void {
    if (res.compactRevision) {
      // etcd compacted past what this cache has seen: start again from a fresh list.
      this.log?.warn('etcd watch fell behind compaction: reloading', { revision: this.cache.revision, compacted: res.compactRevision });
      this.stream?.cancel();
      this.stream = undefined;
      this.start().catch((err: Error) => this.log?.error('etcd watch cache not reloaded', { error: err.message }));
      return;
    }
    let outside = 0;
    for (const ev of res.events) {
      const rev = ev.kv.modRevision;
      if (!this.underPrefix(ev.kv.key)) {
        outside = rev;
        continue;
      }
      const key = ev.kv.key.toString('utf8', this.prefixBytes);
      const mine = this.own.get(rev);
      if (mine) this.own.delete(rev);
      if (rev <= this.cache.revision) continue;
      if (mine?.key === key) {
        this.applyOwn(mine);
        continue;
      }
      const prev = this.cache.get(key);
      if (ev.type === 'Delete') {
        this.leases.delete(key);
        if (!prev) continue;
        const object = JSON.parse(prev.json) as KubeObject;
        object.metadata.resourceVersion = String(rev);
        this.cache.apply({ type: 'DELETED', key, rev, object, json: JSON.stringify(object), prev: selectableOf(prev) });
        continue;
      }
      const sent = this.sending.get(key);
      let entry: StoredEntry;
      try {
        // This server's put, its event come before its answer: the object and JSON it sent, not the bytes parsed again.
        if (sent && !sent.entry && sent.value.equals(ev.kv.value)) {
          if (ev.kv.lease !== '0') this.leases.set(key, ev.kv.lease);
          entry = this.sentEntry(key, sent, rev);
        } else entry = this.decode(ev.kv, key);
      } catch (err) {
        // Not ours to read (written by hand, or with a key this server lacks): skipped, not fatal.
        this.log?.error('unreadable value in etcd', { key, revision: rev, error: (err as Error).message });
        continue;
      }
      const event: StoreEvent = { type: prev ? 'MODIFIED' : 'ADDED', key, rev, object: entry.object, json: entry.json, prev: prev && selectableOf(prev) };
      this.cache.apply(event);
    }
    // A revision that changed only keys outside the prefix leaves the cache as it was, up to date.
    if (outside > this.cache.revision) this.cache.advance(outside);
    // A whole response holds every event of its revisions: what follows may be this server's own.
    this.applyOwnWrites();
  }

  private underPrefix(key: Buffer): boolean {
    return key.length >= this.prefixKey.length && this.prefixKey.compare(key, 0, this.prefixKey.length) === 0;
  }

  /**
   * Records an acknowledged write of this server's and applies what is next in revision order.
   * Revisions have no gaps, so a cache at rev - 1 has every change before rev; one short of it
   * waits for the watch to bring what lies between.
   */
  private wrote(entry: StoredEntry, deleted = false): StoredEntry {
    if (entry.rev > this.cache.revision) {
      this.own.set(entry.rev, { ...entry, deleted });
      this.applyOwnWrites();
    }
    return entry;
  }

  private applyOwnWrites(): void {
    for (let next = this.own.get(this.cache.revision + 1); next; next = this.own.get(this.cache.revision + 1)) {
      this.own.delete(next.rev);
      this.applyOwn(next);
    }
  }

  /** Applies an own write as the event the watch would bring (a delete of what the cache does not hold is none). */
  private applyOwn(w: OwnWrite): void {
    const prev = this.cache.get(w.key);
    if (w.deleted) {
      this.leases.delete(w.key);
      if (!prev) return;
    }
    const type = w.deleted ? 'DELETED' : prev ? 'MODIFIED' : 'ADDED';
    this.cache.apply({ type, key: w.key, rev: w.rev, object: w.object, json: w.json, prev: prev && selectableOf(prev) });
  }

  /** A call through the writer's current member; one that fails moves the writer off that member (a retry goes to another). */
  private viaWriter<T>(send: (member: EtcdMember, deadline: number) => Promise<T>): (deadline: number) => Promise<T> {
    return async (deadline) => {
      const member = this.writer.client;
      try {
        return await send(member, deadline);
      } catch (err) {
        this.writer.failed(member);
        throw err;
      }
    };
  }

  /** A read through the member reads go to; one that fails moves reads to the next member (where a retry goes). */
  private viaReader<T>(send: (member: EtcdMember, deadline: number) => Promise<T>): (deadline: number) => Promise<T> {
    return async (deadline) => {
      const member = this.members[this.reading % this.members.length];
      try {
        return await send(member, deadline);
      } catch (err) {
        this.readerFailed(member);
        throw err;
      }
    };
  }

  private readerFailed(member: EtcdMember): void {
    if (member === this.members[this.reading % this.members.length]) this.reading++;
  }

  /** A current key-value from etcd as a stored entry, its lease remembered for updates. */
  private decode(kv: KeyValue, key = kv.key.toString('utf8', this.prefixBytes)): StoredEntry {
    if (kv.lease !== '0') this.leases.set(key, kv.lease);
    return this.parse(kv, key);
  }

  /** A key-value from etcd as a stored entry: its value read through the transformer, its resourceVersion the mod_revision. */
  private parse(kv: KeyValue, key: string): StoredEntry {
    const rev = kv.modRevision;
    const json = this.opts.transformer ? this.opts.transformer.fromStorage(key, kv.value).json : kv.value.toString('utf8');
    const object = JSON.parse(json) as KubeObject;
    object.metadata.resourceVersion = String(rev);
    return { key, rev, object, json: JSON.stringify(object) };
  }

  /**
   * A put about to be sent, recorded until its answer: what etcd keeps for the object (its
   * JSON without the resourceVersion, which is the key's revision, through the transformer)
   * and its JSON with the placeholder, from one stringify.
   */
  private toSend(key: string, object: KubeObject, json = placeholderJson(object)): Sent {
    const at = json.indexOf(placeholderField);
    const from = json[at - 1] === ',' ? at - 1 : at;
    const bare = json.slice(0, from) + json.slice(at + placeholderField.length);
    const stored = this.opts.transformer ? this.opts.transformer.toStorage(key, bare) : bare;
    const sent: Sent = { value: typeof stored === 'string' ? Buffer.from(stored, 'utf8') : stored, object, json };
    this.sending.set(key, sent);
    return sent;
  }

  /** The put was answered (or failed): its event is no longer to be recognised. */
  private answered(key: string, sent: Sent): void {
    if (this.sending.get(key) === sent) this.sending.delete(key);
  }

  /** The entry of a put this server sent, at the revision etcd gave it (from its event or its answer). */
  private sentEntry(key: string, sent: Sent, rev: number): StoredEntry {
    if (sent.entry?.rev === rev) return sent.entry;
    const json = sent.json.replace(revisionPlaceholder, String(rev));
    // An entry at another revision (the same bytes put by another writer) keeps the sent object: this one gets its own.
    const object = sent.entry ? (JSON.parse(json) as KubeObject) : sent.object;
    object.metadata.resourceVersion = String(rev);
    const entry = { key, rev, object, json };
    sent.entry ??= entry;
    return entry;
  }

  /** The key's bytes, in a slice of a slab rather than Node's pool (see slab.ts): a key lives as long as its call. */
  private etcdKey(key: string): Buffer {
    const text = this.prefix + key;
    const bytes = this.keys.take(Buffer.byteLength(text));
    bytes.write(text, 0, 'utf8');
    return bytes;
  }

  /**
   * An etcd call within the request timeout. What etcd refused without applying it (no
   * leader during an election, the leader changed, no member reachable) is sent again until
   * the deadline; what does not answer in time is StorageUnavailableError, or, for a write
   * that was on its way to etcd, WriteOutcomeUnknownError (it may have been applied). Every
   * attempt carries the call's deadline, so no timer of the call's own is needed.
   */
  private async call<T>(op: string, send: (deadline: number) => Promise<T>, write = false): Promise<T> {
    const started = process.hrtime.bigint();
    const deadline = Date.now() + this.timeoutMs;
    const within = `within ${this.timeoutMs / 1000}s`;
    try {
      for (let n = 0; ; n++) {
        try {
          return await send(deadline);
        } catch (err) {
          const message = (err as Error).message;
          if (!notApplied.test(message) || tlsRefused.test(message)) throw err;
          if (Date.now() + retryDelay(n) >= deadline) throw new StorageUnavailableError(`etcd: ${message} (retried ${within})`);
          await sleep(retryDelay(n));
        }
      }
    } catch (err) {
      if (err instanceof StorageUnavailableError) throw err;
      if (deadlineExceeded(err)) {
        throw write ? new WriteOutcomeUnknownError(`etcd did not confirm the write ${within} (etcd may have lost quorum)`) : new StorageUnavailableError(`etcd did not answer ${within}`);
      }
      const message = `etcd: ${(err as Error).message}`;
      // A write that failed otherwise than by a refusal (etcd's "request timed out", a connection lost on the way) may have been applied.
      throw write && !notApplied.test(message) && !tlsRefused.test(message) ? new WriteOutcomeUnknownError(message) : new StorageUnavailableError(message);
    } finally {
      this.observe(op, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /**
   * etcd's current revision, read with a quorum. Concurrent callers share a read, but only one
   * that started after they asked (so each sees every write acknowledged before it asked).
   */
  private revision(): Promise<number> {
    if (!this.revisionInFlight) {
      const read = this.call('revision', this.viaReader((m, deadline) => m.range({ key: this.probeKey, countOnly: true }, deadline))).then((res) => res.revision);
      this.revisionInFlight = read;
      const clear = () => {
        if (this.revisionInFlight === read) this.revisionInFlight = undefined;
      };
      read.then(clear, clear);
      return read;
    }
    if (!this.revisionQueued) {
      const queued = this.revisionInFlight
        .then(
          () => undefined,
          () => undefined,
        )
        .then(() => {
          this.revisionQueued = undefined;
          return this.revision();
        });
      this.revisionQueued = queued;
    }
    return this.revisionQueued;
  }

  /** Waits until the cache holds every change up to rev (they are on their way through the watch). */
  private async caughtUp(rev: number): Promise<void> {
    if (this.cache.revision >= rev) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.cache.waitFor(rev),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StorageUnavailableError(`the watch cache did not reach revision ${rev} within ${this.timeoutMs / 1000}s`)), this.timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A consistent read: the cache once it has every write made before the read began. */
  private async consistent(): Promise<void> {
    await this.started;
    await this.caughtUp(await this.revision());
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    await this.consistent();
    return this.cache.get(key);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    await this.consistent();
    try {
      return this.cache.list(prefix, opts);
    } catch (err) {
      // A page of another API server's list, or one whose snapshot went idle here: etcd keeps that revision until compacted.
      if (err instanceof ListSnapshotExpiredError && opts.snapshot) return this.listAt(prefix, opts, opts.snapshot);
      throw err;
    }
  }

  /** A continue page read from etcd as of its list's revision, a range of at most pageKeys keys at a time. */
  private async listAt(prefix: string, opts: ListOptions, snapshot: ListSnapshotRef): Promise<ListResult> {
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const items: StoredEntry[] = [];
    const rangeEndKey = rangeEnd(this.etcdKey(prefix));
    let from = opts.after !== undefined ? keyAfter(this.etcdKey(opts.after)) : this.etcdKey(prefix);
    for (;;) {
      let res: RangeResponse;
      try {
        res = await this.call('list', this.viaReader((m, deadline) => m.range({ key: from, rangeEnd: rangeEndKey, revision: snapshot.rev, limit: pageKeys }, deadline)));
      } catch (err) {
        // A compacted revision, or one etcd never had (a made-up token).
        if (/compacted|future revision/.test((err as Error).message)) throw new ListSnapshotExpiredError(snapshot);
        throw err;
      }
      for (const kv of res.kvs) {
        const entry = this.parse(kv, kv.key.toString('utf8', this.prefixBytes));
        if (opts.filter && !opts.filter(entry.object)) continue;
        if (items.length === limit) return { items, rev: snapshot.rev, continueAfter: items[items.length - 1].key, snapshot };
        items.push(entry);
      }
      if (!res.more || res.kvs.length === 0) return { items, rev: snapshot.rev };
      from = keyAfter(res.kvs[res.kvs.length - 1].key);
    }
  }

  async count(prefix: string): Promise<number> {
    await this.consistent();
    return this.cache.count(prefix);
  }

  /** The object at key as etcd holds it now. */
  private async read(key: string): Promise<StoredEntry | undefined> {
    const res = await this.call('get', this.viaReader((m, deadline) => m.range({ key: this.etcdKey(key) }, deadline)));
    return res.kvs.length ? this.decode(res.kvs[0], key) : undefined;
  }

  /** A lease for an object that expires in ttl seconds (shared with others granted in the last minute). */
  private async leaseFor(ttl: number): Promise<string> {
    const now = Date.now();
    const l = this.lease;
    if (l && l.ttl === ttl && now - l.grantedAt < leaseReuseSeconds * 1000) return l.id;
    const id = await this.call('lease', this.viaWriter((w, deadline) => w.leaseGrant(ttl + leaseReuseSeconds, deadline)));
    this.lease = { id, grantedAt: now, ttl };
    return id;
  }

  async create(key: string, object: KubeObject, opts: CreateOptions = {}): Promise<StoredEntry> {
    const k = this.etcdKey(key);
    const lease = opts.ttlSeconds ? await this.leaseFor(opts.ttlSeconds) : undefined;
    delete object.metadata.resourceVersion;
    const sent = this.toSend(key, object);
    let res: TxnResponse;
    try {
      res = await this.call(
        'added',
        this.viaWriter((w, deadline) => w.txn({ compare: [{ key: k, target: 'create', revision: 0 }], success: [putOp(k, sent.value, lease)], failure: [] }, deadline)),
        true,
      );
    } finally {
      this.answered(key, sent);
    }
    if (!res.succeeded) throw new KeyExistsError(key);
    if (lease) this.leases.set(key, lease);
    return this.wrote(this.sentEntry(key, sent, res.revision));
  }


  private written(key: string, object: KubeObject, rev: number): StoredEntry {
    object.metadata.resourceVersion = String(rev);
    return { key, rev, object, json: JSON.stringify(object) };
  }

  async guaranteedUpdate(key: string, preconditions: Preconditions, tryUpdate: TryUpdate): Promise<StoredEntry> {
    return this.optimistic(key, async (current) => {
      checkPreconditions(key, current, preconditions);
      const object = ownObject(current);
      const resourceVersion = object.metadata.resourceVersion;
      const next = await tryUpdate(object);
      next.metadata.resourceVersion = resourceVersion;
      // One stringify: what is compared with the cached JSON is what toSend needs.
      const json = placeholderJson(next);
      return sameAsEntry(json, current) ? { unchanged: true } : { put: next, json };
    });
  }

  async delete(key: string, preconditions: Preconditions = {}, validateDeletion?: ValidateDeletion): Promise<StoredEntry> {
    return this.optimistic(key, async (current) => {
      checkPreconditions(key, current, preconditions);
      await validateDeletion?.(current.object);
      return { remove: true };
    });
  }

  /**
   * The optimistic loop of an update or delete: decide on the object (first the cached one, as
   * Kubernetes' cachedExistingObject), write compared on the revision decided on, and after a
   * conflict, or a refusal or no-op decided on a cached guess, decide again on what etcd holds.
   */
  private async optimistic(key: string, decide: (current: StoredEntry) => Promise<Decision>): Promise<StoredEntry> {
    let current = this.cache.get(key);
    let fresh = false;
    if (!current) {
      current = await this.read(key);
      fresh = true;
    }
    for (;;) {
      if (!current) throw new KeyNotFoundError(key);
      let decision: Decision;
      try {
        decision = await decide(current);
      } catch (err) {
        if (fresh) throw err;
        current = await this.read(key);
        fresh = true;
        continue;
      }
      if ('unchanged' in decision) {
        if (fresh) return current;
        current = await this.read(key);
        fresh = true;
        continue;
      }
      const k = this.etcdKey(key);
      const decidedOn = current.rev;
      const sent = 'put' in decision ? this.toSend(key, decision.put, decision.json) : undefined;
      const write = sent ? putOp(k, sent.value, this.leases.get(key)) : deleteOp(k);
      let res: TxnResponse;
      try {
        res = await this.call(
          sent ? 'modified' : 'deleted',
          this.viaWriter((w, deadline) => w.txn({ compare: [{ key: k, target: 'mod', revision: decidedOn }], success: [write], failure: [rangeOp(k)] }, deadline)),
          true,
        );
      } finally {
        if (sent) this.answered(key, sent);
      }
      if (res.succeeded) {
        if (sent) return this.wrote(this.sentEntry(key, sent, res.revision));
        return this.wrote(this.written(key, JSON.parse(current.json) as KubeObject, res.revision), true);
      }
      const kvs = res.ranges[0] ?? [];
      current = kvs.length ? this.decode(kvs[0], key) : undefined;
      fresh = true;
    }
  }

  async watch(prefix: string, fromRev: number, sink: WatchSink): Promise<StoreWatch> {
    await this.started;
    if (fromRev > this.cache.revision) {
      // A revision this server has not reached yet (a list from another API server): wait for
      // the changes up to it.
      const current = await this.revision();
      if (fromRev > current) throw new StorageUnavailableError(`Too large resource version: ${fromRev}, current: ${current}`);
      await this.caughtUp(fromRev);
    }
    if (!this.cache.holds(fromRev)) return this.watchEtcd(prefix, fromRev, sink);
    // Only what comes after fromRev, though the cache may still be short of it.
    return this.cache.watch(prefix, fromRev, {
      ...sink,
      send: (e) => {
        if (e.rev > fromRev) sink.send(e);
      },
    });
  }

  /**
   * A watch from before what the cache holds (a client resuming after this server started, or
   * from further back than the cache's recent events), served as a restarted Kubernetes API
   * server can: by an etcd watch of its own from that revision, etcd's history then live
   * changes, until etcd has compacted it (RevisionCompactedError, 410 Gone). Should etcd end
   * it (compaction catching up, a broken stream), the sink hears end() and its client watches again.
   */
  private async watchEtcd(prefix: string, fromRev: number, sink: WatchSink): Promise<StoreWatch> {
    try {
      await this.call('history', this.viaReader((m, deadline) => m.range({ key: this.probeKey, revision: fromRev + 1, countOnly: true }, deadline)));
    } catch (err) {
      if (/compacted/.test((err as Error).message)) throw new RevisionCompactedError(fromRev, Math.max(this.compacted, fromRev + 1));
      throw err;
    }
    const stream = this.members[this.reading % this.members.length].watch();
    let stopped = false;
    const watch: StoreWatch = {
      stop: () => {
        if (stopped) return;
        stopped = true;
        this.etcdWatches.delete(watch);
        stream.cancel();
      },
    };
    const ended = () => {
      if (stopped) return;
      watch.stop();
      sink.end?.();
    };
    stream.on('data', (res: WatchResponse) => {
      if (stopped) return;
      if (res.canceled || res.compactRevision) return ended();
      for (const ev of res.events) {
        const event = this.eventOf(ev);
        if (event) sink.send(event);
      }
    });
    stream.on('error', ended);
    stream.on('end', ended);
    const key = this.etcdKey(prefix);
    stream.write({ key, rangeEnd: rangeEnd(key), startRevision: fromRev + 1, prevKv: true });
    this.etcdWatches.add(watch);
    return watch;
  }

  /** A change from an etcd watch that brings previous values, as a store event (undefined: not one of ours to read). */
  private eventOf(ev: WatchEvent): StoreEvent | undefined {
    const key = ev.kv.key.toString('utf8', this.prefixBytes);
    const rev = ev.kv.modRevision;
    try {
      const prev = ev.prevKv ? this.parse(ev.prevKv, key) : undefined;
      if (ev.type === 'Delete') {
        if (!prev) return undefined;
        const object = JSON.parse(prev.json) as KubeObject;
        object.metadata.resourceVersion = String(rev);
        return { type: 'DELETED', key, rev, object, json: JSON.stringify(object), prev: prev.object };
      }
      const entry = this.parse(ev.kv, key);
      return { type: prev ? 'MODIFIED' : 'ADDED', key, rev, object: entry.object, json: entry.json, prev: prev?.object };
    } catch (err) {
      this.log?.error('unreadable value in etcd', { key, revision: rev, error: (err as Error).message });
      return undefined;
    }
  }

  async listAndWatch(prefix: string, filter: ListOptions['filter'], sink: WatchSink): Promise<{ list: ListResult; watch: StoreWatch }> {
    await this.consistent();
    const list = this.cache.list(prefix, { filter, index: sink.index });
    return { list, watch: this.cache.watch(prefix, list.rev, sink) };
  }

  /**
   * Compacts etcd's history to the window (every API server may do it: compacting to a
   * revision already compacted is refused by etcd and ignored here).
   */
  async compact(): Promise<number> {
    const upTo = this.cache.revision - this.historyRevisions;
    if (upTo <= this.compacted) return 0;
    try {
      // Not through viaWriter: a refusal (already compacted by another server) says nothing of the member.
      await this.call('compact', (deadline) => this.writer.client.compact(upTo, deadline));
    } catch (err) {
      if (!/compacted/.test((err as Error).message)) throw err;
    }
    const removed = upTo - this.compacted;
    this.compacted = upTo;
    return removed;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.etcdWatches]) w.stop();
    this.cache.close();
    this.stream?.cancel();
    this.stream = undefined;
    this.writer.close();
    for (const m of this.members) m.close();
  }
}

/** The first key after key in etcd's order. */
function keyAfter(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])]);
}

/** The end of the range of keys that start with prefix (the prefix with its last byte incremented). */
function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
