// N hollow nodes in one process: each is the agent's own node code (NodeStatusManager for
// registration and status, NodeLeaseManager for its Lease, NodePods for its pods) over a
// FakeRuntime of its own, so each node has its own Node object, status, lease, pod IP range
// and pod workers. What would cost per node is shared instead, which is what lets thousands
// fit beside a control plane:
// - one pod informer (one list, one watch) for every node, its events handed to the pod's
//   node by spec.nodeName, instead of one watch per node; one node informer and one service
//   informer (the containers' service variables) likewise;
// - one heartbeat timer spreading every node's lease renewal (and status check) over the
//   interval, with enough renewals in flight for every node to beat within it (heartbeats.ts);
// - one timer reconciling every node's pod statuses (those another component changed, such as
//   the node lifecycle controller's NodeNotReady, get the agent's status back), a slice of the
//   nodes at a time;
// - one HTTP client with a bounded connection pool for the pods' work, and one for the nodes'
//   heartbeats (as the kubelet has a client of its own for them): a burst of pod events and
//   status writes queued for the connections must not hold a lease renewal back until the
//   node is declared dead;
// - one event sink (events.ts in the agent) for every node's events: its queue of 1,000 and a
//   few writes in flight (an eighth of the pods' connections, eventWriteShare), so events never
//   hold up the pods' status writes; the rate limit (--event-qps, --event-burst) and the spam
//   filter are each node's own, as each kubelet has them, so with thousands of nodes it is the
//   writes in flight and the queue that bound the process's events.
// Hollow nodes serve no container logs (there is nothing to read).

import type { Node, Pod } from '@peapod/api';
import { EventSink, FakeRuntime, NodeLeaseManager, NodePods, NodeStatusManager, STATUS_RECONCILE_MS, ServiceCache, formatCidr, hostCapacity, nthSubnet, parseCidr } from '@peapod/agent';
import type { EventCounts } from '@peapod/agent';
import { Informer } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { Heartbeats, heartbeatConcurrency } from './heartbeats';

export interface HollowOptions {
  client: Client;
  /** For registration, lease renewals and node status (see the file header), with a connection for each heartbeat in flight (heartbeatConcurrency) and one for the node informer's watch. */
  heartbeatClient: Client;
  log: Logger;
  nodes: number;
  /** Node i is called `${namePrefix}${i}`. */
  namePrefix: string;
  /** Node i's podCIDR is the i-th /24 of this range. */
  clusterCIDR: string;
  /** The InternalIP every hollow node reports. */
  address: string;
  /** The agent port every hollow node reports (nothing listens there). */
  port: number;
  /** How often each node's Lease is renewed and its status checked for changes. */
  heartbeatIntervalMs: number;
  /** The longest time between two status posts of a node when nothing changed. */
  statusReportIntervalMs: number;
  startDelayMs: number;
  /** null: containers ignore TERM. */
  termDelayMs: number | null;
  backoffBaseMs: number;
  allowPrivileged: boolean;
  cpu: string;
  memory: string;
  maxPods: number;
  /** Registrations in flight at once; default 32. */
  registerConcurrency?: number;
  /** Each node's event writes per second (0: no limit) and the burst beyond it. */
  eventQps: number;
  eventBurst: number;
  /** Event writes in flight at once, for every node together (eventWriteShare of the client's connections). */
  eventWrites: number;
}

/** Event writes in flight for a client with this many connections: an eighth of them. */
export function eventWriteShare(maxConnections: number): number {
  return Math.max(1, Math.floor(maxConnections / 8));
}

interface HollowNode {
  name: string;
  pods: NodePods;
  status: NodeStatusManager;
  lease: NodeLeaseManager;
}

const NODE_PREFIX_LENGTH = 24;
/** The status reconcile's period is cut into this many turns, each over its share of the nodes. */
const RECONCILE_SLICES = 10;

export class HollowNodes {
  private readonly nodes: HollowNode[] = [];
  private readonly byName = new Map<string, HollowNode>();
  private readonly informer: Informer<Pod>;
  private readonly nodeInformer: Informer<Node>;
  private readonly services: ServiceCache;
  private readonly heartbeats: Heartbeats;
  private readonly events: EventSink;
  private registered = 0;
  private reconcileTimer?: NodeJS.Timeout;

