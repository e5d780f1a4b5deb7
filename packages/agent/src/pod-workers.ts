import type { Logger } from '@peapod/client';

/** Makes the node match what is wanted for one pod; reads the latest wanted state itself. */
export type SyncFn = (uid: string) => Promise<SyncOutcome | void>;

export interface SyncOutcome {
  /** Sync this pod again after this long (a back-off ending, a retry). */
  requeueAfterMs?: number;
  /** The pod is gone for good: drop its worker. */
  done?: boolean;
}

export interface PodWorkersOptions {
  /** First retry after a sync that threw; doubles per consecutive failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

interface Worker {
  running: boolean;
  /** A sync was asked for while one ran: run once more when it ends. */
  pending: boolean;
  failures: number;
  timer?: NodeJS.Timeout;
  timerAt?: number;
  /** Resolves when the current run loop ends (for idle()). */
  loop?: Promise<void>;
}

/**
 * One worker per pod uid: syncs of one pod run one at a time, syncs of different pods run
 * concurrently, so one pod's slow stop never delays another. Sync requests that arrive
 * while a sync runs collapse into a single follow-up sync.
 */
export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private stopped = false;

  constructor(
    private readonly syncPod: SyncFn,
    private readonly log: Logger,
    opts: PodWorkersOptions = {},
  ) {
    this.retryMs = opts.retryMs ?? 500;
    this.maxRetryMs = opts.maxRetryMs ?? 30_000;
  }

  /** Asks for a sync of the pod now (coalesced with one already waiting). */
  sync(uid: string): void {
    if (this.stopped) return;
    let worker = this.workers.get(uid);
    if (!worker) {
      worker = { running: false, pending: false, failures: 0 };
      this.workers.set(uid, worker);
    }
    if (worker.running) {
      worker.pending = true;
      return;
    }
    this.clearTimer(worker);
    worker.running = true;
    worker.loop = this.run(uid, worker);
  }

  /** Asks for a sync after ms; an earlier request wins over a later one. */
  syncAfter(uid: string, ms: number): void {
    if (this.stopped) return;
    let worker = this.workers.get(uid);
    if (!worker) {
      worker = { running: false, pending: false, failures: 0 };
      this.workers.set(uid, worker);
    }
    const at = Date.now() + ms;
    if (worker.timer && worker.timerAt !== undefined && worker.timerAt <= at) return;
    this.clearTimer(worker);
    worker.timerAt = at;
    worker.timer = setTimeout(() => {
      worker.timer = undefined;
      worker.timerAt = undefined;
      this.sync(uid);
    }, Math.max(0, ms));
  }

  /** Uids that have a worker (running, waiting, or idle with a timer). */
  uids(): string[] {
    return [...this.workers.keys()];
  }

  isBusy(uid: string): boolean {
    return this.workers.get(uid)?.running === true;
  }

  /** Resolves when no sync runs (for tests and shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const loops = [...this.workers.values()].map((w) => w.loop).filter((l): l is Promise<void> => l !== undefined);
      if (loops.length === 0) return;
      await Promise.all(loops);
    }
  }

  /** Stops starting syncs and cancels timers; running syncs finish on their own. */
  stop(): void {
    this.stopped = true;
    for (const worker of this.workers.values()) this.clearTimer(worker);
  }

  private async run(uid: string, worker: Worker): Promise<void> {
    try {
      do {
        worker.pending = false;
        let outcome: SyncOutcome | void;
        try {
          outcome = await this.syncPod(uid);
          worker.failures = 0;
        } catch (err) {
          const delay = Math.min(this.retryMs * 2 ** worker.failures, this.maxRetryMs);
          worker.failures++;
          this.log.warn('pod sync failed; will retry', { uid, error: err, retryMs: delay });
          outcome = { requeueAfterMs: delay };
        }
        if (outcome?.done && !worker.pending) {
          this.clearTimer(worker);
          this.workers.delete(uid);
          return;
        }
        if (outcome?.requeueAfterMs !== undefined && !this.stopped) this.syncAfter(uid, outcome.requeueAfterMs);
      } while (worker.pending && !this.stopped);
    } finally {
      worker.running = false;
      worker.loop = undefined;
    }
  }

  private clearTimer(worker: Worker): void {
    if (worker.timer) clearTimeout(worker.timer);
    worker.timer = undefined;
    worker.timerAt = undefined;
  }
}
