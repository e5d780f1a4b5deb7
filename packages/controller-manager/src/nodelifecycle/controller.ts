// Node lifecycle: notices nodes whose agent stopped sending heartbeats, marks them
// Ready=Unknown and their pods not ready, gives them the unreachable NoExecute taint at the
// pace of their zone (zones.ts), and after the eviction timeout from the taint deletes their
// pods so that controllers replace them on other nodes. When the agent posts Ready=True again,
// the taint comes off. A heartbeat is, as in Kubernetes,
// the later of the node's Lease renewTime (in kube-node-lease, renewed every few seconds)
// and its Ready condition's lastHeartbeatTime (posted only when the status changes or every
// few minutes).

import { nodeLeaseNamespace, rfc3339, setPodCondition, unreachableTaint, unreachableTaintKey } from '@peapod/api';
import type { Lease, Node, NodeCondition, Pod, Taint, Toleration } from '@peapod/api';
import { createLogger, isConflict, isNotFound } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { mapLimited } from '../cache';
import type { SharedCache } from '../cache';
import { PacedQueue, defaultEvictionPacing, zoneEvictionRate, zoneOf, zoneState } from './zones';
import type { EvictionPacing } from './zones';

export const nodeStatusUnknownReason = 'NodeStatusUnknown';
export const nodeStatusUnknownMessage = 'Kubelet stopped posting node status.';

export interface NodeLifecycleClient {
  updateNodeStatus(node: Node): Promise<Node>;
  /** Replaces spec.taints if the node is still at `resourceVersion` (409 otherwise). */
  setNodeTaints(name: string, resourceVersion: string, taints: Taint[]): Promise<Node>;
  updatePodStatus(pod: Pod): Promise<Pod>;
  /** Removes the pod from the API at once (grace 0), if it still has this uid. */
  forceDeletePod(namespace: string, name: string, uid: string): Promise<void>;
}

export interface NodeLifecycleOptions {
  /** How often nodes are looked at (--node-monitor-period). */
  monitorPeriodMs: number;
  /** How long a node may go without a heartbeat before it is Unknown (--node-monitor-grace-period). */
  gracePeriodMs: number;
  /** How long pods stay on an unreachable node before they are deleted (--pod-eviction-timeout). */
  podEvictionTimeoutMs: number;
  /** How fast unreachable nodes get the taint that evicts their pods, per zone (default: Kubernetes'). */
  pacing?: EvictionPacing;
  now?: () => number;
  logger?: Logger;
}

interface Probe {
  /** The heartbeat as the node last reported it (lease renewal or status post, whichever is later). */
  heartbeat: string;
  /** Our own clock when that heartbeat was first seen: immune to clock skew between hosts. */
  seenAt: number;
}

