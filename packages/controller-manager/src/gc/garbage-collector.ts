// Garbage collection of pods whose owners are gone: the second half of a background cascade.
// The API server deletes only the owner (after stripping its references from the dependents
// when the delete asked to orphan them); this collector then finds pods whose every owner
// has gone and deletes them (gracefully), and drops dangling references from pods that still
// have a live owner. It never trusts its caches alone to decide that an owner has gone: it
// confirms with a GET of the owner, then re-reads the pod and deletes it only at that very
// resourceVersion, so a pod orphaned in the meantime is spared.

import { resourceForKind } from '@peapod/api';
import type { KubeObject, OwnerReference, Pod, ReplicationController } from '@peapod/api';
import { ApiError, WorkQueue, createLogger, objectKey } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { splitKey } from '../cache';
import type { SharedCache } from '../cache';

export interface GarbageCollectorClient {
  /** The object, or undefined when the server says 404. */
  get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  /** Graceful delete of the pod if it still has this uid and resourceVersion (409 otherwise). */
  deletePod(namespace: string, name: string, uid: string, resourceVersion: string): Promise<void>;
  setPodOwners(namespace: string, name: string, resourceVersion: string, owners: OwnerReference[]): Promise<void>;
}

export interface GarbageCollectorOptions {
  workers?: number;
  logger?: Logger;
}

type OwnerState = 'present' | 'absent' | 'unverifiable';

export class GarbageCollector {
  private readonly queue: WorkQueue<string>;
  private readonly log: Logger;
  private readonly workers: number;
  /** owner uid → keys of the pods that name it, so an owner's deletion finds its dependents. */
  private readonly dependents = new Map<string, Set<string>>();

  constructor(
    private readonly pods: SharedCache<Pod>,
    private readonly rcs: SharedCache<ReplicationController>,
    private readonly api: GarbageCollectorClient,
    opts: GarbageCollectorOptions = {},
  ) {
    this.log = opts.logger ?? createLogger('garbage-collector');
    this.workers = opts.workers ?? 2;
    this.queue = new WorkQueue<string>({ logger: this.log });
    pods.on('add', (pod) => {
      this.index(undefined, pod);
      if (pod.metadata.ownerReferences?.length) this.queue.add(objectKey(pod));
    });
    pods.on('update', (oldPod, pod) => {
      this.index(oldPod, pod);
      if (!sameOwners(oldPod, pod) && pod.metadata.ownerReferences?.length) this.queue.add(objectKey(pod));
    });
    pods.on('delete', (pod) => this.index(pod, undefined));
    rcs.on('delete', (rc) => {
      for (const key of this.dependents.get(rc.metadata.uid ?? '') ?? []) this.queue.add(key);
    });
  }

  /** Waits for both caches (an owner missing from an unsynced cache proves nothing), then collects until stop(). */
  async run(): Promise<void> {
    await Promise.all([this.pods.waitForSync(), this.rcs.waitForSync()]);
    for (const pod of this.pods.list()) if (pod.metadata.ownerReferences?.length) this.queue.add(objectKey(pod));
    await this.queue.run((key) => this.process(key), this.workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  private index(oldPod: Pod | undefined, pod: Pod | undefined): void {
    const key = objectKey((pod ?? oldPod) as Pod);
    for (const ref of oldPod?.metadata.ownerReferences ?? []) {
      const set = this.dependents.get(ref.uid);
      set?.delete(key);
      if (set?.size === 0) this.dependents.delete(ref.uid);
    }
    for (const ref of pod?.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(ref.uid);
      if (set === undefined) this.dependents.set(ref.uid, (set = new Set()));
      set.add(key);
    }
  }

  /** Deletes the pod if all its owners are gone; drops its dangling references otherwise. */
  async process(key: string): Promise<void> {
    const cached = this.pods.get(key);
    const refs = cached?.metadata.ownerReferences ?? [];
    if (cached === undefined || refs.length === 0 || cached.metadata.deletionTimestamp !== undefined) return;
    const { namespace, name } = splitKey(key);
    const gone = new Set<string>();
    for (const ref of refs) if ((await this.ownerState(ref, namespace)) === 'absent') gone.add(ref.uid);
    if (gone.size === 0) return;

    const fresh = (await this.api.get('pods', namespace, name)) as Pod | undefined;
    if (fresh === undefined || fresh.metadata.uid !== cached.metadata.uid || fresh.metadata.deletionTimestamp !== undefined) return;
    const freshRefs = fresh.metadata.ownerReferences ?? [];
    const remaining = freshRefs.filter((r) => !gone.has(r.uid));
    if (remaining.length === freshRefs.length) return;
    const uid = fresh.metadata.uid ?? '';
    const rv = fresh.metadata.resourceVersion ?? '';
    try {
      if (remaining.length === 0) {
        await this.api.deletePod(namespace, name, uid, rv);
        this.log.info('deleted pod whose owners are gone', { pod: key, owners: [...gone] });
      } else {
        await this.api.setPodOwners(namespace, name, rv, remaining);
        this.log.info('removed references to owners that are gone', { pod: key, owners: [...gone] });
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  }

  private async ownerState(ref: OwnerReference, namespace: string): Promise<OwnerState> {
    const info = ref.apiVersion === 'v1' ? resourceForKind(ref.kind) : undefined;
    if (info === undefined) return 'unverifiable';
    const ownerNamespace = info.namespaced ? namespace : undefined;
    if (info.name === 'replicationcontrollers') {
      const cached = this.rcs.get(`${namespace}/${ref.name}`);
      if (cached?.metadata.uid === ref.uid) return 'present';
    }
    const owner = await this.api.get(info.name, ownerNamespace, ref.name);
    return owner !== undefined && owner.metadata.uid === ref.uid ? 'present' : 'absent';
  }
}

function sameOwners(a: Pod, b: Pod): boolean {
  const ua = (a.metadata.ownerReferences ?? []).map((r) => r.uid).join(',');
  const ub = (b.metadata.ownerReferences ?? []).map((r) => r.uid).join(',');
  return ua === ub;
}

/** GarbageCollectorClient over the real API. */
export class ApiGarbageCollectorClient implements GarbageCollectorClient {
  constructor(private readonly client: Client) {}

  async get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.client.get(resource, name, { namespace });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  async deletePod(namespace: string, name: string, uid: string, resourceVersion: string): Promise<void> {
    await this.client.delete('pods', name, { namespace, preconditions: { uid, resourceVersion }, propagationPolicy: 'Background' });
  }

  async setPodOwners(namespace: string, name: string, resourceVersion: string, owners: OwnerReference[]): Promise<void> {
    const patch = { metadata: { resourceVersion, ownerReferences: owners.length > 0 ? owners : null } };
    await this.client.patch('pods', name, patch, 'merge', { namespace });
  }
}
