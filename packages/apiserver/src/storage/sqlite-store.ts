import Database from 'better-sqlite3';
import type { KubeObject } from '@peapod/api';
import {
  checkPreconditions,
  CreateOptions,
  KeyExistsError,
  KeyNotFoundError,
  ListOptions,
  RevisionCompactedError,
  ListResult,
  Preconditions,
  Store,
  StoreEvent,
  StoredEntry,
  StoreWatch,
  TryUpdate,
  ValidateDeletion,
  WatchSink,
} from './types';
import { WatchCache } from './watch-cache';
import type { ValueTransformer } from './encryption';

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
  /** resources whose objects the cache keeps without their JSON (WatchCacheOptions.encodeOnRead) */
  encodeOnRead?: ReadonlySet<string>;
}

const enum EventType {
  Added = 0,
  Modified = 1,
  Deleted = 2,
}
const typeNames = ['ADDED', 'MODIFIED', 'DELETED'] as const;

/**
 * A log-structured store on SQLite (the idea of k3s's kine, with an index of the current
 * state beside the log): every write appends a row to `log` whose id is the new global
 * revision, holding the object's JSON, and points the key's row in `current` at it, in one
 * transaction. The log lets watches resume from a revision across restarts until it is
 * compacted. Each object's JSON is written once: `current` holds only (key, revision), and
 * compaction keeps the log row each `current` row points at (so large values never sit in
 * `current`'s B-tree, whose overflow pages and splits cost a write more than the log does).
 *
 * better-sqlite3 is synchronous and Node runs one request handler at a time, so a write and
 * its hand-over to the watch cache, or a list and a watch's registration, can never
 * interleave: that is what makes "every change after N, in order, exactly once" hold. The
 * interface is asynchronous all the same (for etcd's sake); only an asynchronous tryUpdate
 * lets another write in between its read and its write, and then it is checked again.
 *
 * With a transformer (encryption at rest) every value passes through it on its way to and
 * from SQLite, and only there: memory holds objects in clear. A value read back through a
 * provider or key that is no longer the first is remembered as stale, and its next update
 * is written even when the object is unchanged, so that it is re-encrypted.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  readonly cache: WatchCache;
  private readonly historyRevisions: number;
  private compacted = 0;
  private readonly observe: (op: string, seconds: number) => void;
  private readonly stmts: {
    insertLog: Database.Statement;
    upsertObject: Database.Statement;
    deleteObject: Database.Statement;
    setMeta: Database.Statement;
    logAfter: Database.Statement;
    compact: Database.Statement;
  };
  private readonly writeTxn: (rev: number, key: string, type: EventType, value: string | Buffer) => void;
  private readonly transformer?: ValueTransformer;
  /** keys whose stored value a transformer called stale */
  private readonly stale = new Set<string>();

  constructor(opts: SqliteStoreOptions) {
    this.historyRevisions = opts.historyRevisions ?? 100_000;
    this.cache = new WatchCache({ recentEvents: opts.recentEvents, history: (fromRev) => this.history(fromRev), encodeOnRead: opts.encodeOnRead });
    this.observe = opts.observe ?? (() => undefined);
    this.transformer = opts.transformer;
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
      setMeta: this.db.prepare(
        'INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
      ),
      logAfter: this.db.prepare('SELECT rev, key, type, value FROM log WHERE rev > ? ORDER BY rev'),
      compact: this.db.prepare(
        'DELETE FROM log WHERE rev <= ? AND NOT EXISTS (SELECT 1 FROM current WHERE current.key = log.key AND current.rev = log.rev)',
      ),
    };
    this.writeTxn = this.db.transaction((rev: number, key: string, type: EventType, value: string | Buffer) => {
      this.stmts.insertLog.run(rev, key, type, value);
      if (type === EventType.Deleted) this.stmts.deleteObject.run(key);
      else this.stmts.upsertObject.run(key, rev);
    });
    this.load();
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
  // cache is always current, so reads are consistent without waiting.

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

  async create(key: string, object: KubeObject, _opts?: CreateOptions): Promise<StoredEntry> {
    // Events expire through housekeeping here: SQLite has no leases.
    if (this.cache.get(key)) throw new KeyExistsError(key);
    return this.commit(key, EventType.Added, object, undefined);
  }

  async guaranteedUpdate(key: string, preconditions: Preconditions, tryUpdate: TryUpdate): Promise<StoredEntry> {
    for (;;) {
      const current = this.cache.get(key);
      if (!current) throw new KeyNotFoundError(key);
      checkPreconditions(key, current, preconditions);
      const result = tryUpdate(current.object);
      // Only an asynchronous tryUpdate lets another write in between: then the object is checked again.
      const next = result instanceof Promise ? await result : result;
      if (this.cache.get(key) !== current) continue;
      next.metadata.resourceVersion = current.object.metadata.resourceVersion;
      // A write that changes nothing is not a write (no new revision, no event), unless the
      // stored value must be re-encrypted.
      if (JSON.stringify(next) === current.json && !this.stale.has(key)) return current;
      return this.commit(key, EventType.Modified, next, current);
    }
  }

  async delete(key: string, preconditions: Preconditions = {}, validateDeletion?: ValidateDeletion): Promise<StoredEntry> {
    for (;;) {
      const current = this.cache.get(key);
      if (!current) throw new KeyNotFoundError(key);
      checkPreconditions(key, current, preconditions);
      if (validateDeletion) {
        const result = validateDeletion(current.object);
        if (result instanceof Promise) await result;
        if (this.cache.get(key) !== current) continue;
      }
      const last = JSON.parse(current.json) as KubeObject;
      return this.commit(key, EventType.Deleted, last, current);
    }
  }

  private commit(key: string, type: EventType, object: KubeObject, prev: StoredEntry | undefined): StoredEntry {
    const started = process.hrtime.bigint();
    const rev = this.cache.revision + 1;
    object.metadata.resourceVersion = String(rev);
    const json = JSON.stringify(object);
    this.writeTxn(rev, key, type, this.transformer ? this.transformer.toStorage(key, json) : json);
    this.stale.delete(key);
    this.observe(typeNames[type].toLowerCase(), Number(process.hrtime.bigint() - started) / 1e9);
    this.cache.apply({ type: typeNames[type], key, rev, object, json, prev: prev?.object });
    return { key, rev, object, json };
  }

  async watch(prefix: string, fromRev: number, sink: WatchSink): Promise<StoreWatch> {
    return this.watchNow(prefix, fromRev, sink);
  }

  private watchNow(prefix: string, fromRev: number, sink: WatchSink): StoreWatch {
    if (fromRev < this.compacted) throw new RevisionCompactedError(fromRev, this.compacted);
    return this.cache.watch(prefix, fromRev, sink);
  }

  async listAndWatch(prefix: string, filter: ListOptions['filter'], sink: WatchSink): Promise<{ list: ListResult; watch: StoreWatch }> {
    const list = this.cache.list(prefix, { filter });
    return { list, watch: this.watchNow(prefix, list.rev, sink) };
  }

  /** The events after fromRev, read from the log. */
  private history(fromRev: number): StoreEvent[] {
    if (fromRev < this.compacted) throw new RevisionCompactedError(fromRev, this.compacted);
    const rows = this.stmts.logAfter.all(fromRev) as { rev: number; key: string; type: EventType; value: string | Buffer }[];
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
    const upTo = this.cache.revision - this.historyRevisions;
    if (upTo <= this.compacted) return 0;
    const removed = this.db.transaction(() => {
      const result = this.stmts.compact.run(upTo);
      this.stmts.setMeta.run('compacted', upTo);
      return result.changes;
    })();
    this.compacted = upTo;
    return removed;
  }

  async close(): Promise<void> {
    this.cache.close();
    this.db.close();
  }
}