function readyCondition(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

function toleratesUnreachable(t: Toleration): boolean {
  if (t.effect !== undefined && t.effect !== '' && t.effect !== 'NoExecute') return false;
  if (t.operator === 'Exists') return t.key === undefined || t.key === '' || t.key === unreachableTaintKey;
  return t.key === unreachableTaintKey && (t.value ?? '') === '';
}

/**
 * How long this pod may stay on an unreachable node: the eviction timeout, or less if the pod
 * tolerates the unreachable taint for fewer seconds, or forever if it tolerates it with no
 * limit. The API server gives every pod a 300 s toleration (as Kubernetes' admission does),
 * so the timeout is the upper bound here: otherwise the flag could never shorten it.
 */
export function evictionDelayMs(pod: Pod, timeoutMs: number): number {
  let delay = timeoutMs;
  for (const t of pod.spec.tolerations ?? []) {
    if (!toleratesUnreachable(t)) continue;
    if (t.tolerationSeconds === undefined) return Infinity;
    delay = Math.min(delay, Math.max(0, t.tolerationSeconds) * 1000);
  }
  return delay;
}

/** Microseconds since the epoch of an RFC 3339 time in UTC (a lease's MicroTime keeps them); unreadable: -Infinity. */
function micros(t: string): number {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(t);
  const seconds = Date.parse(m ? `${m[1]}Z` : t);
  if (Number.isNaN(seconds)) return -Infinity;
  return seconds * 1000 + Number((m?.[2] ?? '').padEnd(6, '0').slice(0, 6));
}

/** The later of two timestamps (RFC 3339, to the second or the microsecond); an unreadable one loses. */
export function laterTime(a: string | undefined, b: string | undefined): string {
  if (!a || !b) return a || b || '';
  return micros(b) > micros(a) ? b : a;
}

/** The index of pods by spec.nodeName: an unreachable node's pods without a walk over every pod. */
const NODE_INDEX = 'node';

/**
 * Nodes looked at at once in a pass, as Kubernetes' node lifecycle controller has eight workers.
 * With the nodes one after another, each unreachable one's pods marked before the next, a
 * failed rack's last node was marked Unknown only after every pod of the nodes before it (in
 * the envelope's run E21, on a busy API server, the 50 nodes of a killed hollow process were
 * not all Unknown 86 s after the kill, against 40 s of grace).
 */
const nodeWorkers = 8;

/** An unreachable node's pods that a pass marks not ready, once every node has been looked at. */
interface NotReadyMarks {
  node: string;
  pods: Pod[];
}

/** How often the zones' queues are looked at for nodes whose turn for the taint has come (Kubernetes' eviction period). */
const taintingPeriodMs = 100;

export class NodeLifecycleController {
  private readonly probes = new Map<string, Probe>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly pacing: EvictionPacing;
  /** Per zone: unreachable nodes waiting for the NoExecute taint. */
  private readonly queues = new Map<string, PacedQueue>();
  /** Every node of every zone unreachable: nothing is tainted or evicted. */
  private allDown = false;
  private tainting = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly nodes: SharedCache<Node>,
    private readonly pods: SharedCache<Pod>,
    /** The node leases (kube-node-lease), each named after its node. */
    private readonly leases: SharedCache<Lease>,
    private readonly api: NodeLifecycleClient,
    private readonly opts: NodeLifecycleOptions,
  ) {
    this.log = opts.logger ?? createLogger('node-lifecycle');
    this.now = opts.now ?? Date.now;
    this.pacing = opts.pacing ?? defaultEvictionPacing;
    nodes.on('delete', (node) => {
      this.probes.delete(node.metadata.name ?? '');
      this.queues.get(zoneOf(node))?.remove(node.metadata.name ?? '');
    });
    pods.addIndex(NODE_INDEX, (pod) => (pod.spec.nodeName ? [pod.spec.nodeName] : []));
  }

  /** Waits for the caches, then looks at every node each monitor period (and at the zones' queues more often) until stop(). */
  async run(): Promise<void> {
    this.running = true;
    await Promise.all([this.nodes.waitForSync(), this.pods.waitForSync(), this.leases.waitForSync()]);
    const tainter = setInterval(() => void this.taintingPass(), taintingPeriodMs);
    try {
      await this.monitorLoop();
    } finally {
      clearInterval(tainter);
    }
  }

  private async monitorLoop(): Promise<void> {
    while (this.running) {
      await this.monitor();
      await new Promise<void>((resolve) => {
        if (!this.running) return resolve();
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.opts.monitorPeriodMs);
      });
    }
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.wake?.();
  }

  /**
   * One pass over all nodes, then over the zones: their pace follows how many of their nodes
   * are down, and the nodes whose turn has come are tainted. A failure on one node is logged
   * and retried next pass.
   */
  async monitor(): Promise<void> {
    const zones = new Map<string, { ready: number; notReady: number }>();
    const marks: NotReadyMarks[] = [];
    await mapLimited(this.nodes.list(), nodeWorkers, async (cached) => {
      let node = cached;
      try {
        node = await this.monitorNode(cached, marks);
      } catch (err) {
        this.logCheckFailure(cached, err);
      }
      const zone = zoneOf(node);
      let counts = zones.get(zone);
      if (!counts) zones.set(zone, (counts = { ready: 0, notReady: 0 }));
      if (readyCondition(node)?.status === 'True') counts.ready++;
      else counts.notReady++;
    });
    await this.markNotReady(marks);
    await this.handleDisruption(zones);
    await this.taintingPass();
  }

  private logCheckFailure(node: Node, err: unknown): void {
    const level = isConflict(err) ? 'debug' : 'warn';
    this.log[level]('node check failed; will retry', { node: node.metadata.name, error: err });
  }

  /** Sets each zone's pace from its state; with every zone wholly down, stops all eviction and lifts the taints. */
  private async handleDisruption(zones: Map<string, { ready: number; notReady: number }>): Promise<void> {
    const now = this.now();
    const states = new Map([...zones].map(([zone, c]) => [zone, { state: zoneState(c.ready, c.notReady, this.pacing.unhealthyZoneThreshold), size: c.ready + c.notReady }]));
    const allDown = states.size > 0 && [...states.values()].every((z) => z.state === 'FullDisruption');
    if (allDown && !this.allDown) {
      this.log.warn('every node of every zone is unreachable: evictions stop until one is back', { nodes: this.nodes.list().length });
    } else if (!allDown && this.allDown) {
      // Their silence may have been ours: every node gets a whole grace period again.
      for (const probe of this.probes.values()) probe.seenAt = now;
      this.log.info('nodes are reachable again: evictions resume', { zones: states.size });
    }
    this.allDown = allDown;
    for (const [zone, { state, size }] of states) {
      const queue = this.queueOf(zone, now);
      queue.setRate(allDown ? 0 : zoneEvictionRate(state, size, this.pacing), now);
      if (allDown) queue.clear();
    }
    if (!allDown) return;
    for (const node of this.nodes.list()) {
      if (unreachableTaint(node) === undefined) continue;
      try {
        await this.removeUnreachableTaint(node);
      } catch (err) {
        this.logCheckFailure(node, err);
      }
    }
  }

  private queueOf(zone: string, now: number): PacedQueue {
    let queue = this.queues.get(zone);
    if (!queue) this.queues.set(zone, (queue = new PacedQueue(this.pacing.evictionRate, now)));
    return queue;
  }

  /** Taints the unreachable nodes whose turn has come in their zone's queue. */
  async taintingPass(): Promise<void> {
    if (this.tainting) return;
    this.tainting = true;
    try {
      const now = this.now();
      // A node marked Unknown a moment ago may not show it in the cache yet: it keeps its place.
      const untaintedUnknown = (name: string) => {
        const node = this.nodes.get(name);
        return node !== undefined && readyCondition(node)?.status === 'Unknown' && unreachableTaint(node) === undefined;
      };
      for (const queue of this.queues.values()) {
        for (const name of queue.take(now, untaintedUnknown)) {
          const node = this.nodes.get(name);
          if (!node) continue;
          const taint: Taint = { key: unreachableTaintKey, effect: 'NoExecute', timeAdded: rfc3339(new Date(now)) };
          try {
            await this.api.setNodeTaints(name, node.metadata.resourceVersion ?? '', [...(node.spec?.taints ?? []), taint]);
            this.log.info('tainted unreachable node', { node: name, zoneQueue: queue.size });
          } catch (err) {
            // Still unreachable and untainted, it joins the queue again at the next monitor pass.
            this.logCheckFailure(node, err);
          }
        }
      }
    } finally {
      this.tainting = false;
    }
  }

  /**
   * Marks the pass's unreachable nodes' pods not ready one at a time, as they are in the cache
   * by then: a failed rack's thousands of pods reach the API server as one stream beside
   * everyone else's writes, as Kubernetes' controller manager (its client limited to
   * --kube-api-qps, 20 a second by default) sends them. In the envelope eight streams, one per
   * worker, took 7.8 ms a write at p50 (run 19), one stream 1.5 ms (run 20). A node whose write
   * fails otherwise than by a conflict or a pod gone is retried next pass.
   */
  private async markNotReady(marks: NotReadyMarks[]): Promise<void> {
    for (const { node, pods } of marks) {
      try {
        for (const queued of pods) {
          const pod = this.pods.get(`${queued.metadata.namespace}/${queued.metadata.name}`);
          if (pod === undefined || pod.metadata.uid !== queued.metadata.uid || !markable(pod)) continue;
          const status = structuredClone(pod.status ?? {});
          setPodCondition(status, { type: 'Ready', status: 'False', reason: 'NodeNotReady', message: `Node ${node} is not reachable` }, new Date(this.now()));
          try {
            await this.api.updatePodStatus({ ...pod, status });
          } catch (err) {
            if (!(isNotFound(err) || isConflict(err))) throw err;
          }
        }
      } catch (err) {
        this.log.warn('could not mark the pods of an unreachable node not ready; will retry', { node, error: err });
      }
    }
  }

  private async removeUnreachableTaint(node: Node): Promise<void> {
    const name = node.metadata.name ?? '';
    await this.api.setNodeTaints(name, node.metadata.resourceVersion ?? '', (node.spec?.taints ?? []).filter((t) => t.key !== unreachableTaintKey));
  }

  /**
   * Marks the node Unknown once its grace is over, and adds its pods to those to mark not ready
   * when it is unreachable; returns the node as it now is.
   */
  private async monitorNode(cached: Node, marks: NotReadyMarks[]): Promise<Node> {
    const name = cached.metadata.name ?? '';
    const now = this.now();
    const ready = readyCondition(cached);
    const renewed = this.leases.get(`${nodeLeaseNamespace}/${name}`)?.spec?.renewTime;
    const heartbeat = laterTime(ready?.lastHeartbeatTime ?? cached.metadata.creationTimestamp, renewed ?? undefined);
    let probe = this.probes.get(name);
    if (probe === undefined || probe.heartbeat !== heartbeat) {
      probe = { heartbeat, seenAt: now };
      this.probes.set(name, probe);
    }
    let node = cached;
    if (now - probe.seenAt > this.opts.gracePeriodMs && ready?.status !== 'Unknown') {
      node = await this.api.updateNodeStatus(markUnknown(cached, now));
      this.log.warn('node stopped posting status; marked Unknown', { node: name, lastHeartbeat: heartbeat });
    }
    const status = readyCondition(node)?.status;
    if (status === 'Unknown') await this.handleUnreachable(node, now, marks);
    else {
      this.queues.get(zoneOf(node))?.remove(name);
      if (status === 'True' && unreachableTaint(node) !== undefined) {
        await this.removeUnreachableTaint(node);
        this.log.info('node is Ready again; removed the unreachable taint', { node: name });
      }
    }
    return node;
  }

  /** Adds the node's pods to those to mark not ready; once it is tainted, evicts those whose time has come, else queues it for the taint. */
  private async handleUnreachable(node: Node, now: number, marks: NotReadyMarks[]): Promise<void> {
    const name = node.metadata.name ?? '';
    const taint = unreachableTaint(node);
    if (taint === undefined && !this.allDown) this.queueOf(zoneOf(node), now).add(name);
    const onNode = this.pods.byIndex(NODE_INDEX, name);
    const notReady = onNode.filter(markable);
    if (notReady.length > 0) marks.push({ node: name, pods: notReady });
    if (taint === undefined) return;
    const taintedAt = taint.timeAdded !== undefined ? Date.parse(taint.timeAdded) : now;
    const due = onNode.filter((p) => (Number.isNaN(taintedAt) ? now : taintedAt) + evictionDelayMs(p, this.opts.podEvictionTimeoutMs) <= now);
    // The node's agent is gone, so a graceful delete would wait forever for it to confirm the
    // containers stopped: as Kubernetes' pod garbage collector does for pods on unreachable
    // nodes, remove them from the API at once (grace 0) so that their controllers replace
    // them elsewhere. An agent that comes back removes the containers of pods that no longer exist.
    await mapLimited(due, 20, async (pod) => {
      try {
        await this.api.forceDeletePod(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '', pod.metadata.uid ?? '');
        this.log.info('evicted pod from unreachable node', { node: name, pod: `${pod.metadata.namespace}/${pod.metadata.name}` });
      } catch (err) {
        if (!(isNotFound(err) || isConflict(err))) throw err;
      }
    });
  }
}

