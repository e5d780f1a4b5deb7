import type { Queuing } from './bootstrap';

/** Why a request was turned away, as Kubernetes' rejected-requests metric names it. */
export type RejectReason = 'queue-full' | 'time-out' | 'concurrency-limit';

interface Waiter {
  width: number;
  enqueuedAt: number;
  start(finish: () => void): void;
  reject(reason: RejectReason): void;
}

interface Queue {
  items: Waiter[];
  /** seats its dispatched requests still hold */
  executing: number;
  /** virtual time at which its last dispatched request is expected to end */
  virtualFinish: number;
}

/** Flows' hands are dealt once and kept: a cluster has a few thousand flows at most. */
const maxKeptHands = 4096;

/**
 * One priority level's seats and queues. A request that finds a seat starts at once; otherwise
 * it waits in one of its flow's queues (shuffle sharding: the flow's name deals a hand of
 * queues and the request joins the shortest), and as seats free the queues are served in
 * start-time fair queuing order: each queue's requests are charged the seats they hold times
 * how long they ran, so a flow that floods its queues gets its share of the level, no more,
 * and a quiet flow's request goes before the flood's backlog. Kubernetes' APF does the same
 * (with its own estimate of a request's cost); seats are not lent between levels here.
 */
export class QueueSet {
  private executingSeats = 0;
  private waiting = 0;
  private readonly queues: Queue[];
  private readonly active = new Set<Queue>();
  private readonly hands = new Map<string, number[]>();
  /** the level's virtual clock: the start of the request dispatched last */
  private virtualNow = 0;
  /** seconds a seat is held, on average lately among requests given seats by request(): what a queued request is charged until it ends */
  private estimate = 0.005;

