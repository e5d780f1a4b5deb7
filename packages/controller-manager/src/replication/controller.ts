// The replication controller: keeps spec.replicas live pods matching each controller's
// selector. Informer events turn into controller keys (ns/name) on a work queue; a sync
// claims the matching pods (adopting orphans, releasing pods that stopped matching), creates
// or deletes the difference, and writes the status. Expectations keep a sync from acting on
// a cache that has not yet seen the controller's own previous writes.

import { isPodReady, isPodTerminal, nothingSelector, selectorFromSet } from '@peapod/api';
import type { LabelSelector, Pod, ReplicationController } from '@peapod/api';
import { WorkQueue, createLogger, isConflict, isNotFound, objectKey } from '@peapod/client';
import type { Logger } from '@peapod/client';
import { mapLimited, splitKey } from '../cache';
import type { SharedCache } from '../cache';
import { Expectations } from './expectations';
import { controllerRefFor, controllerRefOf, podFromTemplate, rcKind } from './pod-control';
import type { ControllerClient } from './pod-control';
import { podsToDelete } from './ranking';
import { computeStatus, nextAvailabilityCheckMs, sameStatus } from './status';

export interface ReplicationManagerOptions {
  /** Controllers synced at once (one key is never synced twice at once). Default 5. */
  workers?: number;
  /** Most pods created or deleted by one sync. Default 500. */
  burstReplicas?: number;
  /** Most API calls in flight from one sync. Default 50. */
  concurrency?: number;
  expectationsTimeoutMs?: number;
  logger?: Logger;
  now?: () => number;
}

/** A pod that counts: not terminating and not finished. */
export function isPodLive(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp === undefined && !isPodTerminal(pod);
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ak = Object.keys(a ?? {});
  if (ak.length !== Object.keys(b ?? {}).length) return false;
  return ak.every((k) => (a ?? {})[k] === (b ?? {})[k]);
}

/**
 * The index of pods by controller: a pod with a controller reference is filed under its
 * controller's uid, an orphan under ORPHANS_OF + its namespace. A sync reads only the pods it
 * owns and the orphans it could adopt, not every pod of the cluster.
 */
export const CONTROLLER_INDEX = 'controller';
const ORPHANS_OF = 'orphans/';
/** Controllers by namespace: the ones an orphan could belong to. */
const NAMESPACE_INDEX = 'namespace';

function controllerIndex(pod: Pod): string[] {
  const ref = controllerRefOf(pod);
  return [ref !== undefined ? ref.uid : `${ORPHANS_OF}${pod.metadata.namespace ?? ''}`];
}

export class ReplicationManager {
  readonly expectations: Expectations;
  private readonly queue: WorkQueue<string>;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly workers: number;
  private readonly burstReplicas: number;
  private readonly concurrency: number;

  constructor(
    private readonly rcs: SharedCache<ReplicationController>,
    private readonly pods: SharedCache<Pod>,
    private readonly api: ControllerClient,
    opts: ReplicationManagerOptions = {},
  ) {
    this.log = opts.logger ?? createLogger('replication-controller');
    this.now = opts.now ?? Date.now;
    this.workers = opts.workers ?? 5;
    this.burstReplicas = opts.burstReplicas ?? 500;
    this.concurrency = opts.concurrency ?? 50;
    this.expectations = new Expectations({ timeoutMs: opts.expectationsTimeoutMs, now: this.now });
    this.queue = new WorkQueue<string>({ logger: this.log });

    pods.addIndex(CONTROLLER_INDEX, controllerIndex);
    rcs.addIndex(NAMESPACE_INDEX, (rc) => [rc.metadata.namespace ?? '']);
    rcs.on('add', (rc) => this.enqueue(rc));
    rcs.on('update', (_old, rc) => this.enqueue(rc));
    rcs.on('delete', (rc) => {
      this.expectations.delete(objectKey(rc));
      this.enqueue(rc);
    });
    pods.on('add', (pod) => this.podAdded(pod));
    pods.on('update', (oldPod, pod) => this.podUpdated(oldPod, pod));
    pods.on('delete', (pod) => this.podDeleted(pod));
  }

  /** Waits for both caches, then syncs controllers until stop(). */
  async run(): Promise<void> {
    await Promise.all([this.rcs.waitForSync(), this.pods.waitForSync()]);
    await this.queue.run((key) => this.sync(key), this.workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  // --- event handlers: which controllers an event concerns ---

  private enqueue(rc: ReplicationController): void {
    this.queue.add(objectKey(rc));
  }

  /** The controller a pod's controller reference names, if the cache holds that very one. */
  private ownerOf(pod: Pod): ReplicationController | undefined {
    const ref = controllerRefOf(pod);
    if (ref === undefined || ref.kind !== rcKind) return undefined;
    const rc = this.rcs.get(`${pod.metadata.namespace}/${ref.name}`);
    return rc !== undefined && rc.metadata.uid === ref.uid ? rc : undefined;
  }

  private controllersMatching(pod: Pod): ReplicationController[] {
    return this.rcs.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? '').filter((rc) => selectorOf(rc).matches(pod.metadata.labels));
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata.deletionTimestamp !== undefined) {
      // Seen for the first time already terminating (e.g. after a restart): it counts as going.
      this.podDeleted(pod);
      return;
    }
    if (controllerRefOf(pod) !== undefined) {
      const rc = this.ownerOf(pod);
      if (rc === undefined) return;
      this.expectations.creationObserved(objectKey(rc));
      this.enqueue(rc);
      return;
    }
    for (const rc of this.controllersMatching(pod)) this.enqueue(rc);
  }

