// The scheduling loop: take a pending pod, decide, assume it on the node, and bind it in
// the background so that the next decision does not wait on HTTP. Informer handlers keep
// the cache and the queue in step with the cluster.

import { isPodTerminal, rfc3339 } from '@peapod/api';
import type { Node, Pod, PodCondition } from '@peapod/api';
import type { Logger } from '@peapod/client';
import { Algorithm, FitError } from './algorithm';
import { SchedulerCache } from './cache';
import { nodeSchedulingChanged } from './cluster-events';
import type { Framework } from './framework';
import { silentLogger } from './log';
import { scheduledMessage } from './messages';
import { podInfoFor, podKey, podName } from './pod-info';
import { defaultFramework } from './plugins';
import { SchedulingQueue } from './queue';
import type { QueuedPod } from './queue';
import { RequestPool } from './request-pool';

export const defaultSchedulerName = 'default-scheduler';

/** Binds a pod; rejects with an error whose `code` is the HTTP status (409: already bound). */
export interface Binder {
  bind(pod: Pod, nodeName: string): Promise<void>;
}

/** Tells users what the scheduler decided: pod conditions and events. */
export interface Reporter {
  /**
   * Writes the pod's whole status.conditions list, provided the pod is still at the
   * resourceVersion given (else it rejects with code 409: the pod changed, perhaps bound).
   */
  setPodConditions(pod: Pod, conditions: PodCondition[]): Promise<void>;
  recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export interface SchedulerOptions {
  schedulerName?: string;
  framework?: Framework;
  percentageOfNodesToScore?: number;
  random?: () => number;
  now?: () => number;
  logger?: Logger;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  assumedTtlMs?: number;
  /** How often back-offs are checked; default 100 ms. */
  flushIntervalMs?: number;
  /** API requests (binds, events, status patches) in flight at once; default 64. */
  maxRequestsInFlight?: number;
  /** Events are dropped while this many reports wait to be written; default 1,000. */
  maxQueuedEvents?: number;
}

function statusCode(err: unknown): number | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// The loop yields to I/O (watch events, bind responses) after this much continuous work.
// While it decides, no bind answer is read and no new bind sent. With 20 ms slices a burst of
// pending pods was bound at most 64 per slice until all were decided; with 5 ms the API server
// still sat idle for a third to a half of the time this process spent deciding a burst.
const sliceMs = 2;

// Binds in flight are what keeps the API server busy while this process reads a burst of
// watch events and decides: meanwhile it reads no answers, so the server runs dry once it has
// answered those in flight. With 16 it did after about 5 ms; with 64 (10 ms of the server's
// work) it still did between slices, once a slice, a collection and a chunk of watch events
// ran back to back. 256 with 2 ms slices kept it busy from the first binds of a burst of 2,500
// on (a CPU profile of both processes, `npm run bench -- scheduler`).
// Kubernetes binds each pod in a goroutine of its own, with no limit but its client's rate limiter.
export const defaultMaxRequestsInFlight = 256;

// Events are lossy, as Kubernetes' event broadcaster makes them (it drops what comes while
// 1,000 wait): a burst of pods is bound at the pace of binds, and writing an event for each
// of thousands of them afterwards would cost the API server as much again as the binds.
const defaultMaxQueuedEvents = 1000;

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly algorithm: Algorithm;
  private readonly schedulerName: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly flushIntervalMs: number;
  private readonly requests: RequestPool;
  private readonly maxQueuedEvents: number;
  /** Requests in progress (binds, status patches, events), awaited by settle(). */
  private readonly inProgress = new Set<Promise<void>>();
  /** pod key → the last FailedScheduling message reported, so a pod retried every few seconds is reported once per reason. */
  private readonly reported = new Map<string, string>();
  private timers: NodeJS.Timeout[] = [];
  private loop: Promise<void> | undefined;

  constructor(
    private readonly api: Binder & Reporter,
    opts: SchedulerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.schedulerName = opts.schedulerName ?? defaultSchedulerName;
    this.log = opts.logger ?? silentLogger;
    this.flushIntervalMs = opts.flushIntervalMs ?? 100;
    this.requests = new RequestPool(opts.maxRequestsInFlight ?? defaultMaxRequestsInFlight);
    this.maxQueuedEvents = opts.maxQueuedEvents ?? defaultMaxQueuedEvents;
    this.cache = new SchedulerCache({ now: this.now, assumedTtlMs: opts.assumedTtlMs });
    this.queue = new SchedulingQueue({
      now: this.now,
      initialBackoffMs: opts.initialBackoffMs,
      maxBackoffMs: opts.maxBackoffMs,
    });
    this.algorithm = new Algorithm(opts.framework ?? defaultFramework(), this.cache, {
      percentageOfNodesToScore: opts.percentageOfNodesToScore,
      random: opts.random,
    });
  }