  constructor(
    readonly limit: number,
    private readonly queuing: Queuing | undefined,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {
    this.queues = Array.from({ length: queuing?.queues ?? 0 }, () => ({ items: [], executing: 0, virtualFinish: 0 }));
  }

  get executing(): number {
    return this.executingSeats;
  }

  get queued(): number {
    return this.waiting;
  }

  /**
   * Takes the seats of a request that can start at once (its seats free, nothing waiting):
   * the seats taken, for release(), or 0 when it must go through request(). Such a request is
   * neither timed nor charged to a queue (fair queuing orders only requests that wait), and no
   * callbacks are made for it: on a busy server that is most requests, and going through
   * request() cost an admitted pod create 0.016 ms more of the server's CPU.
   */
  take(width: number): number {
    const seats = this.seatsFor(width);
    if (!this.startsNow(seats)) return 0;
    this.executingSeats += seats;
    return seats;
  }

  /** Gives back seats that take() took, and starts what waits for them. */
  release(seats: number): void {
    this.executingSeats -= seats;
    this.dispatchWaiting();
  }

  /**
   * Starts the request now (start is called before this returns) or queues it; a request
   * turned away gets reject. Returns a function that takes a queued request out (its
   * client went away), which then gets neither call.
   */
  request(flow: string, width: number, start: (finish: () => void) => void, reject: (reason: RejectReason) => void): () => void {
    const seats = this.seatsFor(width);
    if (this.startsNow(seats)) {
      this.dispatch(undefined, { width: seats, enqueuedAt: 0, start, reject });
      return noop;
    }
    if (!this.queuing) {
      reject('concurrency-limit');
      return noop;
    }
    const queue = this.shortestOf(this.hand(flow));
    if (queue.items.length >= this.queuing.queueLengthLimit) {
      reject('queue-full');
      return noop;
    }
    if (queue.items.length === 0) {
      this.active.add(queue);
      // A queue that was idle starts from now: no credit for the time it asked for nothing.
      queue.virtualFinish = Math.max(queue.virtualFinish, this.virtualNow);
    }
    const waiter: Waiter = { width: seats, enqueuedAt: this.now(), start, reject };
    queue.items.push(waiter);
    this.waiting++;
    return () => {
      const at = queue.items.indexOf(waiter);
      if (at < 0) return;
      queue.items.splice(at, 1);
      this.waiting--;
      if (queue.items.length === 0) this.active.delete(queue);
    };
  }

  /** Turns away the requests that have waited longer than maxWaitSeconds (the oldest are at the queues' heads). */
  expire(maxWaitSeconds: number): void {
    if (this.waiting === 0) return;
    const oldest = this.now() - maxWaitSeconds;
    for (const queue of this.active) {
      while (queue.items.length > 0 && queue.items[0].enqueuedAt < oldest) {
        const waiter = queue.items.shift()!;
        this.waiting--;
        waiter.reject('time-out');
      }
      if (queue.items.length === 0) this.active.delete(queue);
    }
  }

  private dispatch(queue: Queue | undefined, waiter: Waiter): void {
    const startedAt = this.now();
    const charged = this.estimate;
    this.executingSeats += waiter.width;
    if (queue) {
      const virtualStart = Math.max(this.virtualNow, queue.virtualFinish);
      this.virtualNow = virtualStart;
      queue.virtualFinish = virtualStart + waiter.width * charged;
      queue.executing += waiter.width;
    }
    let finished = false;
    waiter.start(() => {
      if (finished) return;
      finished = true;
      const ran = this.now() - startedAt;
      this.executingSeats -= waiter.width;
      if (queue) {
        queue.executing -= waiter.width;
        queue.virtualFinish += waiter.width * (ran - charged);
      }
      this.estimate = 0.9 * this.estimate + 0.1 * ran;
      this.dispatchWaiting();
    });
  }

  /** Starts queued requests while seats are free, the queue furthest behind in virtual time first. */
  private dispatchWaiting(): void {
    while (this.waiting > 0) {
      let next: Queue | undefined;
      for (const queue of this.active) {
        if (!next || Math.max(this.virtualNow, queue.virtualFinish) < Math.max(this.virtualNow, next.virtualFinish)) next = queue;
      }
      const head = next!.items[0];
      if (this.executingSeats + head.width > this.limit) return;
      next!.items.shift();
      this.waiting--;
      if (next!.items.length === 0) this.active.delete(next!);
      this.dispatch(next, head);
    }
  }

  /** Whether a request of these seats may start at once: they are free, and nothing waits before it. */
  private startsNow(seats: number): boolean {
    return this.waiting === 0 && this.executingSeats + seats <= this.limit;
  }

  /** A request's seats: at least one, at most the level's. */
  private seatsFor(width: number): number {
    return Math.max(1, Math.min(width, this.limit));
  }

  private shortestOf(hand: number[]): Queue {
    let best = this.queues[hand[0]];
    let bestLoad = Infinity;
    for (const i of hand) {
      const q = this.queues[i];
      const load = q.executing + q.items.reduce((sum, w) => sum + w.width, 0);
      if (load < bestLoad) [best, bestLoad] = [q, load];
    }
    return best;
  }

  /** The flow's hand: handSize distinct queues picked by its name's hash. */
  private hand(flow: string): number[] {
    let hand = this.hands.get(flow);
    if (hand) return hand;
    const n = this.queues.length;
    const size = Math.min(this.queuing!.handSize, n);
    const deck = Array.from({ length: n }, (_, i) => i);
    let h = flowHash(flow);
    hand = [];
    for (let i = 0; i < size; i++) {
      const pick = i + (h % (n - i));
      h = Math.floor(h / (n - i));
      [deck[i], deck[pick]] = [deck[pick], deck[i]];
      hand.push(deck[i]);
    }
    if (this.hands.size >= maxKeptHands) this.hands.clear();
    this.hands.set(flow, hand);
    return hand;
  }
}

function noop(): void {}

/** A 53-bit hash of the flow's name (two 32-bit FNV-1a hashes): enough bits to deal 6 of 128 queues. */
export function flowHash(flow: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < flow.length; i++) {
    const c = flow.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0) * 2 ** 21 + ((b >>> 0) & 0x1fffff);
}
