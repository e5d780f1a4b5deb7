// Watch changes arrive one by one, thousands a second at scale; the page re-renders at most
// once per interval (100 ms) with everything that arrived meanwhile. The first change after
// a quiet spell goes out at once, so a single change is never held back needlessly.

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

const realTimers: Timers = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms) };

export class Batcher<T> {
  private pending: T[] = [];
  private scheduled = false;
  private lastFlush = -Infinity;

  constructor(
    private readonly flush: (items: T[]) => void,
    private readonly intervalMs = 100,
    private readonly timers: Timers = realTimers,
  ) {}

  push(item: T): void {
    this.pending.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.timers.now());
    this.timers.setTimeout(() => this.run(), wait);
  }

  private run(): void {
    this.scheduled = false;
    this.lastFlush = this.timers.now();
    const items = this.pending;
    this.pending = [];
    if (items.length > 0) this.flush(items);
  }
}
