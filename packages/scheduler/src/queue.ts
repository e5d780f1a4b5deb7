// The pods waiting to be scheduled.
//
// - active: ready to be tried, highest spec.priority first, then first come first served;
// - backoff: waiting out a delay before going back to active (after a bind error, or when
//   a cluster event came too soon after the pod's last attempt);
// - unschedulable: fitted nowhere; tried again when the cluster changes (moveAllToActive),
//   or otherwise once its back-off (1 s doubling to 10 s by default) has passed;
// - in flight: popped and being scheduled or bound; updates are kept for a requeue.
//
// Entries that leave a heap early (deleted, moved) stay in it and are skipped when they
// come up, which keeps every operation O(log n) without indexed heaps.

import type { Pod } from '@peapod/api';
import { Heap } from './heap';
import { podKey } from './pod-info';

export type QueueState = 'active' | 'backoff' | 'unschedulable' | 'inFlight';

export interface QueuedPod {
  pod: Pod;
  readonly key: string;
  state: QueueState;
  /** Failed attempts so far. */
  attempts: number;
  /** Orders the active heap: set each time the pod enters it. */
  seq: number;
  lastAttemptAt: number;
  /** When a backing-off or unschedulable pod becomes active again. */
  retryAt: number;
}

export interface QueueOptions {
  now?: () => number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A cluster event re-activates a pod no sooner than this after its last attempt; default 100 ms. */
  minEventRetryMs?: number;
}

export interface QueueCounts {
  active: number;
  backoff: number;
  unschedulable: number;
  inFlight: number;
}

function priorityOf(pod: Pod): number {
  return pod.spec.priority ?? 0;
}

/** Whether an update can change where the pod fits: its spec, labels or annotations changed. */
function schedulingInputsChanged(a: Pod, b: Pod): boolean {
  if (a === b) return false;
  return (
    JSON.stringify(a.spec) !== JSON.stringify(b.spec) ||
    JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {}) ||
    JSON.stringify(a.metadata.annotations ?? {}) !== JSON.stringify(b.metadata.annotations ?? {})
  );
}

export class SchedulingQueue {
  private readonly entries = new Map<string, QueuedPod>();
  private readonly active = new Heap<QueuedPod>((a, b) => {
    const pa = priorityOf(a.pod);
    const pb = priorityOf(b.pod);
    return pa !== pb ? pa > pb : a.seq < b.seq;
  });
  private readonly backoff = new Heap<QueuedPod>((a, b) => a.retryAt < b.retryAt);
  /** The entries in state 'unschedulable', so cluster events and flushes need not scan the rest. */
  private readonly unschedulable = new Map<string, QueuedPod>();
  private nextSeq = 0;
  private closed = false;
  private waiter: (() => void) | undefined;
  private readonly now: () => number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly minEventRetryMs: number;

  constructor(opts: QueueOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.minEventRetryMs = opts.minEventRetryMs ?? 100;
  }

  /** The delay after the n-th failed attempt (n ≥ 1). */
  backoffFor(attempts: number): number {
    return Math.min(this.initialBackoffMs * 2 ** Math.max(0, attempts - 1), this.maxBackoffMs);
  }

  /** A pending pod appeared, or changed. */
  add(pod: Pod): void {
    const key = podKey(pod);
    const entry = this.entries.get(key);
    if (entry) {
      this.update(pod);
      return;
    }
    const created: QueuedPod = { pod, key, state: 'active', attempts: 0, seq: 0, lastAttemptAt: 0, retryAt: 0 };
    this.entries.set(key, created);
    this.activate(created);
  }

  /** A pending pod changed: an unschedulable one whose spec or labels changed is tried again at once. */
  update(pod: Pod): void {
    const entry = this.entries.get(podKey(pod));
    if (!entry) {
      this.add(pod);
      return;
    }
    const previous = entry.pod;
    entry.pod = pod;
    if (entry.state === 'unschedulable' && schedulingInputsChanged(previous, pod)) this.activate(entry);
  }

  /** The pod was deleted or bound: forget it wherever it is (a popped one is not requeued). */
  delete(key: string): void {
    this.entries.delete(key);
    this.unschedulable.delete(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The next active pod, now, or undefined. */
  tryPop(): QueuedPod | undefined {
    for (;;) {
      const entry = this.active.pop();
      if (!entry) return undefined;
      if (this.entries.get(entry.key) !== entry || entry.state !== 'active') continue;
      entry.state = 'inFlight';
      return entry;
    }
  }

  /** The next active pod, waiting for one; undefined once the queue is closed. */
  async pop(): Promise<QueuedPod | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const entry = this.tryPop();
      if (entry) return entry;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** A popped pod is finished with (bound, or not to be retried). */
  done(entry: QueuedPod): void {
    if (this.entries.get(entry.key) === entry && entry.state === 'inFlight') this.entries.delete(entry.key);
  }

  /** A popped pod fitted nowhere. Returns false when it was deleted meanwhile. */
  requeueUnschedulable(entry: QueuedPod): boolean {
    if (!this.failed(entry)) return false;
    entry.state = 'unschedulable';
    this.unschedulable.set(entry.key, entry);
    return true;
  }

  /** A popped pod hit an error (its bind failed): it waits out its back-off. */
  requeueBackoff(entry: QueuedPod): boolean {
    if (!this.failed(entry)) return false;
    entry.state = 'backoff';
    this.backoff.push(entry);
    return true;
  }

  /**
   * The cluster changed (node added or updated, pod deleted): every unschedulable pod may
   * fit now. Those tried very recently wait a moment, so a stream of events does not spin
   * the same pods. Returns how many pods were moved.
   */
  moveAllToActive(): number {
    const now = this.now();
    const moved = this.unschedulable.size;
    for (const entry of this.unschedulable.values()) {
      const earliest = entry.lastAttemptAt + this.minEventRetryMs;
      if (earliest <= now) {
        this.activate(entry);
      } else {
        entry.state = 'backoff';
        entry.retryAt = Math.min(entry.retryAt, earliest);
        this.backoff.push(entry);
      }
    }
    this.unschedulable.clear();
    return moved;
  }

  /** Activates the pods whose back-off has passed; call it periodically. */
  flush(): void {
    const now = this.now();
    for (let top = this.backoff.peek(); top && top.retryAt <= now; top = this.backoff.peek()) {
      this.backoff.pop();
      if (this.entries.get(top.key) === top && top.state === 'backoff') this.activate(top);
    }
    for (const entry of this.unschedulable.values()) {
      if (entry.retryAt <= now) this.activate(entry);
    }
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  counts(): QueueCounts {
    const counts: QueueCounts = { active: 0, backoff: 0, unschedulable: 0, inFlight: 0 };
    for (const entry of this.entries.values()) counts[entry.state]++;
    return counts;
  }

  private failed(entry: QueuedPod): boolean {
    if (this.entries.get(entry.key) !== entry || entry.state !== 'inFlight') return false;
    const now = this.now();
    entry.attempts++;
    entry.lastAttemptAt = now;
    entry.retryAt = now + this.backoffFor(entry.attempts);
    return true;
  }

  private activate(entry: QueuedPod): void {
    this.unschedulable.delete(entry.key);
    entry.state = 'active';
    entry.seq = this.nextSeq++;
    this.active.push(entry);
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