  // --- informer handlers ---

  readonly onPodAdd = (pod: Pod): void => {
    if (pod.spec.nodeName) {
      if (!isPodTerminal(pod)) this.cache.addPod(pod);
    } else if (this.waitsForUs(pod) && !this.cache.isAssumed(podKey(pod))) {
      this.queue.add(pod);
    }
  };

  readonly onPodUpdate = (_oldPod: Pod, pod: Pod): void => {
    const key = podKey(pod);
    if (pod.spec.nodeName) {
      this.queue.delete(key);
      this.reported.delete(key);
      if (!isPodTerminal(pod)) this.cache.addPod(pod);
      else if (this.cache.removePod(pod)) this.queue.moveAllToActive();
      return;
    }
    if (!this.waitsForUs(pod)) {
      this.queue.delete(key);
    } else if (this.cache.isAssumed(key)) {
      // Being bound right now: keep the newest copy in case the bind fails and it is retried.
      if (this.queue.has(key)) this.queue.update(pod);
    } else {
      this.queue.update(pod);
    }
  };

  readonly onPodDelete = (pod: Pod): void => {
    const key = podKey(pod);
    this.queue.delete(key);
    this.reported.delete(key);
    if (this.cache.removePod(pod)) this.queue.moveAllToActive();
  };

  readonly onNodeAdd = (node: Node): void => {
    this.cache.addNode(node);
    this.queue.moveAllToActive();
  };

  readonly onNodeUpdate = (oldNode: Node, node: Node): void => {
    this.cache.addNode(node);
    if (nodeSchedulingChanged(oldNode, node)) this.queue.moveAllToActive();
  };

  readonly onNodeDelete = (node: Node): void => {
    this.cache.removeNode(node.metadata.name ?? '');
  };

  /** Unbound, ours, and not on its way out. */
  private waitsForUs(pod: Pod): boolean {
    return (
      (pod.spec.schedulerName || defaultSchedulerName) === this.schedulerName &&
      !pod.metadata.deletionTimestamp &&
      !isPodTerminal(pod)
    );
  }

  // --- the loop ---

  /** Schedules the next active pod if there is one; returns whether there was. */
  scheduleNext(): boolean {
    const entry = this.queue.tryPop();
    if (!entry) return false;
    this.scheduleOne(entry);
    return true;
  }

  /** Starts the loop and its timers; call once the informers have synced, so the cache is whole. */
  start(): void {
    if (this.loop) return;
    this.timers = [
      setInterval(() => this.queue.flush(), this.flushIntervalMs),
      setInterval(() => this.expireAssumed(), 1000),
    ];
    for (const t of this.timers) t.unref();
    this.loop = this.run();
  }

  /** Stops taking pods and waits for the binds and reports already started. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.queue.close();
    await this.loop;
    await this.settle();
  }

  /** Resolves when every request started so far has finished. */
  async settle(): Promise<void> {
    while (this.inProgress.size > 0) await Promise.allSettled([...this.inProgress]);
  }

