import { Worker } from 'worker_threads';
import Database from 'better-sqlite3';
import type { Logger } from '@peapod/client';

/**
 * How long the checkpointer waits between rounds: long enough for a round to copy many commits'
 * pages at once (each page once, however often it changed) and sync the files once for all.
 */
const checkpointEveryMs = 50;
/**
 * The WAL's bound: beyond it the writer finishes the checkpoint itself (see WalCheckpointer), and
 * the file is cut back to it when it starts over.
 */
const walBoundBytes = 64 * 2 ** 20;
/**
 * Revisions of the log looked at in one compaction transaction: tens of milliseconds with the
 * bench's pods of 3.7 KB (a page of 1,000 took 110 to 190 ms on the busy machine).
 */
export const compactionPageRevisions = 250;
/**
 * A synchronous step of the store (a commit, a checkpoint, a compaction page, a read of the
 * log) that holds the event loop this long is logged (warn): every request waits for it.
 */
export const slowStepMs = 100;

/** Runs step and logs it (warn, with its fields) when it held the event loop slowStepMs or more. */
export function timedStep<T>(log: Logger | undefined, what: string, step: () => T, fields?: (result: T) => Record<string, unknown>): T {
  const started = performance.now();
  const result = step();
  const ms = performance.now() - started;
  if (ms >= slowStepMs) log?.warn(`slow SQLite ${what}`, { ms: Math.round(ms), ...fields?.(result) });
  return result;
}

// The checkpointer's thread: plain JavaScript, evaluated as it is (it runs outside ts-jest and
// tsc's output alike). PASSIVE never waits for a lock and never holds the writer up: it copies
// the frames no reader still needs (the writer's pin lets it copy every commit). When the WAL
// has passed its bound it asks the writer to hold its commits
// ('behind'), and once told they are held ('restart') copies the rest (RESTART: no writer is left
// to wait for) and is the first to write to the WAL started over: that write is the one that
// syncs the WAL's new header (user_version set to what it is: one page, nothing changed).
const checkpointerSource = `
const { parentPort, workerData } = require('worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('journal_size_limit = ' + workerData.walBoundBytes);
const boundFrames = Math.ceil(workerData.walBoundBytes / db.pragma('page_size', { simple: true }));
// row.log counts the frames as the round began: frames written since may still wait.
let timer;
let lastLog = 0;
const run = () => {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    const moved = row.checkpointed < row.log || row.log > lastLog;
    lastLog = row.log;
    if (moved && row.log >= boundFrames) return parentPort.postMessage({ behind: row.log });
  } catch (err) {
    parentPort.postMessage({ error: err.message });
  }
  timer = setTimeout(run, workerData.everyMs);
};
parentPort.on('message', (message) => {
  if (message === 'restart') {
    let restarted;
    try {
      [restarted] = db.pragma('wal_checkpoint(RESTART)');
      db.pragma('user_version = ' + db.pragma('user_version', { simple: true }));
    } catch (err) {
      restarted = { error: err.message };
    }
    parentPort.postMessage({ restarted });
    timer = setTimeout(run, workerData.everyMs);
    return;
  }
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
run();
`;

