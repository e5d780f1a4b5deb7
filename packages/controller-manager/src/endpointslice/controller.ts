// The EndpointSlice controller: keeps each service's discovery.k8s.io/v1 EndpointSlices in
// step with the pods its selector picks, as Kubernetes' pkg/controller/endpointslice does
// (the rules are in reconciler.ts). Unlike the Endpoints, slices keep terminating pods, marked
// terminating and not ready. Informer events become service keys on a work queue; nothing
// runs before every cache has synced. Slices of a service that is gone are deleted here
// (Kubernetes leaves that to its garbage collector, whose Peapod counterpart collects pods).

import { managedByLabel, serviceNameLabel } from '@peapod/api';
import type { EndpointSlice, Node, Pod, Service } from '@peapod/api';
import { WorkQueue, createLogger, objectKey } from '@peapod/client';
import type { Logger } from '@peapod/client';
import { mapLimited, splitKey } from '../cache';
import type { SharedCache } from '../cache';
import { OwnWrites } from '../own-writes';
import type { ObjectWriter } from '../object-writer';
import { NamespaceIndex, ServiceIndex, queueServiceChanges, serviceSelector } from '../service-index';
import { controllerName, reconcileSlices } from './reconciler';

export interface EndpointSliceControllerOptions {
  /** Services synced at once (--concurrent-service-endpoint-syncs). Default 5. */
  workers?: number;
  /** Most endpoints in one slice (--max-endpoints-per-slice). Default 100. */
  maxEndpointsPerSlice?: number;
  /** How long pod changes are gathered before a service is synced (--endpoint-updates-batch-period). Default 0. */
  batchPeriodMs?: number;
  logger?: Logger;
}

export interface EndpointSliceCaches {
  services: SharedCache<Service>;
  pods: SharedCache<Pod>;
  nodes: SharedCache<Node>;
  slices: SharedCache<EndpointSlice>;
  serviceIndex: ServiceIndex;
  podIndex: NamespaceIndex<Pod>;
  sliceIndex: NamespaceIndex<EndpointSlice>;
}

/** How long a service whose pods sit on unknown nodes waits before it is looked at again. */
const missingNodeRetryMs = 1000;

function isManaged(slice: EndpointSlice): boolean {
  return slice.metadata.labels?.[managedByLabel] === controllerName;
}

/** The service a slice belongs to, by its label. */
function serviceKeyOf(slice: EndpointSlice): string | undefined {
  const name = slice.metadata.labels?.[serviceNameLabel];
  return name ? `${slice.metadata.namespace}/${name}` : undefined;
}

export class EndpointSliceController {
  private readonly queue: WorkQueue<string>;
  private readonly own: OwnWrites<EndpointSlice>;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly max: number;
  private readonly batchPeriodMs: number;

  constructor(
    private readonly caches: EndpointSliceCaches,
    private readonly api: ObjectWriter<EndpointSlice>,
    opts: EndpointSliceControllerOptions = {},
  ) {
    this.log = opts.logger ?? createLogger('endpointslice-controller');
    this.workers = opts.workers ?? 5;
    this.max = opts.maxEndpointsPerSlice ?? 100;
    this.batchPeriodMs = opts.batchPeriodMs ?? 0;
    this.queue = new WorkQueue<string>({ logger: this.log });
    const { slices } = caches;
    queueServiceChanges(caches.services, caches.pods, caches.serviceIndex, this.queue, this.batchPeriodMs);
    // A slice someone else changed or deleted (not our own write coming back) is made right again.
    slices.on('add', (slice) => this.sliceChanged(slice));
    slices.on('update', (old, slice) => {
      if (serviceKeyOf(old) !== serviceKeyOf(slice)) this.sliceChanged(old, true);
      this.sliceChanged(slice, isManaged(old) !== isManaged(slice));
    });
    slices.on('delete', (slice) => this.sliceChanged(slice));
    // Made after the handlers above, which must see our writes before it forgets them.
    this.own = new OwnWrites(slices);
  }

  /** Waits for every cache, looks once at every managed slice (those of deleted services go), then syncs until stop(). */
  async run(): Promise<void> {
    const { services, pods, nodes, slices } = this.caches;
    await Promise.all([services.waitForSync(), pods.waitForSync(), nodes.waitForSync(), slices.waitForSync()]);
    for (const slice of slices.list()) {
      const key = isManaged(slice) ? serviceKeyOf(slice) : undefined;
      if (key) this.queue.add(key);
    }
    await this.queue.run((key) => this.sync(key), this.workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  private sliceChanged(slice: EndpointSlice, evenIfUnmanaged = false): void {
    const key = serviceKeyOf(slice);
    if (key === undefined || (!evenIfUnmanaged && !isManaged(slice))) return;
    // Our own write coming back through the watch needs no sync.
    if (this.own.isOwnWrite(slice)) return;
    this.queue.addAfter(key, this.batchPeriodMs);
  }

  /** The managed slices of a service as this controller last knows them (its own writes included). */
  private slicesOf(namespace: string, name: string): EndpointSlice[] {
    const mine = (s: EndpointSlice) => isManaged(s) && s.metadata.labels?.[serviceNameLabel] === name && s.metadata.deletionTimestamp === undefined;
    const out: EndpointSlice[] = [];
    for (const cached of this.caches.sliceIndex.in(namespace)) {
      const slice = this.own.get(objectKey(cached));
      if (slice && mine(slice)) out.push(slice);
    }
    for (const slice of this.own.unseen((s) => s.metadata.namespace === namespace && mine(s))) out.push(slice);
    return out;
  }

  /** Makes one service's slices right. Throws to be retried. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.caches.services.get(key);
    const existing = this.slicesOf(namespace, name);
    if (svc === undefined) {
      await this.deleteSlices(existing);
      return;
    }
    const selector = serviceSelector(svc);
    if (selector === undefined || svc.spec?.type === 'ExternalName') return;
    const pods: Pod[] = [];
    for (const pod of this.caches.podIndex.in(namespace)) if (selector.matches(pod.metadata.labels)) pods.push(pod);
    const changes = reconcileSlices(svc, pods, existing, (node) => this.caches.nodes.get(node), this.max);
    // Creates and updates first, deletes last: an endpoint moving between slices is never missing.
    const writes = await mapLimited([...changes.create.map((s) => ['create', s] as const), ...changes.update.map((s) => ['update', s] as const)], 10, async ([verb, slice]) => {
      this.own.wrote(verb === 'create' ? await this.api.create(slice) : await this.api.update(slice));
    });
    const failed = writes.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    await this.deleteSlices(changes.delete);
    if (changes.podsWithoutNode.length) {
      this.log.debug('pods on unknown nodes left out for now', { service: key, pods: changes.podsWithoutNode });
      this.queue.addAfter(key, missingNodeRetryMs);
    }
  }

  private async deleteSlices(slices: EndpointSlice[]): Promise<void> {
    const results = await mapLimited(slices, 10, async (slice) => {
      const gone = await this.api.delete(slice.metadata.namespace ?? '', slice.metadata.name ?? '');
      if (gone) this.own.deleted(gone);
    });
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}