  private podUpdated(oldPod: Pod, pod: Pod): void {
    if (oldPod.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const labelsChanged = !sameLabels(oldPod.metadata.labels, pod.metadata.labels);
    if (pod.metadata.deletionTimestamp !== undefined) {
      this.podDeleted(pod);
      if (labelsChanged) this.podDeleted(oldPod);
      return;
    }
    const oldRef = controllerRefOf(oldPod);
    const ref = controllerRefOf(pod);
    const refChanged = oldRef?.uid !== ref?.uid;
    if (refChanged && oldRef !== undefined) {
      const previous = this.ownerOf(oldPod);
      if (previous !== undefined) this.enqueue(previous);
    }
    if (ref !== undefined) {
      const rc = this.ownerOf(pod);
      if (rc === undefined) return;
      this.enqueue(rc);
      // A pod that just became ready becomes available minReadySeconds later: look again then.
      const minReady = rc.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(oldPod) && isPodReady(pod)) this.queue.addAfter(objectKey(rc), minReady * 1000 + 1);
      return;
    }
    if (labelsChanged || refChanged) for (const rc of this.controllersMatching(pod)) this.enqueue(rc);
  }

  private podDeleted(pod: Pod): void {
    const rc = this.ownerOf(pod);
    if (rc === undefined) return;
    const key = objectKey(rc);
    this.expectations.deletionObserved(key, objectKey(pod));
    this.enqueue(rc);
  }

  // --- sync ---

  /** Brings one controller's pods and status in line with its spec. Throws to be retried. */
  async sync(key: string): Promise<void> {
    const rc = this.rcs.get(key);
    if (rc === undefined) {
      this.expectations.delete(key);
      return;
    }
    const mayAct = this.expectations.satisfied(key);
    const { namespace } = splitKey(key);
    const candidates = [...this.pods.byIndex(CONTROLLER_INDEX, rc.metadata.uid ?? ''), ...this.pods.byIndex(CONTROLLER_INDEX, `${ORPHANS_OF}${namespace}`)];
    const live = candidates.filter(isPodLive);
    const owned = await this.claimPods(rc, live);

    let manageError: unknown;
    if (mayAct && rc.metadata.deletionTimestamp === undefined) {
      try {
        await this.manageReplicas(key, rc, owned);
      } catch (err) {
        manageError = err;
      }
    }
    const now = this.now();
    await this.writeStatus(rc, computeStatus(rc, owned, now));
    if (manageError !== undefined) throw manageError;
    const recheck = nextAvailabilityCheckMs(rc, owned, now);
    if (recheck !== undefined) this.queue.addAfter(key, recheck);
  }

  /**
   * The live pods this controller owns after adopting matching orphans and releasing owned
   * pods that no longer match. Throws (after trying every pod) if any claim failed, so that
   * the sync does not count replicas from a half-claimed set.
   */
  private async claimPods(rc: ReplicationController, live: readonly Pod[]): Promise<Pod[]> {
    const selector = selectorOf(rc);
    const uid = rc.metadata.uid;
    const deleting = rc.metadata.deletionTimestamp !== undefined;
    const owned: Pod[] = [];
    const toAdopt: Pod[] = [];
    const toRelease: Pod[] = [];
    for (const pod of live) {
      const ref = controllerRefOf(pod);
      const matches = selector.matches(pod.metadata.labels);
      if (ref !== undefined) {
        if (ref.uid !== uid) continue;
        if (matches) owned.push(pod);
        else if (!deleting) toRelease.push(pod);
      } else if (matches && !deleting) {
        toAdopt.push(pod);
      }
    }
    const errors: unknown[] = [];
    if (toRelease.length > 0) {
      const results = await mapLimited(toRelease, this.concurrency, (pod) => this.release(rc, pod));
      for (const r of results) if (r.status === 'rejected' && !isNotFound(r.reason)) errors.push(r.reason);
    }
    if (toAdopt.length > 0 && (await this.canAdopt(rc))) {
      const results = await mapLimited(toAdopt, this.concurrency, (pod) => this.adopt(rc, pod));
      for (const r of results) {
        if (r.status === 'fulfilled') owned.push(r.value);
        else if (!isNotFound(r.reason)) errors.push(r.reason);
      }
    }
    if (errors.length > 0) throw errors[0];
    return owned;
  }

