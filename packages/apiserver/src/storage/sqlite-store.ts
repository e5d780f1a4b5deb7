import Database from 'better-sqlite3';
import type { KubeObject } from '@peapod/api';
import type { Logger } from '@peapod/client';
import {
  checkPreconditions,
  CreateOptions,
  KeyExistsError,
  KeyNotFoundError,
  ListOptions,
  ownObject,
  RevisionCompactedError,
  selectableOf,
  ListResult,
  Preconditions,
  Store,
  StorageCommitError,
  StoreEvent,
  StoredEntry,
  StoreWatch,
  TryUpdate,
  ValidateDeletion,
  WatchSink,
} from './types';
import { WatchCache, type WatchCacheOptions } from './watch-cache';
import type { ValueTransformer } from './encryption';
import { LogCompactor, timedStep, WalCheckpointer } from './sqlite-maintenance';

export interface SqliteStoreOptions {
  /** path of the database file, or ':memory:' */
  path: string;
  /** how many revisions of history the log keeps for watches; older ones are compacted */
  historyRevisions?: number;
  /** how many recent events are kept in memory to start watches without reading the log */
  recentEvents?: number;
  /** observes the duration of each storage operation (metrics) */
  observe?: (op: string, seconds: number) => void;
  /** encryption at rest: what values become in SQLite (in the log, where each object's value lives) */
  transformer?: ValueTransformer;
  /** resources whose objects the cache keeps only as their JSON, without a view (WatchCacheOptions.jsonOnly) */
  jsonOnly?: ReadonlySet<string>;
  /** resources whose objects the cache keeps only as JSON, with their selectors' view (WatchCacheOptions.parseOnRead) */
  parseOnRead?: WatchCacheOptions['parseOnRead'];
  /** fields the cache indexes for lists (WatchCacheOptions.listIndexes) */
  listIndexes?: WatchCacheOptions['listIndexes'];
  /** the most writes committed in one transaction (group commit) */
  maxBatchWrites?: number;
  /** the most bytes of JSON committed in one transaction */
  maxBatchBytes?: number;
  log?: Logger;
}

const enum EventType {
  Added = 0,
  Modified = 1,
  Deleted = 2,
}
const typeNames = ['ADDED', 'MODIFIED', 'DELETED'] as const;
const opNames = ['added', 'modified', 'deleted'] as const;

/** A write waiting in the open batch for the transaction that commits it. */
interface PendingWrite {
  type: EventType;
  /** the state the write leaves, at its revision (for a deletion: the last state) */
  entry: StoredEntry;
  prev?: KubeObject;
  enqueued: bigint;
  resolve(entry: StoredEntry): void;
  reject(err: Error): void;
}

/** The writes that will commit together, in revision order. */
class Batch {
  readonly writes: PendingWrite[] = [];
  bytes = 0;
  /** the state each key written by the batch will have (undefined: deleted) */
  readonly states = new Map<string, StoredEntry | undefined>();
  /** true once the batch is committed, false if its commit failed */
  readonly done: Promise<boolean>;
  settle!: (committed: boolean) => void;

  constructor() {
    this.done = new Promise((resolve) => (this.settle = resolve));
  }
}

/** The state of a key as a write finds it, and the open batch it comes from, if it is not committed yet. */
interface Found {
  current: StoredEntry | undefined;
  batch?: Batch;
}