  private async run(): Promise<void> {
    let sliceStart = Date.now();
    for (;;) {
      const entry = await this.queue.pop();
      if (!entry) return;
      this.scheduleOne(entry);
      if (Date.now() - sliceStart > sliceMs) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = Date.now();
      }
    }
  }

  private scheduleOne(entry: QueuedPod): void {
    const pod = entry.pod;
    if (pod.spec.nodeName || this.cache.nodeOf(entry.key) !== undefined) {
      this.queue.done(entry);
      return;
    }
    try {
      const info = podInfoFor(pod);
      const result = this.algorithm.schedule(info);
      if (result instanceof FitError) {
        this.unschedulable(entry, result);
        return;
      }
      this.cache.assumePod(info, result);
      this.bind(entry, result);
    } catch (err) {
      this.log.error('scheduling attempt failed', { pod: podName(pod), error: errorMessage(err) });
      this.queue.requeueBackoff(entry);
    }
  }

  private bind(entry: QueuedPod, nodeName: string): void {
    const pod = entry.pod;
    const name = podName(pod);
    this.track(
      this.requests.run('bind', () => this.api.bind(pod, nodeName)).then(
        () => {
          this.cache.finishBinding(entry.key);
          this.queue.done(entry);
          this.reported.delete(entry.key);
          this.log.debug('bound pod', { pod: name, node: nodeName });
          const message = scheduledMessage(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '', nodeName);
          this.recordEvent(pod, 'Normal', 'Scheduled', message);
        },
        (err: unknown) => {
          const code = statusCode(err);
          if (code === 409) {
            // Bound already (by an earlier life of this scheduler, say) or on its way out. The
            // room stays held until the watch shows where the pod really is, or it expires:
            // freed now, it could go to another pod before that watch event arrives.
            this.cache.finishBinding(entry.key);
            this.queue.done(entry);
            this.log.info('pod not bound', { pod: name, node: nodeName, code, error: errorMessage(err) });
            return;
          }
          // The room it held is free again, perhaps for a pod that fitted nowhere.
          if (this.cache.forgetPod(entry.key)) this.queue.moveAllToActive();
          if (code === 404) {
            // Deleted meanwhile: nothing to retry.
            this.queue.done(entry);
            this.log.info('pod not bound', { pod: name, node: nodeName, code, error: errorMessage(err) });
            return;
          }
          this.log.warn('binding failed', { pod: name, node: nodeName, code, error: errorMessage(err) });
          if (this.queue.requeueBackoff(entry)) {
            const message = `Binding rejected: ${errorMessage(err)}`;
            this.recordEvent(pod, 'Warning', 'FailedScheduling', message);
          }
        },
      ),
    );
  }

  private unschedulable(entry: QueuedPod, err: FitError): void {
    if (!this.queue.requeueUnschedulable(entry)) return;
    const pod = entry.pod;
    const message = err.message;
    this.log.debug('pod unschedulable', { pod: podName(pod), message });
    if (this.reported.get(entry.key) === message) return;
    this.reported.set(entry.key, message);
    // A report that did not get through is made again on the next failed attempt.
    const forgetReport = (): void => {
      if (this.reported.get(entry.key) === message) this.reported.delete(entry.key);
    };

    const conditions = pod.status?.conditions ?? [];
    const previous = conditions.find((c) => c.type === 'PodScheduled');
    const unchanged =
      previous?.status === 'False' && previous.reason === 'Unschedulable' && previous.message === message;
    if (!unchanged) {
      const condition: PodCondition = {
        type: 'PodScheduled',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime:
          previous?.status === 'False' && previous.lastTransitionTime
            ? previous.lastTransitionTime
            : rfc3339(new Date(this.now())),
        reason: 'Unschedulable',
        message,
      };
      const next = previous ? conditions.map((c) => (c === previous ? condition : c)) : [...conditions, condition];
      this.report(() => this.api.setPodConditions(pod, next), forgetReport);
    }
    this.recordEvent(pod, 'Warning', 'FailedScheduling', message, forgetReport);
  }

  private expireAssumed(): void {
    const expired = this.cache.cleanupExpired();
    if (expired.length === 0) return;
    this.log.warn('assumed pods expired without a watch event', { pods: expired });
    this.queue.moveAllToActive();
  }

  /** An event, unless too many reports wait already: then it is dropped (and counts as failed). */
  private recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, onFailure?: () => void): void {
    if (this.requests.waitingReports >= this.maxQueuedEvents) {
      onFailure?.();
      this.log.debug('event dropped', { pod: podName(pod), reason, waiting: this.requests.waitingReports });
      return;
    }
    this.report(() => this.api.recordEvent(pod, type, reason, message), onFailure);
  }

  /** A report that fails is logged, not retried by itself. */
  private report(request: () => Promise<void>, onFailure?: () => void): void {
    this.track(
      this.requests.run('report', request).catch((err: unknown) => {
        onFailure?.();
        const code = statusCode(err);
        // 409: the pod changed since it was read (bound, most likely); the next attempt reports afresh.
        const fields = { error: errorMessage(err), code };
        if (code === 409) this.log.debug('report outdated', fields);
        else this.log.warn('report failed', fields);
      }),
    );
  }

  private track(request: Promise<void>): void {
    this.inProgress.add(request);
    const untrack = (): void => {
      this.inProgress.delete(request);
    };
    request.then(untrack, untrack);
  }
}