/**
 * Keeps a WAL database's checkpoints off the event loop. SQLite's automatic checkpoint runs
 * inside the COMMIT that crosses 1,000 WAL pages: it copies the WAL into the database and
 * syncs it, and in a database of a few GiB that held the event loop for 0.5 s. Here the
 * writing connection never checkpoints; a worker thread with a connection of its own checkpoints
 * continually, which SQLite lets happen beside a writer without either waiting for the other.
 *
 * The event loop never waits for the disk: SQLite syncs files when it checkpoints and when a
 * writer starts the WAL over (the first commit after a full checkpoint syncs the WAL's new
 * header), and on a busy disk one sync can take a second. So the writing connection neither
 * checkpoints nor starts the WAL over: a second connection of this thread holds a read
 * transaction at the newest commit (`committed()` moves it on), which lets the worker copy every
 * frame but keeps the writer from starting the WAL over (it appends instead; starting over needs
 * no reader in the WAL). Once the WAL has passed its bound, the writer holds its commits
 * (`held`: writes wait in the open batch, the event loop goes on serving), the read ends, and
 * the worker copies what is left, syncs, and makes the first write of the WAL started over.
 * Should the worker fail, the writing connection checkpoints itself again, as SQLite does by
 * default.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private stopping = false;
  /** Set while the worker starts the WAL over: the writer commits nothing until it resolves. */
  held?: Promise<void>;
  private release = (): void => undefined;
  /** The connection whose read transaction keeps the writer from starting the WAL over. */
  private readonly pin: Database.Database;
  private readonly pinStatements: { begin: Database.Statement; read: Database.Statement; end: Database.Statement };
  /** false once the worker is gone (the writer checkpoints and starts the WAL over itself again) */
  private pinning = true;

  constructor(
    private readonly db: Database.Database,
    file: string,
    private readonly log?: Logger,
    boundBytes = walBoundBytes,
  ) {
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`journal_size_limit = ${boundBytes}`);
    this.pin = new Database(file);
    this.pinStatements = { begin: this.pin.prepare('BEGIN'), read: this.pin.prepare('SELECT COUNT(*) FROM sqlite_master'), end: this.pin.prepare('COMMIT') };
    this.repin();
    this.worker = new Worker(checkpointerSource, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), path: file, walBoundBytes: boundBytes, everyMs: checkpointEveryMs },
    });
    this.worker.on('message', (m: { error?: string; behind?: number; restarted?: { error?: string; busy?: number } }) => {
      if (m.error) return this.log?.error('SQLite checkpoint failed', { error: m.error });
      if (m.restarted) {
        if (m.restarted.error) this.log?.error('SQLite checkpoint failed', { error: m.restarted.error });
        return this.release();
      }
      if (this.stopping || !this.db.open) return;
      this.hold(m.behind ?? 0);
    });
    let failure = '';
    this.worker.on('error', (err) => (failure = err.message));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.pinning = false;
        if (!this.stopping && this.db.open) {
          this.log?.error('SQLite checkpointer stopped; the writer checkpoints again', { error: failure || `exit code ${code}` });
          this.db.pragma('wal_autocheckpoint = 1000');
        }
        this.release();
        this.unpin();
        resolve();
      }),
    );
  }

  /** The writer committed: the read moves to its commit, so that the worker can copy it. */
  committed(): void {
    if (!this.held) this.repin();
  }

  private unpin(): void {
    if (this.pin.inTransaction) this.pinStatements.end.run();
  }

  private repin(): void {
    this.unpin();
    if (!this.pinning || !this.pin.open) return;
    this.pinStatements.begin.run();
    this.pinStatements.read.get();
  }

  /** Holds the writer's commits and has the worker start the WAL over. */
  private hold(walFrames: number): void {
    const started = performance.now();
    this.unpin();
    this.held = new Promise((resolve) => {
      this.release = () => {
        this.held = undefined;
        this.release = () => undefined;
        this.repin();
        const ms = performance.now() - started;
        if (ms >= slowStepMs) this.log?.warn('slow SQLite checkpoint (commits held)', { ms: Math.round(ms), walFrames });
        resolve();
      };
    });
    this.worker.postMessage('restart');
  }

  /** Stops the worker, its connection closed (before the writer's, whose close checkpoints what is left). */
  async close(): Promise<void> {
    this.stopping = true;
    this.worker.postMessage('stop');
    await this.exited;
    this.pin.close();
  }
}

/**
 * Drops the log rows no current object points at, a page of revisions per transaction with
 * the event loop served in between: in one DELETE, compacting a minute of churn held the
 * event loop for 0.35 to 0.6 s in a database of 1.8 GiB.
 */
export class LogCompactor {
  /** Compacts the revisions in (after, upTo] in one transaction; returns the rows removed. */
  private readonly page: (after: number, upTo: number) => number;

  /**
   * held: while it gives a promise, the checkpointer is starting the WAL over (WalCheckpointer.held)
   * and a page would wait for it with the event loop blocked: it waits for it first.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly log?: Logger,
    private readonly held: () => Promise<void> | undefined = () => undefined,
  ) {
    const deleteRows = db.prepare(
      'DELETE FROM log WHERE rev > ? AND rev <= ? AND NOT EXISTS (SELECT 1 FROM current WHERE current.key = log.key AND current.rev = log.rev)',
    );
    const setCompacted = db.prepare("INSERT INTO meta (name, value) VALUES ('compacted', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value");
    this.page = db.transaction((after: number, upTo: number) => {
      const { changes } = deleteRows.run(after, upTo);
      setCompacted.run(upTo);
      return changes;
    });
  }

  /**
   * Compacts the revisions after `from` up to `upTo`; `compacted` hears of each page once it is
   * committed (history before it is gone from then on). Stops early if the database is closed.
   * Returns the rows removed.
   */
  async run(from: number, upTo: number, compacted: (rev: number) => void): Promise<number> {
    let removed = 0;
    for (let rev = from; rev < upTo && this.db.open; ) {
      await this.held();
      if (!this.db.open) break;
      const end = Math.min(upTo, rev + compactionPageRevisions);
      removed += timedStep(this.log, 'compaction page', () => this.page(rev, end), (rows) => ({ fromRevision: rev, toRevision: end, rows }));
      compacted(end);
      rev = end;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return removed;
  }
}
