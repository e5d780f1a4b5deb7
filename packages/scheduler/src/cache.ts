// The scheduler's view of the cluster: every node, and every pod that holds room on one.
// A pod the scheduler has just placed is "assumed" on its node at once, before the bind
// request returns and long before the watch reports it, so a burst of pods never
// overcommits a node. The watch event confirms it; a failed bind forgets it; an assumption
// that is never confirmed expires some time after its binding finished.

import type { Node, Pod } from '@peapod/api';
import { NodeInfo, OwnerCounts } from './node-info';
import { controllerUid, podInfoFor, podKey } from './pod-info';
import type { PodInfo } from './pod-info';

interface CachedPod {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
  /** When an assumed pod whose binding finished expires; undefined while binding. */
  expiresAt: number | undefined;
}

export interface CacheOptions {
  /** How long after its binding an assumed pod waits for its watch event; default 30 s. */
  assumedTtlMs?: number;
  now?: () => number;
}

export class SchedulerCache {
  private readonly nodeInfos = new Map<string, NodeInfo>();
  /** The nodes that exist (have a Node object), in no particular order. */
  private readonly list: NodeInfo[] = [];
  private readonly pods = new Map<string, CachedPod>();
  private readonly assumed = new Set<string>();
  private readonly owners = new OwnerCounts();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: CacheOptions = {}) {
    this.ttlMs = opts.assumedTtlMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  get nodes(): readonly NodeInfo[] {
    return this.list;
  }

  nodeInfo(name: string): NodeInfo | undefined {
    const info = this.nodeInfos.get(name);
    return info?.node ? info : undefined;
  }

  /** Adds the node, or updates it in place. */
  addNode(node: Node): void {
    const info = this.infoFor(node.metadata.name ?? '');
    info.setNode(node);
    if (info.listIndex < 0) {
      info.listIndex = this.list.length;
      this.list.push(info);
    }
  }

  /** The node's pods keep their place until they are removed themselves. */
  removeNode(name: string): void {
    const info = this.nodeInfos.get(name);
    if (!info) return;
    info.clearNode();
    if (info.listIndex >= 0) {
      const last = this.list.pop() as NodeInfo;
      if (last !== info) {
        this.list[info.listIndex] = last;
        last.listIndex = info.listIndex;
      }
      info.listIndex = -1;
    }
    if (info.podCount === 0) this.nodeInfos.delete(name);
  }

  /** Counts the pod on the node now; throws if the cache already has it. */
  assumePod(pod: PodInfo, nodeName: string): void {
    if (this.pods.has(pod.key)) throw new Error(`pod ${pod.key} is already in the scheduler cache`);
    this.infoFor(nodeName).addPod(pod);
    this.pods.set(pod.key, { info: pod, nodeName, assumed: true, expiresAt: undefined });
    this.assumed.add(pod.key);
  }

  /** The bind request succeeded: from now on the assumption may expire. */
  finishBinding(key: string): void {
    const cached = this.pods.get(key);
    if (cached?.assumed) cached.expiresAt = this.now() + this.ttlMs;
  }

  /** Drops an assumption (the bind failed); a confirmed pod is left alone. Returns whether one was dropped. */
  forgetPod(key: string): boolean {
    const cached = this.pods.get(key);
    if (!cached?.assumed) return false;
    this.drop(key, cached);
    return true;
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  /** The node the pod holds room on, whether assumed or confirmed. */
  nodeOf(key: string): string | undefined {
    return this.pods.get(key)?.nodeName;
  }

  /**
   * A pod bound to a node, as the watch reports it (added or updated): confirms an
   * assumption, moving the pod if the server put it elsewhere.
   */
  addPod(pod: Pod): void {
    const nodeName = pod.spec.nodeName;
    if (!nodeName) return;
    const key = podKey(pod);
    const existing = this.pods.get(key);
    if (existing && existing.nodeName === nodeName && existing.info.ownerUid === controllerUid(pod)) {
      this.confirm(key, existing, pod);
      return;
    }
    if (existing) this.drop(key, existing);
    const info = podInfoFor(pod);
    this.infoFor(nodeName).addPod(info);
    this.pods.set(key, { info, nodeName, assumed: false, expiresAt: undefined });
  }

  /** The pod is gone (deleted, or finished and no longer holding room). */
  removePod(pod: Pod): boolean {
    const key = podKey(pod);
    const cached = this.pods.get(key);
    if (!cached) return false;
    this.drop(key, cached);
    return true;
  }

  /** Drops assumptions whose watch event never came; returns their keys. */
  cleanupExpired(): string[] {
    const now = this.now();
    const expired: string[] = [];
    for (const key of this.assumed) {
      const cached = this.pods.get(key) as CachedPod;
      if (cached.expiresAt !== undefined && cached.expiresAt <= now) expired.push(key);
    }
    for (const key of expired) this.drop(key, this.pods.get(key) as CachedPod);
    return expired;
  }

  get podCount(): number {
    return this.pods.size;
  }

  get assumedCount(): number {
    return this.assumed.size;
  }

  private infoFor(name: string): NodeInfo {
    let info = this.nodeInfos.get(name);
    if (!info) this.nodeInfos.set(name, (info = new NodeInfo(name, this.owners)));
    return info;
  }

  /**
   * The pod is where the cache counts it already, for the same controller: every watch
   * event of a bound pod (the bind's own first) comes here. What its node counts stays, as
   * the API server refuses any change to a pod's containers (requests, ports) or host
   * network (tolerations, which may grow, matter only while a pod is being placed); only the
   * object is swapped for the newer one, so the older is not kept alive. Rebuilding its
   * PodInfo and recounting it on its node cost ten times as much, for every pod twice.
   */
  private confirm(key: string, cached: CachedPod, pod: Pod): void {
    const info: PodInfo = { ...cached.info, pod };
    this.nodeInfos.get(cached.nodeName)?.replacePod(info);
    cached.info = info;
    cached.assumed = false;
    cached.expiresAt = undefined;
    this.assumed.delete(key);
  }

  private drop(key: string, cached: CachedPod): void {
    this.pods.delete(key);
    this.assumed.delete(key);
    const info = this.nodeInfos.get(cached.nodeName);
    if (!info) return;
    info.removePod(key);
    if (!info.node && info.podCount === 0) this.nodeInfos.delete(cached.nodeName);
  }
}
