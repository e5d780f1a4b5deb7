// Events about pods, written to the API so that they never hold up what matters more: the
// pods' status writes and the nodes' leases. As the kubelet's recorder does:
// - one sink per process (every node of a hollow process shares it) queues the events and
//   writes at most `inFlight` of them at once, so they hold a fixed few of the client's
//   connections and a status write waits behind at most that many; past `queueLength`
//   waiting, a new event is dropped (counted, logged at debug), as the kubelet's broadcaster
//   drops past its 1,000;
// - each node's writes are rate-limited (--event-qps, --event-burst): past the burst an event
//   waits in the queue for its turn;
// - each node filters spam per object: 25 events at once, then one per 5 minutes (the
//   kubelet's source+object spam filter); the rest are dropped;
// - a repeat of an event (same pod, type, reason and message, e.g. a probe failing every
//   period) raises the count of the event already written instead of adding another, as the
//   kubelet's event correlator does.
import type { Pod } from '@peapod/api';
import { rfc3339 } from '@peapod/api';
import { EventSpamFilter, isNotFound, TokenBucket } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /**
   * Records an event about the pod; `at` says when it happened when that is not now. The
   * caller need not wait: the promise settles once the event is written, given up (events
   * are best effort) or dropped, and never rejects.
   */
  record(pod: Pod, type: EventType, reason: string, message: string, at?: Date): Promise<void>;
}

export const AGENT_COMPONENT = 'peapod-agent';

/** The kubelet's defaults: --event-qps, --event-burst, its broadcaster's queue. */
export const DEFAULT_EVENT_QPS = 50;
export const DEFAULT_EVENT_BURST = 100;
const DEFAULT_QUEUE_LENGTH = 1000;

/** How many distinct events (for counting repeats) a node remembers, as the kubelet. */
const REMEMBERED = 4096;

export interface EventSinkOptions {
  log: Logger;
  /** Event writes per second of each node (creates and count raises); 0: no limit. */
  qps: number;
  /** Writes a node may make at once beyond its rate. */
  burst: number;
  /** Events waiting to be written, beyond which new ones are dropped; default 1,000. */
  queueLength?: number;
  /** Event writes in flight at once; default 1 (the kubelet's one worker). */
  inFlight?: number;
}

export interface EventCounts {
  /** Written: created, or counted on the one written before. */
  written: number;
  /** The API refused them or could not be reached. */
  failed: number;
  /** Dropped: the queue was full. */
  dropped: number;
  /** Dropped by the spam filter. */
  filtered: number;
  /** Waiting now. */
  queued: number;
}

interface Written {
  name: string;
  namespace: string;
  count: number;
}

/** Keeps at most REMEMBERED keys, in least-recently-used order, so the oldest is the one forgotten. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value as string);
}

export class EventSink {
  private readonly ready: (() => void)[] = [];
  private waiting = 0;
  private running = 0;
  private readonly counts = { written: 0, failed: 0, dropped: 0, filtered: 0 };
  private readonly queueLength: number;
  private readonly inFlight: number;

  constructor(
    private readonly client: Client,
    private readonly opts: EventSinkOptions,
  ) {
    this.queueLength = opts.queueLength ?? DEFAULT_QUEUE_LENGTH;
    this.inFlight = opts.inFlight ?? 1;
  }

  /** What happened to the events so far. */
  stats(): EventCounts {
    return { ...this.counts, queued: this.waiting };
  }

  /** The recorder of one node's events: its own rate limit, spam filter and counts of repeats. */
  recorder(nodeName: string): EventRecorder {
    const source = { component: AGENT_COMPONENT, host: nodeName };
    const rate = this.opts.qps > 0 ? new TokenBucket(this.opts.qps, this.opts.burst) : undefined;
    const spam = new EventSpamFilter();
    // Per distinct event, the write of its latest occurrence: a repeat waits for it, so counts never race.
    const written = new Map<string, Promise<Written | undefined>>();
    return {
      record: (pod, type, reason, message, at) => {
        if (this.waiting >= this.queueLength) {
          this.counts.dropped++;
          this.opts.log.debug('event dropped: too many waiting', { node: nodeName, pod: pod.metadata.name, reason });
          return Promise.resolve();
        }
        const now = Date.now();
        const object = pod.metadata.uid ?? `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
        if (!spam.allow(object, now)) {
          this.counts.filtered++;
          return Promise.resolve();
        }
        const key = [object, type, reason, message].join('\u0000');
        const before = written.get(key);
        const next = this.enqueue(rate?.reserve(now) ?? 0, async () => {
          const previous = before === undefined ? undefined : await before;
          if (previous !== undefined) {
            const counted = await this.repeat(previous, at);
            if (counted !== 'gone') return counted;
          }
          return this.create(pod, type, reason, message, source, at);
        });
        remember(written, key, next);
        return next.then(() => undefined);
      },
    };
  }

  /** Runs write once its delay is over and one of the sink's writes is free. */
  private enqueue<T>(delayMs: number, write: () => Promise<T>): Promise<T> {
    this.waiting++;
    return new Promise<T>((resolve) => {
      const start = (): void => {
        void write().then((result) => {
          resolve(result);
          this.running--;
          this.pump();
        });
      };
      if (delayMs <= 0) {
        this.ready.push(start);
        this.pump();
      } else {
        setTimeout(() => {
          this.ready.push(start);
          this.pump();
        }, delayMs).unref();
      }
    });
  }

  private pump(): void {
    while (this.running < this.inFlight && this.ready.length > 0) {
      const start = this.ready.shift() as () => void;
      this.waiting--;
      this.running++;
      start();
    }
  }

  private async create(pod: Pod, type: EventType, reason: string, message: string, source: { component: string; host: string }, at: Date | undefined): Promise<Written | undefined> {
    const involved: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata, spec: pod.spec };
    try {
      const event = await this.client.recordEvent(involved, type, reason, message, source, at);
      this.counts.written++;
      return { name: event.metadata.name ?? '', namespace: event.metadata.namespace ?? '', count: 1 };
    } catch (err) {
      this.counts.failed++;
      this.opts.log.debug('event not recorded', { reason, pod: pod.metadata.name, error: err });
      return undefined;
    }
  }

  private async repeat(previous: Written, at: Date | undefined): Promise<Written | 'gone'> {
    const count = previous.count + 1;
    try {
      await this.client.patch('events', previous.name, { count, lastTimestamp: rfc3339(at ?? new Date()) }, 'merge', { namespace: previous.namespace });
      this.counts.written++;
      return { ...previous, count };
    } catch (err) {
      // Expired (events live an hour): write it afresh.
      if (isNotFound(err)) return 'gone';
      this.counts.failed++;
      this.opts.log.debug('event count not raised', { event: previous.name, error: err });
      return previous;
    }
  }
}
