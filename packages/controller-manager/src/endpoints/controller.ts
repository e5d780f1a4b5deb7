// The endpoints controller: keeps each service's Endpoints (same name as the service) equal to
// the pods its selector picks, as Kubernetes' pkg/controller/endpoint does. Informer events
// become service keys on a work queue; a sync computes the subsets from the cached pods and
// writes the Endpoints only when they differ. Nothing runs before every cache has synced, so a
// restarted controller never writes an Endpoints computed from a partial view of the pods.

import { hasClusterIP, headlessServiceLabel, sameJson } from '@peapod/api';
import type { Endpoints, Pod, Service } from '@peapod/api';
import { WorkQueue, createLogger, isForbidden, objectKey } from '@peapod/client';
import type { Logger } from '@peapod/client';
import { splitKey } from '../cache';
import type { SharedCache } from '../cache';
import { OwnWrites } from '../own-writes';
import type { ObjectWriter } from '../object-writer';
import { NamespaceIndex, ServiceIndex, queueServiceChanges, serviceSelector } from '../service-index';
import { desiredSubsets, overCapacityAnnotation, truncateSubsets } from './subsets';

export interface EndpointsControllerOptions {
  /** Services synced at once (--concurrent-endpoint-syncs). Default 5. */
  workers?: number;
  /** How long pod changes are gathered before a service is synced (--endpoint-updates-batch-period). Default 0. */
  batchPeriodMs?: number;
  logger?: Logger;
}

/** The informer caches the controller reads, with the indexes built on them. */
export interface EndpointsCaches {
  services: SharedCache<Service>;
  pods: SharedCache<Pod>;
  endpoints: SharedCache<Endpoints>;
  serviceIndex: ServiceIndex;
  podIndex: NamespaceIndex<Pod>;
}

/** A create refused because the namespace is going away: nothing to retry. */
function isNamespaceTerminating(err: unknown): boolean {
  return isForbidden(err) && /because it is being terminated/.test((err as Error).message);
}

/** The Endpoints' labels: the service's, marked headless when it has no cluster IP. */
function endpointsLabels(svc: Service): Record<string, string> {
  const labels = { ...svc.metadata.labels };
  if (hasClusterIP(svc)) delete labels[headlessServiceLabel];
  else labels[headlessServiceLabel] = '';
  return labels;
}

export class EndpointsController {
  private readonly queue: WorkQueue<string>;
  private readonly own: OwnWrites<Endpoints>;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly batchPeriodMs: number;

  constructor(
    private readonly caches: EndpointsCaches,
    private readonly api: ObjectWriter<Endpoints>,
    opts: EndpointsControllerOptions = {},
  ) {
    this.log = opts.logger ?? createLogger('endpoints-controller');
    this.workers = opts.workers ?? 5;
    this.batchPeriodMs = opts.batchPeriodMs ?? 0;
    this.queue = new WorkQueue<string>({ logger: this.log });
    this.own = new OwnWrites(caches.endpoints);
    queueServiceChanges(caches.services, caches.pods, caches.serviceIndex, this.queue, this.batchPeriodMs);
    caches.endpoints.on('delete', (ep) => this.queue.add(objectKey(ep)));
  }

  /** Waits for every cache, looks once at all Endpoints (those of deleted services go), then syncs until stop(). */
  async run(): Promise<void> {
    const { services, pods, endpoints } = this.caches;
    await Promise.all([services.waitForSync(), pods.waitForSync(), endpoints.waitForSync()]);
    for (const ep of endpoints.list()) this.queue.add(objectKey(ep));
    await this.queue.run((key) => this.sync(key), this.workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  /** Makes one service's Endpoints right. Throws to be retried. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.caches.services.get(key);
    if (svc === undefined) {
      if (this.own.get(key) === undefined) return;
      const gone = await this.api.delete(namespace, name);
      if (gone) this.own.deleted(gone);
      return;
    }
    const selector = serviceSelector(svc);
    // Services without a selector get their Endpoints from whoever wrote them; ExternalName ones have none.
    if (selector === undefined || svc.spec?.type === 'ExternalName') return;

    const pods: Pod[] = [];
    for (const pod of this.caches.podIndex.in(namespace)) if (selector.matches(pod.metadata.labels)) pods.push(pod);
    const subsets = desiredSubsets(svc, pods);
    const truncated = truncateSubsets(subsets);
    const labels = endpointsLabels(svc);

    const current = this.own.get(key);
    if (
      current !== undefined &&
      sameJson(current.subsets ?? [], subsets) &&
      sameJson(current.metadata.labels ?? {}, labels) &&
      (current.metadata.annotations?.[overCapacityAnnotation] !== undefined) === truncated
    ) {
      return;
    }
    const next: Endpoints = current
      ? (JSON.parse(JSON.stringify(current)) as Endpoints)
      : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    next.subsets = subsets;
    next.metadata.labels = labels;
    const annotations = { ...next.metadata.annotations };
    if (truncated) annotations[overCapacityAnnotation] = 'truncated';
    else delete annotations[overCapacityAnnotation];
    if (Object.keys(annotations).length) next.metadata.annotations = annotations;
    else delete next.metadata.annotations;

    try {
      this.own.wrote(current ? await this.api.update(next) : await this.api.create(next));
    } catch (err) {
      if (!current && isNamespaceTerminating(err)) return;
      throw err;
    }
  }
}