/** A pod still to be marked not ready: neither going nor marked already. */
function markable(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp === undefined && pod.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'False';
}

/** The node with every condition (Ready at least) set to Unknown, heartbeats kept. */
export function markUnknown(node: Node, now: number): Node {
  const copy = structuredClone(node);
  const status = (copy.status ??= {});
  const conditions = (status.conditions ??= []);
  if (!conditions.some((c) => c.type === 'Ready')) conditions.push({ type: 'Ready', status: 'Unknown' });
  for (const c of conditions) {
    if (c.status !== 'Unknown') c.lastTransitionTime = rfc3339(new Date(now));
    c.status = 'Unknown';
    c.reason = nodeStatusUnknownReason;
    c.message = nodeStatusUnknownMessage;
  }
  return copy;
}

/** NodeLifecycleClient over the real API. */
export class ApiNodeLifecycleClient implements NodeLifecycleClient {
  constructor(private readonly client: Client) {}

  updateNodeStatus(node: Node): Promise<Node> {
    return this.client.updateStatus<Node>('nodes', node);
  }

  setNodeTaints(name: string, resourceVersion: string, taints: Taint[]): Promise<Node> {
    const patch = { metadata: { resourceVersion }, spec: { taints: taints.length > 0 ? taints : null } };
    return this.client.patch<Node>('nodes', name, patch, 'merge');
  }

  updatePodStatus(pod: Pod): Promise<Pod> {
    return this.client.updateStatus<Pod>('pods', pod);
  }

  async forceDeletePod(namespace: string, name: string, uid: string): Promise<void> {
    await this.client.delete('pods', name, { namespace, gracePeriodSeconds: 0, preconditions: { uid } });
  }
}