  /**
   * Our cache may still hold a controller that was deleted (or deleted and recreated under
   * the same name): adopting for it would hand the pods to a ghost. Ask the server.
   */
  private async canAdopt(rc: ReplicationController): Promise<boolean> {
    const { namespace, name } = splitKey(objectKey(rc));
    try {
      const fresh = await this.api.getController(namespace, name);
      return fresh.metadata.uid === rc.metadata.uid && fresh.metadata.deletionTimestamp === undefined;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async adopt(rc: ReplicationController, pod: Pod): Promise<Pod> {
    const owners = [...(pod.metadata.ownerReferences ?? []), controllerRefFor(rc)];
    const adopted = await this.api.setPodOwners(pod.metadata.namespace ?? '', pod.metadata.name ?? '', pod.metadata.resourceVersion ?? '', owners);
    this.log.info('adopted pod', { controller: objectKey(rc), pod: objectKey(pod) });
    return adopted;
  }

  private async release(rc: ReplicationController, pod: Pod): Promise<void> {
    const owners = (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== rc.metadata.uid);
    await this.api.setPodOwners(pod.metadata.namespace ?? '', pod.metadata.name ?? '', pod.metadata.resourceVersion ?? '', owners);
    this.log.info('released pod', { controller: objectKey(rc), pod: objectKey(pod) });
  }

  private async manageReplicas(key: string, rc: ReplicationController, owned: readonly Pod[]): Promise<void> {
    const desired = rc.spec?.replicas ?? 1;
    const diff = owned.length - desired;
    if (diff < 0) await this.createPods(key, rc, Math.min(-diff, this.burstReplicas));
    else if (diff > 0) await this.deletePods(key, rc, podsToDelete(owned, Math.min(diff, this.burstReplicas)));
  }

  /**
   * Creates in batches of 1, 2, 4, ...: a template the server rejects (or a quota) then costs
   * one failed call instead of hundreds. Pods never attempted are taken off the expectations.
   */
  private async createPods(key: string, rc: ReplicationController, count: number): Promise<void> {
    this.expectations.expectCreations(key, count);
    const namespace = rc.metadata.namespace ?? 'default';
    let remaining = count;
    let batch = 1;
    let firstError: unknown;
    while (remaining > 0 && firstError === undefined) {
      const size = Math.min(batch, remaining);
      const results = await mapLimited(Array.from({ length: size }), this.concurrency, async () => {
        const pod = await this.api.createPod(namespace, podFromTemplate(rc));
        this.api.event(rc, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      });
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        this.expectations.creationObserved(key);
        firstError ??= r.reason;
        const message = r.reason instanceof Error ? r.reason.message : String(r.reason);
        this.api.event(rc, 'Warning', 'FailedCreate', `Error creating: ${message}`);
      }
      remaining -= size;
      batch *= 2;
    }
    for (let i = 0; i < remaining; i++) this.expectations.creationObserved(key);
    if (firstError !== undefined) throw firstError;
  }

  private async deletePods(key: string, rc: ReplicationController, victims: readonly Pod[]): Promise<void> {
    this.expectations.expectDeletions(key, victims.map(objectKey));
    const results = await mapLimited(victims, this.concurrency, async (pod) => {
      await this.api.deletePod(pod.metadata.namespace ?? '', pod.metadata.name ?? '', pod.metadata.uid ?? '');
      this.api.event(rc, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    });
    let firstError: unknown;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      // The watch will not report a deletion that did not happen (or happened long ago).
      this.expectations.deletionObserved(key, objectKey(victims[i]));
      if (isNotFound(r.reason)) return;
      firstError ??= r.reason;
      const message = r.reason instanceof Error ? r.reason.message : String(r.reason);
      this.api.event(rc, 'Warning', 'FailedDelete', `Error deleting: ${message}`);
    });
    if (firstError !== undefined) throw firstError;
  }

  private async writeStatus(rc: ReplicationController, status: ReturnType<typeof computeStatus>): Promise<void> {
    if (sameStatus(rc.status, status)) return;
    try {
      await this.api.updateControllerStatus({ ...rc, status });
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err)) throw err;
      // The cached copy is stale; the status we computed is still what we know: write it on the fresh one.
      const { namespace, name } = splitKey(objectKey(rc));
      const fresh = await this.api.getController(namespace, name);
      if (fresh.metadata.uid !== rc.metadata.uid || sameStatus(fresh.status, status)) return;
      await this.api.updateControllerStatus({ ...fresh, status });
    }
  }
}

/** The controller's selector; an empty one selects nothing (the server rejects those anyway). */
function selectorOf(rc: ReplicationController): LabelSelector {
  const set = rc.spec?.selector;
  if (set === undefined || Object.keys(set).length === 0) return nothingSelector;
  return selectorFromSet(set);
}
