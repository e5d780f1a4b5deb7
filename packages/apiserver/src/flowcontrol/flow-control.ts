import type { ServerResponse } from 'http';
import client from 'prom-client';
import { mastersGroup } from '../auth/authorizer';
import type { UserInfo } from '../auth/tokens';
import { StatusError } from '../errors';
import { nominalSeats, priorityLevels, type FlowSchema } from './bootstrap';
import { classify, type RequestDigest } from './classify';
import { QueueSet, type RejectReason } from './queue-set';

export interface FlowControlOptions {
  /** API Priority and Fairness; off, the two limits below cap reads and writes apart (0: no cap) */
  priorityAndFairness: boolean;
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
  /** how many objects of a resource are stored: a list's cost goes with it */
  objectCount(resource: string): number;
  registry: client.Registry;
}

/** Kubernetes turns away a request that waited in a queue for a quarter of the request timeout (60 s). */
export const maxQueueWaitSeconds = 15;
/** A list is charged a seat per this many objects it may read, up to maxListSeats, as Kubernetes' estimator does. */
const objectsPerSeat = 100;
const maxListSeats = 10;

const readVerbs = new Set(['get', 'list', 'watch']);

const noop = (): void => undefined;

/** A flow schema's series of the dispatch metrics. */
interface SchemaSeries {
  labels: { priority_level: string; flow_schema: string };
  dispatched: { inc(): void };
  waited: { observe(seconds: number): void };
}

/**
 * Admits resource requests to be served, as Kubernetes' API Priority and Fairness filter does:
 * each request is classified by the built-in flow schemas into a priority level with its own
 * seats and queues, so one client's burst waits in its own queues and cannot hold back a
 * node's heartbeat or another user's call. On this server's one thread a seat is not a thread
 * but a request begun and not yet answered: capping them bounds how much work is at once
 * before the event loop, so a request that is let in is answered after at most that much.
 * Watches and log streams are not held to seats (they last as long as their client wants).
 */
export class FlowControl {
  private readonly levels = new Map<string, QueueSet>();
  private readonly inflight = { read: 0, mutating: 0 };
  private readonly sweep: NodeJS.Timeout;
  private readonly dispatched: client.Counter<'priority_level' | 'flow_schema'>;
  private readonly rejected: client.Counter<'priority_level' | 'flow_schema' | 'reason'>;
  private readonly waitSeconds: client.Histogram<'priority_level' | 'flow_schema'>;
  private readonly seriesBySchema = new Map<FlowSchema, SchemaSeries>();

