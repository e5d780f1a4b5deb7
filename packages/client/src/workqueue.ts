// A work queue for controllers: keys (usually `ns/name`) rather than events, so a burst
// of changes to one object means one reconcile. A key is never handed to two workers at
// once: added again while it is being processed, it is queued again when done() is called.

import { Fifo } from './fifo';
import { createLogger } from './log';
import type { Logger } from './log';

export interface WorkQueueOptions {
  /** First retry delay of addRateLimited; doubles per failure of the same key. Default 5 ms. */
  baseDelayMs?: number;
  /** Upper bound of the retry delay. Default 60 s. */
  maxDelayMs?: number;
  logger?: Logger;
}

export class WorkQueue<K> {
  private readonly queue = new Fifo<K>();
  /** Keys that need processing (queued, or re-added while being processed). */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiters: ((key: K | undefined) => void)[] = [];
  private readonly failures = new Map<K, number>();
  private readonly delayed = new Map<K, { timer: NodeJS.Timeout; readyAt: number }>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly log: Logger;
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.log = opts.logger ?? createLogger('workqueue');
  }

  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  /** Adds the key after `ms`; of several pending delays for one key, the earliest wins. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const readyAt = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending !== undefined) {
      if (pending.readyAt <= readyAt) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { timer, readyAt });
  }

  /** Re-adds a key that failed, waiting longer after each consecutive failure. */
  addRateLimited(key: K): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs));
  }

  /** The key succeeded: its next failure starts the back-off from the beginning. */
  forget(key: K): void {
    this.failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once the queue is shut down. Call done(key) after. */
  get(): Promise<K | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key);
  }

  /** Keys waiting to be handed out. */
  len(): number {
    return this.queue.length;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops handing out keys: waiting and later get() calls return undefined; queued keys are dropped. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.queue.clear();
    this.dirty.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  /**
   * Runs `workers` loops that process keys until shutdown: a key whose handler succeeds is
   * forgotten, one whose handler throws is retried with back-off. Resolves when all loops end.
   */
  async run(handler: (key: K) => Promise<void>, workers = 1): Promise<void> {
    const loop = async (): Promise<void> => {
      for (let key = await this.get(); key !== undefined; key = await this.get()) {
        try {
          await handler(key);
          this.forget(key);
        } catch (err) {
          this.log.warn('processing failed; will retry', { key: String(key), error: err, retries: this.numRequeues(key) });
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, loop));
  }

  private enqueue(key: K): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }
}
