// Eviction is paced per zone, as Kubernetes' node lifecycle controller paces it: unreachable
// nodes wait in their zone's queue for the NoExecute taint that starts their pods' eviction,
// released at --node-eviction-rate nodes per second. A zone where most nodes are down is more
// likely cut off than dead, so it is slowed to the secondary rate (stopped in small zones); when
// every node of every zone is down, the fault is most likely the control plane's own network,
// and nothing is evicted at all.

import type { Node } from '@peapod/api';

export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

export interface EvictionPacing {
  /** Nodes per second whose pods may be evicted in a healthy zone (--node-eviction-rate). */
  evictionRate: number;
  /** The same in a zone with many nodes down (--secondary-node-eviction-rate). */
  secondaryEvictionRate: number;
  /** Zones of at most this many nodes evict nothing while partly down (--large-cluster-size-threshold). */
  largeClusterSizeThreshold: number;
  /** The share of not-ready nodes (more than two) from which a zone is partly down (--unhealthy-zone-threshold). */
  unhealthyZoneThreshold: number;
}

export const defaultEvictionPacing: EvictionPacing = {
  evictionRate: 0.1,
  secondaryEvictionRate: 0.01,
  largeClusterSizeThreshold: 50,
  unhealthyZoneThreshold: 0.55,
};

const regionLabels = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'];
const zoneLabels = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];

function firstLabel(node: Node, keys: string[]): string {
  const labels = node.metadata.labels ?? {};
  for (const k of keys) if (labels[k]) return labels[k];
  return '';
}

/** The node's zone, region and zone together (nodes without the labels share the zone ""). */
export function zoneOf(node: Node): string {
  const region = firstLabel(node, regionLabels);
  const zone = firstLabel(node, zoneLabels);
  return region === '' && zone === '' ? '' : `${region}:\u0000:${zone}`;
}

export function zoneState(ready: number, notReady: number, unhealthyThreshold: number): ZoneState {
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (ready + notReady) >= unhealthyThreshold) return 'PartialDisruption';
  return 'Normal';
}

/** Nodes per second released for tainting in a zone of `size` nodes in `state` (not every zone down). */
export function zoneEvictionRate(state: ZoneState, size: number, pacing: EvictionPacing): number {
  if (state === 'PartialDisruption') return size > pacing.largeClusterSizeThreshold ? pacing.secondaryEvictionRate : 0;
  // A zone wholly down while others are up has really failed: its pods are needed elsewhere.
  return pacing.evictionRate;
}

/**
 * Names waiting their turn, released in the order they came at `rate` per second by a token
 * bucket of one token (the first comes out at once, then one every 1/rate seconds); rate 0
 * releases nothing.
 */
export class PacedQueue {
  private readonly waiting = new Set<string>();
  private tokens = 1;
  private rate: number;
  private last: number;

  constructor(rate: number, now: number) {
    this.rate = rate;
    this.last = now;
  }

  setRate(rate: number, now: number): void {
    this.refill(now);
    this.rate = rate;
  }

  add(name: string): void {
    this.waiting.add(name);
  }

  remove(name: string): void {
    this.waiting.delete(name);
  }

  clear(): void {
    this.waiting.clear();
  }

  get size(): number {
    return this.waiting.size;
  }

  /**
   * The names whose turn has come by `now`, taken off the queue; those `ready` refuses for now
   * keep their place and use no turn.
   */
  take(now: number, ready: (name: string) => boolean = () => true): string[] {
    this.refill(now);
    if (this.rate <= 0) return [];
    const out: string[] = [];
    for (const name of this.waiting) {
      // (tokens summed from fractions of a second fall a hair short of a whole one)
      if (this.tokens < 1 - 1e-9) break;
      if (!ready(name)) continue;
      this.tokens -= 1;
      out.push(name);
    }
    for (const name of out) this.waiting.delete(name);
    return out;
  }

  private refill(now: number): void {
    if (this.rate > 0) this.tokens = Math.min(1, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }
}