  constructor(private readonly opts: FlowControlOptions) {
    const seats = nominalSeats(opts.maxRequestsInflight + opts.maxMutatingRequestsInflight);
    for (const level of priorityLevels) {
      if (!level.exempt) this.levels.set(level.name, new QueueSet(seats.get(level.name)!, level.queuing));
    }
    const registers = [opts.registry];
    const levels = this.levels;
    /** A gauge of each limited level, read when scraped. */
    const levelGauge = (name: string, help: string, value: (level: string) => number) =>
      new client.Gauge({
        name,
        help,
        labelNames: ['priority_level'] as const,
        registers,
        collect() {
          for (const level of levels.keys()) this.set({ priority_level: level }, value(level));
        },
      });
    levelGauge('apiserver_flowcontrol_nominal_limit_seats', 'Seats of each priority level.', (level) => seats.get(level)!);
    levelGauge('apiserver_flowcontrol_current_executing_seats', 'Seats held by requests being served, by priority level.', (level) => levels.get(level)!.executing);
    levelGauge('apiserver_flowcontrol_current_inqueue_requests', 'Requests waiting in the queues of each priority level.', (level) => levels.get(level)!.queued);
    this.dispatched = new client.Counter({
      name: 'apiserver_flowcontrol_dispatched_requests_total',
      help: 'Requests let in to be served, by priority level and flow schema.',
      labelNames: ['priority_level', 'flow_schema'] as const,
      registers,
    });
    this.rejected = new client.Counter({
      name: 'apiserver_flowcontrol_rejected_requests_total',
      help: 'Requests turned away with 429, by priority level, flow schema and reason.',
      labelNames: ['priority_level', 'flow_schema', 'reason'] as const,
      registers,
    });
    this.waitSeconds = new client.Histogram({
      name: 'apiserver_flowcontrol_request_wait_duration_seconds',
      help: 'Time requests waited in a queue before being served, by priority level and flow schema.',
      labelNames: ['priority_level', 'flow_schema'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
      registers,
    });
    this.sweep = setInterval(() => {
      for (const set of this.levels.values()) set.expire(maxQueueWaitSeconds);
    }, 250);
    this.sweep.unref();
  }

  /**
   * Runs serve once the request may be served (at once, or after waiting its turn), or fails
   * with the 429 it gets. Returns what the caller must run once the response is over (its
   * `close`): it gives back the request's seats, or its place in a queue. The caller keeps the
   * one `close` listener a request has; a second cost every request a listener array and a
   * copy of it at each close.
   */
  admit(user: UserInfo | undefined, r: RequestDigest & { limit?: string | null; selected?: boolean }, res: ServerResponse, serve: () => void, fail: (err: StatusError) => void): () => void {
    if (r.verb === 'watch' || r.subresource === 'log') {
      serve();
      return noop;
    }
    if (!this.opts.priorityAndFairness) return this.admitInflight(user, r.verb, res, serve, fail);
    const { schema, flow } = classify(user, r);
    const series = this.series(schema);
    const level = this.levels.get(schema.priorityLevel);
    if (!level) {
      series.dispatched.inc();
      serve();
      return noop;
    }
    const width = r.verb === 'list' ? this.listSeats(r) : 1;
    const seats = level.take(width);
    if (seats > 0) {
      series.dispatched.inc();
      series.waited.observe(0);
      serve();
      return () => level.release(seats);
    }
    const queuedAt = performance.now();
    let finish: (() => void) | undefined;
    const cancel = level.request(
      `${schema.name}/${flow}`,
      width,
      (done) => {
        finish = done;
        series.dispatched.inc();
        series.waited.observe((performance.now() - queuedAt) / 1000);
        serve();
      },
      (reason) => {
        this.rejected.inc({ ...series.labels, reason });
        fail(tooManyRequests(res, reason));
      },
    );
    // A client that goes while its request waits gives up its place.
    return () => (finish ? finish() : cancel());
  }

  close(): void {
    clearInterval(this.sweep);
  }

  /** A list's seats: its objects (at most its limit when nothing selects among them) by the hundred, 1 to 10. */
  private listSeats(r: { resource: string; limit?: string | null; selected?: boolean }): number {
    let objects = this.opts.objectCount(r.resource);
    const limit = Number(r.limit);
    if (!r.selected && limit > 0) objects = Math.min(objects, limit);
    return Math.max(1, Math.min(maxListSeats, Math.ceil(objects / objectsPerSeat)));
  }

  /** A schema's metric series, labelled once: prom-client labels a series anew at every call given labels. */
  private series(schema: FlowSchema): SchemaSeries {
    let series = this.seriesBySchema.get(schema);
    if (!series) {
      const labels = { priority_level: schema.priorityLevel, flow_schema: schema.name };
      series = { labels, dispatched: this.dispatched.labels(labels), waited: this.waitSeconds.labels(labels) };
      this.seriesBySchema.set(schema, series);
    }
    return series;
  }

  /**
   * Kubernetes' filter before APF: reads and writes each capped, the excess turned away at
   * once, except system:masters', which always get an answer (as Kubernetes serves them past
   * a full cap, uncounted).
   */
  private admitInflight(user: UserInfo | undefined, verb: string, res: ServerResponse, serve: () => void, fail: (err: StatusError) => void): () => void {
    const kind = readVerbs.has(verb) ? 'read' : 'mutating';
    const cap = kind === 'read' ? this.opts.maxRequestsInflight : this.opts.maxMutatingRequestsInflight;
    if (cap > 0 && this.inflight[kind] >= cap) {
      if (user?.groups.includes(mastersGroup)) serve();
      else fail(tooManyRequests(res, 'concurrency-limit'));
      return noop;
    }
    this.inflight[kind]++;
    serve();
    return () => this.inflight[kind]--;
  }
}

/** Kubernetes' answer to a request it will not serve now: 429 with Retry-After, which clients honour. */
function tooManyRequests(res: ServerResponse, reason: RejectReason): StatusError {
  const why = reason === 'time-out' ? 'it waited in a queue too long' : reason === 'queue-full' ? 'its queue is full' : 'its priority level is at its limit';
  const err = new StatusError(429, `Too many requests, please try again later (${why}).`, { reason: 'TooManyRequests' });
  err.status.details = { retryAfterSeconds: 1 };
  if (!res.headersSent) res.setHeader('Retry-After', '1');
  return err;
}
