// One node as the scheduler sees it: the node's own facts, parsed once per node update,
// and the running totals of the pods placed on it (bound or assumed).

import { parseBytes, parseCpuMillis } from '@peapod/api';
import type { Node, Taint } from '@peapod/api';
import { anyAddress } from './pod-info';
import type { HostPort, PodInfo } from './pod-info';

// Shared by every node that has none: the filters over thousands of nodes per pod then read
// one object that stays in the CPU's cache, not one of its own per node.
const noLabels: Readonly<Record<string, string>> = Object.freeze({});
const noTaints: readonly Taint[] = Object.freeze([]);

/** An allocatable amount from the API; one that cannot be read offers nothing. */
function quantityOrZero(value: string | undefined, parse: (s: string) => number): number {
  if (value === undefined) return 0;
  try {
    return parse(value);
  } catch {
    return 0;
  }
}

/**
 * How many pods of each controller every node holds, in one table for all nodes: spreading
 * reads it for each of hundreds of nodes per pod, and a table of its own per node sent each
 * of those reads to memory the CPU's cache no longer held.
 */
export class OwnerCounts {
  private readonly byOwner = new Map<string, Map<NodeInfo, number>>();

  get(uid: string, node: NodeInfo): number {
    return this.byOwner.get(uid)?.get(node) ?? 0;
  }

  /**
   * How many of `uid`'s pods each of the first `count` nodes holds, into `out`. When they are
   * on fewer nodes than that, the controller's table is walked once instead of looked up once
   * a node: on 5,000 nodes those lookups were a third of a scheduling decision's time.
   */
  countOn(uid: string, nodes: readonly NodeInfo[], count: number, out: Float64Array): void {
    const table = this.byOwner.get(uid);
    if (table !== undefined && table.size >= count) {
      for (let i = 0; i < count; i++) {
        const node = nodes[i];
        // A node counted in another table (one not from this node's cache) is read from it.
        out[i] = node.owners === this ? (table.get(node) ?? 0) : node.ownerCount(uid);
      }
      return;
    }
    for (let i = 0; i < count; i++) {
      const node = nodes[i];
      node.scoreSlot = i;
      out[i] = node.owners === this ? 0 : node.ownerCount(uid);
    }
    table?.forEach((pods, node) => {
      const i = node.scoreSlot;
      if (i < count && nodes[i] === node) out[i] = pods;
    });
  }

  add(uid: string, node: NodeInfo, delta: 1 | -1): void {
    let nodes = this.byOwner.get(uid);
    if (!nodes) this.byOwner.set(uid, (nodes = new Map()));
    const n = (nodes.get(node) ?? 0) + delta;
    if (n > 0) nodes.set(node, n);
    else if (nodes.delete(node) && nodes.size === 0) this.byOwner.delete(uid);
  }
}

export class NodeInfo {
  node: Node | null = null;
  labels: Readonly<Record<string, string>> = noLabels;
  ready = false;
  unschedulable = false;
  /** The NoSchedule and NoExecute taints: the ones that keep pods off the node. */
  taints: readonly Taint[] = noTaints;
  allocatableCpu = 0;
  allocatableMemory = 0;
  allocatablePods = 0;

  /** pods.size, kept as a field: the resources filter reads it for every node it tries. */
  podCount = 0;
  requestedCpu = 0;
  requestedMemory = 0;
  nonZeroCpu = 0;
  nonZeroMemory = 0;
  readonly pods = new Map<string, PodInfo>();
  /** "TCP/8080" → host address → how many pods use it */
  private readonly ports = new Map<string, Map<string, number>>();

  /** Position in the cache's node list; maintained by the cache. */
  listIndex = -1;
  /** Position in the list of nodes last scored by OwnerCounts.countOn, which alone reads it. */
  scoreSlot = -1;

  /** `owners`: the table of every node in the cache; a node of its own keeps its own. */
  constructor(
    readonly name: string,
    readonly owners = new OwnerCounts(),
  ) {}

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata.labels ?? noLabels;
    this.ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    this.unschedulable = node.spec?.unschedulable === true;
    const taints = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    this.taints = taints.length > 0 ? taints : noTaints;
    // Allocatable is what pods may use; a node that reports only capacity offers all of it.
    const amount = (resource: string): string | undefined =>
      node.status?.allocatable?.[resource] ?? node.status?.capacity?.[resource];
    this.allocatableCpu = quantityOrZero(amount('cpu'), parseCpuMillis);
    this.allocatableMemory = quantityOrZero(amount('memory'), parseBytes);
    this.allocatablePods = quantityOrZero(amount('pods'), parseBytes);
  }

  clearNode(): void {
    this.node = null;
  }

  addPod(pod: PodInfo): void {
    if (this.pods.has(pod.key)) this.removePod(pod.key);
    this.pods.set(pod.key, pod);
    this.podCount = this.pods.size;
    this.requestedCpu += pod.cpu;
    this.requestedMemory += pod.memory;
    this.nonZeroCpu += pod.nonZeroCpu;
    this.nonZeroMemory += pod.nonZeroMemory;
    for (const p of pod.hostPorts) {
      const slot = `${p.protocol}/${p.port}`;
      let byAddress = this.ports.get(slot);
      if (!byAddress) this.ports.set(slot, (byAddress = new Map()));
      byAddress.set(p.ip, (byAddress.get(p.ip) ?? 0) + 1);
    }
    if (pod.ownerUid !== undefined) this.owners.add(pod.ownerUid, this, 1);
  }

  /** A newer object of a pod counted here, whose requests, ports and controller are the same. */
  replacePod(pod: PodInfo): void {
    if (this.pods.has(pod.key)) this.pods.set(pod.key, pod);
  }

  /** Returns false when the pod was not here. */
  removePod(key: string): boolean {
    const pod = this.pods.get(key);
    if (!pod) return false;
    this.pods.delete(key);
    this.podCount = this.pods.size;
    this.requestedCpu -= pod.cpu;
    this.requestedMemory -= pod.memory;
    this.nonZeroCpu -= pod.nonZeroCpu;
    this.nonZeroMemory -= pod.nonZeroMemory;
    for (const p of pod.hostPorts) {
      const slot = `${p.protocol}/${p.port}`;
      const byAddress = this.ports.get(slot);
      const n = byAddress?.get(p.ip);
      if (!byAddress || n === undefined) continue;
      if (n > 1) byAddress.set(p.ip, n - 1);
      else byAddress.delete(p.ip);
      if (byAddress.size === 0) this.ports.delete(slot);
    }
    if (pod.ownerUid !== undefined) this.owners.add(pod.ownerUid, this, -1);
    return true;
  }

  /**
   * Whether a host port is taken: the same protocol and port on the same address, or on
   * any address when either side binds all of them.
   */
  portInUse(p: HostPort): boolean {
    const byAddress = this.ports.get(`${p.protocol}/${p.port}`);
    if (!byAddress) return false;
    if (p.ip === anyAddress) return true;
    return byAddress.has(p.ip) || byAddress.has(anyAddress);
  }

  ownerCount(uid: string): number {
    return this.owners.get(uid, this);
  }
}
