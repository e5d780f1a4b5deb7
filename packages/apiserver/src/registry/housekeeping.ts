import type { Registry } from './registry';
import type { Store } from '../storage/types';
import type { Logger } from '@peapod/client';
import { EventExpiry } from './housekeeping-events';

export interface HousekeepingOptions {
  eventTtlSeconds: number;
  now?: () => number;
}

/**
 * The API server's own background work: finishing the deletion of namespaces (their
 * content goes first, pods gracefully), expiring old events, compacting history, and the
 * tasks added with every().
 */
export class Housekeeping {
  private timers: NodeJS.Timeout[] = [];
  private readonly events: EventExpiry;

  constructor(
    private readonly registry: Registry,
    private readonly store: Store,
    private readonly log: Logger,
    opts: HousekeepingOptions,
  ) {
    this.events = new EventExpiry(registry, store, opts.eventTtlSeconds, opts.now ?? Date.now);
  }

  private readonly tasks: { what: string; everyMs: number; run: () => unknown }[] = [];

  /** Adds a task run every `everyMs` once started (other components' upkeep: service allocations, the `kubernetes` service). */
  every(what: string, everyMs: number, run: () => unknown): void {
    this.tasks.push({ what, everyMs, run });
  }

  start(): void {
    // The expiry queue is filled now, so that the first pass finds it ready.
    this.guard('events', () => this.events.follow());
    this.timers.push(setInterval(() => this.guard('namespaces', () => this.finalizeNamespaces()), 1000));
    this.timers.push(setInterval(() => this.guard('events', () => this.expireEvents()), 60_000));
    this.timers.push(setInterval(() => this.guard('compaction', () => this.store.compact()), 60_000));
    for (const t of this.tasks) this.timers.push(setInterval(() => this.guard(t.what, t.run), t.everyMs));
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.events.stop();
  }

  /** Runs a task unless its previous run is still going (a slow store must not pile runs up). */
  private guard(what: string, fn: () => unknown): void {
    if (this.running.has(what)) return;
    this.running.add(what);
    Promise.resolve()
      .then(fn)
      .catch((err: Error) => this.log.error('housekeeping failed', { task: what, error: err.message }))
      .finally(() => this.running.delete(what));
  }

  private readonly running = new Set<string>();

  async finalizeNamespaces(): Promise<void> {
    const terminating = (await this.registry.list('namespaces', undefined, {})).items.filter((e) => e.object.metadata.deletionTimestamp);
    for (const ns of terminating) {
      const name = ns.object.metadata.name!;
      for (const resource of this.registry.namespacedResources()) {
        for (const item of (await this.registry.list(resource, name, {})).items) {
          if (item.object.metadata.deletionTimestamp) continue;
          // As Kubernetes' namespace controller: each object goes at once; its dependents are the garbage collector's.
          await this.registry.delete(resource, name, item.object.metadata.name!, { propagationPolicy: 'Background' });
        }
      }
      if (await this.registry.finalize('namespaces', undefined, name)) this.log.info('namespace deleted', { namespace: name });
    }
  }

  /**
   * Removes events older than the TTL (a store with leases expires them itself; this catches
   * the rest), looking only at those due: see housekeeping-events.ts.
   */
  async expireEvents(): Promise<number> {
    return this.events.expire();
  }
}
