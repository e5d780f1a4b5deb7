import type { Event, KubeObject } from '@peapod/api';
import type { Registry } from './registry';
import type { Store } from '../storage/types';
import type { Logger } from '@peapod/client';

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
  private readonly now: () => number;

  constructor(
    private readonly registry: Registry,
    private readonly store: Store,
    private readonly log: Logger,
    private readonly opts: HousekeepingOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  private readonly tasks: { what: string; everyMs: number; run: () => unknown }[] = [];

  /** Adds a task run every `everyMs` once started (other components' upkeep: service allocations, the `kubernetes` service). */
  every(what: string, everyMs: number, run: () => unknown): void {
    this.tasks.push({ what, everyMs, run });
  }

  start(): void {
    this.timers.push(setInterval(() => this.guard('namespaces', () => this.finalizeNamespaces()), 1000));
    this.timers.push(setInterval(() => this.guard('events', () => this.expireEvents()), 60_000));
    this.timers.push(setInterval(() => this.guard('compaction', () => this.store.compact()), 60_000));
    for (const t of this.tasks) this.timers.push(setInterval(() => this.guard(t.what, t.run), t.everyMs));
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
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

  /** Removes events older than the TTL (a store with leases expires them itself; this catches the rest). */
  async expireEvents(): Promise<number> {
    const cutoff = this.now() - this.opts.eventTtlSeconds * 1000;
    let removed = 0;
    let page: string | undefined;
    do {
      const list = await this.registry.list('events', undefined, { limit: expiryPageSize, continue: page });
      for (const e of list.items) {
        if (eventTime(e.object) < cutoff) {
          await this.registry.delete('events', e.object.metadata.namespace, e.object.metadata.name!, {});
          removed++;
        }
      }
      page = list.continue;
      // Requests go first between pages: a walk of every event (five per pod) in one go held the event loop for seconds.
      if (page) await new Promise((resolve) => setImmediate(resolve));
    } while (page);
    return removed;
  }
}

/** Events looked at in one turn of the event loop when expiring them. */
const expiryPageSize = 1000;

function eventTime(obj: KubeObject): number {
  const e = obj as Event;
  const t = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}