/**
 * A log-structured store on SQLite (the idea of k3s's kine, with an index of the current
 * state beside the log): every write appends a row to `log` whose id is the new global
 * revision, holding the object's JSON, and points the key's row in `current` at it, in one
 * transaction. The log lets watches resume from a revision across restarts until it is
 * compacted. Each object's JSON is written once: `current` holds only (key, revision), and
 * compaction keeps the log row each `current` row points at (so large values never sit in
 * `current`'s B-tree, whose overflow pages and splits cost a write more than the log does).
 *
 * Group commit: a SQLite transaction costs far more than the rows in it, so writes are not
 * committed one by one. A write is checked against the newest state, that of the writes still
 * waiting included (this store is the only writer), takes the next revision, and joins the
 * open batch; the batch commits in one transaction once the event loop has handled the I/O
 * it was busy with (setImmediate), or at once when it reaches its cap. Only then are its
 * changes handed to the watch cache, in revision order, and its writes acknowledged (in the
 * next turn, once the events are on their way to the watchers): readers
 * (gets, lists, watches, the cache) never see a write before it is committed, and a client
 * that got its answer sees its write in the next read. A transaction that fails fails every
 * write of its batch and changes nothing: the cache and the revision never saw them.
 *
 * better-sqlite3 is synchronous and Node runs one callback at a time, so a commit and its
 * hand-over to the watch cache, or a list and a watch's registration, can never interleave:
 * that is what makes "every change after N, in order, exactly once" hold. Only an
 * asynchronous tryUpdate lets another write in between its read and its write, and then the
 * object is checked again.
 *
 * With a transformer (encryption at rest) every value passes through it on its way to and
 * from SQLite, and only there: memory holds objects in clear. A value read back through a
 * provider or key that is no longer the first is remembered as stale, and its next update
 * is written even when the object is unchanged, so that it is re-encrypted.
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite';
  private readonly db: Database.Database;
  readonly cache: WatchCache;
  private readonly historyRevisions: number;
  private compacted = 0;
  private readonly observe: (op: string, seconds: number) => void;
  private readonly stmts: {
    insertLog: Database.Statement;
    upsertObject: Database.Statement;
    deleteObject: Database.Statement;
    logAfter: Database.Statement;
    lastRevision: Database.Statement;
  };
  private readonly writeBatch: (batch: PendingWrite[], values: (string | Buffer)[]) => void;
  private readonly transformer?: ValueTransformer;
  /** keys whose stored value a transformer called stale */
  private readonly stale = new Set<string>();
  private readonly log?: Logger;
  private readonly maxBatchWrites: number;
  private readonly maxBatchBytes: number;
  /** the writes waiting for the next commit */
  private open?: Batch;
  private flushing?: NodeJS.Immediate;
  private readonly compactor: LogCompactor;
  /** the compaction under way, if any */
  private compacting?: Promise<number>;
  private readonly checkpointer?: WalCheckpointer;
  /** a flush waits for the checkpointer to let commits go on */
  private waitingForCheckpoint = false;
  /** why the last commit failed (a full disk, an I/O error), until one succeeds */
  private commitFailure?: string;

  constructor(opts: SqliteStoreOptions) {
    this.historyRevisions = opts.historyRevisions ?? 100_000;
    this.cache = new WatchCache({ recentEvents: opts.recentEvents, history: (fromRev) => this.history(fromRev), jsonOnly: opts.jsonOnly, parseOnRead: opts.parseOnRead, listIndexes: opts.listIndexes });
    this.observe = opts.observe ?? (() => undefined);
    this.transformer = opts.transformer;
    this.log = opts.log;
    // A batch blocks the event loop while it commits: the caps bound that pause (a few
    // milliseconds) however many writes arrive at once.
    this.maxBatchWrites = opts.maxBatchWrites ?? 256;
    this.maxBatchBytes = opts.maxBatchBytes ?? 4 * 2 ** 20;
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed write survives a crash of this process (SIGKILL);
    // only an operating-system crash or power loss can lose the last transactions.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS log (
        rev INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        type INTEGER NOT NULL,
        value TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS current (
        key TEXT PRIMARY KEY,
        rev INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;
    `);
    this.migrateObjectsTable();
    this.stmts = {
      insertLog: this.db.prepare('INSERT INTO log (rev, key, type, value) VALUES (?, ?, ?, ?)'),
      upsertObject: this.db.prepare('INSERT INTO current (key, rev) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET rev = excluded.rev'),
      deleteObject: this.db.prepare('DELETE FROM current WHERE key = ?'),
      logAfter: this.db.prepare('SELECT rev, key, type, value FROM log WHERE rev > ? ORDER BY rev'),
      lastRevision: this.db.prepare('SELECT MAX(rev) FROM log'),
    };
    this.writeBatch = this.db.transaction((batch: PendingWrite[], values: (string | Buffer)[]) => {
      for (let i = 0; i < batch.length; i++) {
        const { type, entry } = batch[i];
        this.stmts.insertLog.run(entry.rev, entry.key, type, values[i]);
        if (type === EventType.Deleted) this.stmts.deleteObject.run(entry.key);
        else this.stmts.upsertObject.run(entry.key, entry.rev);
      }
    });
    this.load();
    this.compactor = new LogCompactor(this.db, this.log, () => this.checkpointer?.held);
    // An in-memory database has no WAL.
    if (opts.path !== ':memory:') this.checkpointer = new WalCheckpointer(this.db, opts.path, this.log);
  }

  /**
   * Databases written before `current` kept each object's JSON in a table `objects`, and
   * compaction dropped every old log row: their objects move to the log (the rows of their
   * revisions, put back where compaction removed them) and `objects` goes.
   */
  private migrateObjectsTable(): void {
    const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'objects'").get();
    if (!exists) return;
    this.db.transaction(() => {
      this.db.exec(`
        INSERT OR IGNORE INTO log (rev, key, type, value) SELECT rev, key, ${EventType.Modified}, value FROM objects;
        INSERT OR REPLACE INTO current (key, rev) SELECT key, rev FROM objects;
        DROP TABLE objects;
      `);
    })();
  }

  private load(): void {
    const metaRows = this.db.prepare('SELECT name, value FROM meta').all() as { name: string; value: number }[];
    const meta = new Map(metaRows.map((r) => [r.name, r.value]));
    this.compacted = meta.get('compacted') ?? 0;
    const maxLog = (this.db.prepare('SELECT MAX(rev) AS rev FROM log').get() as { rev: number | null }).rev ?? 0;
    // After compaction the log may be empty: the compaction point still bounds the revision.
    const rev = Math.max(maxLog, this.compacted);
    const rows = this.db.prepare('SELECT current.key, current.rev, log.value FROM current JOIN log ON log.rev = current.rev').all() as {
      key: string;
      rev: number;
      value: string | Buffer;
    }[];
    const entries = rows.map((row): StoredEntry => {
      const { json, stale } = this.fromStorage(row.key, row.value);
      if (stale) this.stale.add(row.key);
      return { key: row.key, rev: row.rev, json, object: JSON.parse(json) as KubeObject };
    });
    this.cache.load(entries, rev);
  }

  /** A stored value as JSON; encrypted values need the transformer that can read them. */
  private fromStorage(key: string, value: string | Buffer): { json: string; stale: boolean } {
    if (this.transformer) return this.transformer.fromStorage(key, value);
    if (typeof value !== 'string') throw new Error(`${key} is stored encrypted: start the API server with the --encryption-provider-config that wrote it`);
    return { json: value, stale: false };
  }

  get compactedRevision(): number {
    return this.compacted;
  }

  // SQLite is in this process and every write goes through the cache as it commits: the
  // cache holds every acknowledged write, so reads are consistent without waiting.

  async get(key: string): Promise<StoredEntry | undefined> {
    return this.cache.get(key);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const started = process.hrtime.bigint();
    const result = this.cache.list(prefix, opts);
    this.observe('list', Number(process.hrtime.bigint() - started) / 1e9);
    return result;
  }

  async count(prefix: string): Promise<number> {
    return this.cache.count(prefix);
  }

  async ready(): Promise<void> {
    // Loaded in the constructor.
  }

  async check(): Promise<void> {
    if (!this.db.open) throw new Error('the database is closed');
    if (this.commitFailure) throw new Error(`the last commit failed: ${this.commitFailure}`);
    // The file still reads.
    this.stmts.lastRevision.get();
  }

  // A write decided on the open batch's state (refused, or answered without a change) is
  // answered once that batch is committed, never before: and decided again if it failed.

  async create(key: string, object: KubeObject, _opts?: CreateOptions): Promise<StoredEntry> {
    // Events expire through housekeeping here: SQLite has no leases.
    for (;;) {
      const { current, batch } = this.find(key);
      if (!current) return this.enqueue(key, EventType.Added, object, undefined);
      if (batch && !(await batch.done)) continue;
      throw new KeyExistsError(key);
    }
  }

  async guaranteedUpdate(key: string, preconditions: Preconditions, tryUpdate: TryUpdate): Promise<StoredEntry> {
    for (;;) {
      const { current, batch } = this.find(key);
      let next: KubeObject;
      try {
        if (!current) throw new KeyNotFoundError(key);
        checkPreconditions(key, current, preconditions);
        const object = ownObject(current);
        const resourceVersion = object.metadata.resourceVersion;
        const result = tryUpdate(object);
        next = result instanceof Promise ? await result : result;
        next.metadata.resourceVersion = resourceVersion;
      } catch (err) {
        if (batch && !(await batch.done)) continue;
        throw err;
      }
      // Only an asynchronous tryUpdate lets another write in between: then the object is checked again.
      if (!sameState(this.find(key).current, current)) continue;
      // A write that changes nothing is not a write (no new revision, no event), unless the
      // stored value must be re-encrypted.
      const json = JSON.stringify(next);
      if (json === current.json && !this.stale.has(key)) {
        if (batch && !(await batch.done)) continue;
        return current;
      }
      return this.enqueue(key, EventType.Modified, next, current, json);
    }
  }

  async delete(key: string, preconditions: Preconditions = {}, validateDeletion?: ValidateDeletion): Promise<StoredEntry> {
    for (;;) {
      const { current, batch } = this.find(key);
      try {
        if (!current) throw new KeyNotFoundError(key);
        checkPreconditions(key, current, preconditions);
        if (validateDeletion) {
          const result = validateDeletion(current.object);
          if (result instanceof Promise) await result;
        }
      } catch (err) {
        if (batch && !(await batch.done)) continue;
        throw err;
      }
      if (!sameState(this.find(key).current, current)) continue;
      const last = JSON.parse(current.json) as KubeObject;
      return this.enqueue(key, EventType.Deleted, last, current, current.json);
    }
  }

  /** The newest state of key: the open batch's, else the committed one. */
  private find(key: string): Found {
    const open = this.open;
    if (open?.states.has(key)) return { current: open.states.get(key), batch: open };
    return { current: this.cache.get(key) };
  }

  /**
   * Gives a checked write the next revision and puts it in the open batch; resolves once it is
   * committed. `json`: the object's JSON at its previous revision, when at hand.
   */
  private enqueue(key: string, type: EventType, object: KubeObject, prev: StoredEntry | undefined, json?: string): Promise<StoredEntry> {
    const batch = (this.open ??= new Batch());
    const rev = this.cache.revision + batch.writes.length + 1;
    const entry: StoredEntry = { key, rev, object, json: withRevision(object, rev, json) };
    batch.states.set(key, type === EventType.Deleted ? undefined : entry);
    return new Promise<StoredEntry>((resolve, reject) => {
      batch.writes.push({ type, entry, prev: prev && selectableOf(prev), enqueued: process.hrtime.bigint(), resolve, reject });
      batch.bytes += entry.json.length;
      if (batch.writes.length >= this.maxBatchWrites || batch.bytes >= this.maxBatchBytes) this.flush();
      else this.flushing ??= setImmediate(this.flush);
    });
  }

  /**
   * Commits the open batch in one transaction, then hands its changes to the watch cache in
   * revision order and acknowledges its writes; a failed transaction fails them all.
   */
  private readonly flush = (): void => {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    const batch = this.open;
    if (!batch) return;
    // While the checkpointer starts the WAL over nothing commits: the batch waits, and grows.
    const held = this.checkpointer?.held;
    if (held) {
      if (!this.waitingForCheckpoint) {
        this.waitingForCheckpoint = true;
        void held.then(() => {
          this.waitingForCheckpoint = false;
          this.flush();
        });
      }
      return;
    }
    this.open = undefined;
    const { writes } = batch;
    try {
      const values = writes.map(({ entry }) => (this.transformer ? this.transformer.toStorage(entry.key, entry.json) : entry.json));
      timedStep(this.log, 'commit', () => this.writeBatch(writes, values), () => ({ writes: writes.length, bytes: batch.bytes }));
      this.checkpointer?.committed();
      this.commitFailure = undefined;
    } catch (err) {
      this.commitFailure = (err as Error).message;
      const failure = new StorageCommitError(writes.length, err as Error);
      this.log?.error('SQLite commit failed', { writes: writes.length, firstRevision: writes[0].entry.rev, error: (err as Error).message });
      for (const w of writes) w.reject(failure);
      batch.settle(false);
      return;
    }
    const committed = process.hrtime.bigint();
    for (const { type, entry, prev, enqueued } of writes) {
      this.stale.delete(entry.key);
      this.observe(opNames[type], Number(committed - enqueued) / 1e9);
      this.cache.apply({ type: typeNames[type], key: entry.key, rev: entry.rev, object: entry.object, json: entry.json, prev });
    }
    // Answered a turn later, once the events are on the watchers' sockets: answers sent in the
    // same burst as a large batch's events reached a busy client before them (in the bench,
    // 1,000 node watchers saw events 200 to 400 ms after the answers, at p99).
    setImmediate(() => {
      for (const w of writes) w.resolve(w.entry);
      batch.settle(true);
    });
  };

  async watch(prefix: string, fromRev: number, sink: WatchSink): Promise<StoreWatch> {
    return this.watchNow(prefix, fromRev, sink);
  }

  private watchNow(prefix: string, fromRev: number, sink: WatchSink): StoreWatch {
    if (fromRev < this.compacted) throw new RevisionCompactedError(fromRev, this.compacted);
    return this.cache.watch(prefix, fromRev, sink);
  }

  async listAndWatch(prefix: string, filter: ListOptions['filter'], sink: WatchSink): Promise<{ list: ListResult; watch: StoreWatch }> {
    const list = this.cache.list(prefix, { filter, index: sink.index });
    return { list, watch: this.watchNow(prefix, list.rev, sink) };
  }

  /** The events after fromRev, read from the log. */
  private history(fromRev: number): StoreEvent[] {
    if (fromRev < this.compacted) throw new RevisionCompactedError(fromRev, this.compacted);
    const rows = timedStep(this.log, 'history read', () => this.stmts.logAfter.all(fromRev) as { rev: number; key: string; type: EventType; value: string | Buffer }[], (r) => ({
      fromRevision: fromRev,
      rows: r.length,
    }));
    const lastSeen = new Map<string, KubeObject>();
    return rows.map((row) => {
      const { json } = this.fromStorage(row.key, row.value);
      const object = JSON.parse(json) as KubeObject;
      const event: StoreEvent = { type: typeNames[row.type], key: row.key, rev: row.rev, object, json, prev: lastSeen.get(row.key) };
      lastSeen.set(row.key, object);
      return event;
    });
  }

  /** Drops log rows older than the history window; watches from before it get 410 Gone. */
  async compact(): Promise<number> {
    // One compaction at a time: a second one starts where the first stopped.
    while (this.compacting) await this.compacting.catch(() => undefined);
    const upTo = this.cache.revision - this.historyRevisions;
    if (upTo <= this.compacted) return 0;
    this.compacting = this.compactor.run(this.compacted, upTo, (rev) => (this.compacted = rev)).finally(() => (this.compacting = undefined));
    return this.compacting;
  }

  async close(): Promise<void> {
    // The checkpointer's connection goes first: the writer's close then checkpoints the rest.
    await this.checkpointer?.close();
    this.flush();
    this.cache.close();
    this.db.close();
  }
}

/**
 * Sets an object's resourceVersion to rev and returns its JSON. The JSON it had at its
 * previous resourceVersion, when given, is rewritten rather than the object written again:
 * where it holds that resourceVersion only once, that is the object's own.
 */
function withRevision(object: KubeObject, rev: number, json: string | undefined): string {
  const before = object.metadata.resourceVersion;
  const version = String(rev);
  object.metadata.resourceVersion = version;
  if (json === undefined || typeof before !== 'string') return JSON.stringify(object);
  const field = `"resourceVersion":${JSON.stringify(before)}`;
  const at = json.indexOf(field);
  if (at < 0 || json.indexOf(field, at + 1) >= 0) return JSON.stringify(object);
  return `${json.slice(0, at)}"resourceVersion":"${version}"${json.slice(at + field.length)}`;
}

/**
 * Whether a key still holds the state a write was computed from: the same write, whether
 * still waiting or committed since (the cache then holds its own entry of the same JSON).
 */
function sameState(now: StoredEntry | undefined, then: StoredEntry): boolean {
  return now === then || (now !== undefined && now.rev === then.rev && now.json === then.json);
}
