// Heartbeats of many nodes on one timer: the nodes are spread evenly over the interval, and
// each tick hands the ones whose turn it is to a work queue. A node whose last heartbeat is
// still on its way is not queued twice; one that failed is retried with back-off (the
// queue's), as an agent retries its status post. Each real agent beats on its own, so a
// process standing in for thousands must keep as many beats in flight as their rate times
// the API server's answer time (heartbeatConcurrency): a fixed small window would queue them
// behind each other once the server slows down, until leases lapse.

import { WorkQueue } from '@peapod/client';
import type { Logger } from '@peapod/client';

/** The answer time heartbeats are sized for: a busy API server's, at Kubernetes' 1 s latency objective for mutating calls. */
export const HEARTBEAT_LATENCY_BUDGET_MS = 1000;

/** Below this, a smaller window saves nothing worth having. */
const MIN_HEARTBEATS_IN_FLIGHT = 16;

/**
 * Heartbeats in flight at once for `nodes` nodes each beating once per interval while a
 * beat takes up to `latencyMs`: their rate times that time (Little's law), never more than
 * one per node (a node's next beat waits for its last).
 */
export function heartbeatConcurrency(nodes: number, intervalMs: number, latencyMs = HEARTBEAT_LATENCY_BUDGET_MS): number {
  const needed = Math.ceil((nodes * latencyMs) / intervalMs);
  return Math.max(1, Math.min(nodes, Math.max(MIN_HEARTBEATS_IN_FLIGHT, needed)));
}

export interface HeartbeatOptions {
  intervalMs: number;
  /** How often the timer fires; default 100 ms. */
  tickMs?: number;
  /** Heartbeats in flight at once (heartbeatConcurrency). */
  concurrency: number;
  log: Logger;
}

export class Heartbeats {
  private readonly queue: WorkQueue<number>;
  private readonly beating = new Set<number>();
  private timer?: NodeJS.Timeout;
  private cursor = 0;
  private run?: Promise<void>;

  /** beat(i) posts node i's heartbeat; nodes are 0 to count-1, each beating once per interval. */
  constructor(
    private readonly count: () => number,
    private readonly beat: (index: number) => Promise<void>,
    private readonly opts: HeartbeatOptions,
  ) {
    this.queue = new WorkQueue<number>({ logger: opts.log, baseDelayMs: 500, maxDelayMs: opts.intervalMs });
  }

  start(): void {
    const tickMs = this.opts.tickMs ?? 100;
    // Fractional shares carry over, so every node beats once per interval whatever the tick.
    let owed = 0;
    this.timer = setInterval(() => {
      const n = this.count();
      if (n === 0) return;
      owed += (n * tickMs) / this.opts.intervalMs;
      for (; owed >= 1; owed--) {
        const i = this.cursor % n;
        this.cursor = (this.cursor + 1) % n;
        if (!this.beating.has(i)) this.queue.add(i);
      }
    }, tickMs);
    this.run = this.queue.run(async (i) => {
      this.beating.add(i);
      try {
        await this.beat(i);
      } finally {
        this.beating.delete(i);
      }
    }, this.opts.concurrency);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.queue.shutdown();
    await this.run;
  }
}