  constructor(private readonly opts: HollowOptions) {
    const range = parseCidr(opts.clusterCIDR);
    // The Nodes as the server has them: a status is posted when it differs, a lease names its Node as owner.
    this.nodeInformer = new Informer<Node>(opts.heartbeatClient, 'nodes', { logger: opts.log });
    this.services = new ServiceCache(opts.client, opts.log);
    this.events = new EventSink(opts.client, { log: opts.log, qps: opts.eventQps, burst: opts.eventBurst, inFlight: opts.eventWrites });
    for (let i = 0; i < opts.nodes; i++) {
      const name = `${opts.namePrefix}${i}`;
      const podCIDR = formatCidr(nthSubnet(range, NODE_PREFIX_LENGTH, i));
      const runtime = new FakeRuntime({ nodeName: name, podCIDR, startDelayMs: opts.startDelayMs, termDelayMs: opts.termDelayMs });
      const node: HollowNode = {
        name,
        pods: new NodePods({
          runtime,
          client: opts.client,
          services: this.services,
          events: this.events.recorder(name),
          log: opts.log,
          nodeName: name,
          hostIP: opts.address,
          allocatable: hostCapacity(opts),
          infraImage: 'peapod/pause:latest',
          network: 'fake',
          allowPrivileged: opts.allowPrivileged,
          backoffBaseMs: opts.backoffBaseMs,
        }),
        status: new NodeStatusManager({
          client: opts.heartbeatClient,
          log: opts.log,
          nodeName: name,
          address: opts.address,
          port: opts.port,
          cpu: opts.cpu,
          memory: opts.memory,
          maxPods: opts.maxPods,
          statusUpdateIntervalMs: opts.heartbeatIntervalMs,
          statusReportIntervalMs: opts.statusReportIntervalMs,
          current: () => this.nodeInformer.get(name),
          runtimeVersion: () => runtime.version(),
          runtimeHealthy: () => runtime.healthy(),
          spec: { podCIDR, podCIDRs: [podCIDR] },
        }),
        lease: new NodeLeaseManager({
          client: opts.heartbeatClient,
          log: opts.log,
          nodeName: name,
          renewIntervalMs: opts.heartbeatIntervalMs,
          node: () => this.nodeInformer.get(name),
        }),
      };
      this.nodes.push(node);
      this.byName.set(name, node);
    }
    // Every bound pod: those of other nodes are dropped on arrival (nodeOf finds no node). Kept
    // without managedFields, a third of a pod's JSON that no node reads (status goes out as a
    // patch), and with equal strings shared (condition types, images, each second's timestamps).
    this.informer = new Informer<Pod>(opts.client, 'pods', { fieldSelector: 'spec.nodeName!=', logger: opts.log, dropManagedFields: true, internStrings: true });
    this.informer.on('add', (pod) => this.nodeOf(pod)?.pods.added(pod));
    this.informer.on('update', (oldPod, pod) => {
      const before = this.nodeOf(oldPod);
      const after = this.nodeOf(pod);
      if (before && before !== after) before.pods.deleted(oldPod);
      if (after) {
        if (before === after) after.pods.updated(oldPod, pod);
        else after.pods.added(pod);
      }
    });
    this.informer.on('delete', (pod) => this.nodeOf(pod)?.pods.deleted(pod));
    this.heartbeats = new Heartbeats(
      () => this.registered,
      async (i) => {
        const node = this.nodes[i];
        await node.lease.renew();
        await node.status.update();
      },
      { intervalMs: opts.heartbeatIntervalMs, concurrency: heartbeatConcurrency(opts.nodes, opts.heartbeatIntervalMs), log: opts.log },
    );
  }

  /**
   * Registers every node (in index order, so heartbeats cover the registered ones, each
   * waiting for the API server as the agent does), then runs their pods; false when stopped
   * before all were registered.
   */
  async start(): Promise<boolean> {
    this.nodeInformer.start();
    await this.nodeInformer.waitForSync();
    this.heartbeats.start();
    const concurrency = this.opts.registerConcurrency ?? 32;
    let next = 0;
    const done = new Set<number>();
    const worker = async (): Promise<void> => {
      while (next < this.nodes.length) {
        const i = next++;
        if ((await this.nodes[i].status.registerUntilDone()) === undefined) return;
        done.add(i);
        while (done.has(this.registered)) done.delete(this.registered++);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, this.nodes.length) }, worker));
    if (this.registered < this.nodes.length) return false;
    this.opts.log.info('hollow nodes registered', { nodes: this.nodes.length });
    this.services.start();
    this.informer.start();
    await this.informer.waitForSync();
    // A tenth of the nodes each tenth of the period, each node still once a period: one pass
    // over every node's pods held the thread 0.4 to 0.8 s at 150,000 pods, every node's
    // heartbeats and pod starts waiting behind it.
    let slice = 0;
    this.reconcileTimer = setInterval(() => {
      for (let i = slice; i < this.nodes.length; i += RECONCILE_SLICES) this.nodes[i].pods.reconcile();
      slice = (slice + 1) % RECONCILE_SLICES;
    }, STATUS_RECONCILE_MS / RECONCILE_SLICES);
    return true;
  }

  /** Stops heartbeats and pod handling; the Node objects stay (a dead agent's do too). */
  async stop(): Promise<void> {
    clearInterval(this.reconcileTimer);
    this.informer.stop();
    this.nodeInformer.stop();
    this.services.stop();
    for (const node of this.nodes) {
      node.status.stop();
      node.pods.stop();
    }
    await this.heartbeats.stop();
  }

  /** What happened to the nodes' events so far (written, dropped, ...). */
  eventCounts(): EventCounts {
    return this.events.stats();
  }

  private nodeOf(pod: Pod): HollowNode | undefined {
    const name = pod.spec.nodeName;
    return name ? this.byName.get(name) : undefined;
  }
}
