// The agent assembled: node registration, status and lease (the heartbeat), the informers on
// this node and its pods, one worker per pod and their probes (NodePods), the runtime relist
// (for runtimes that do not report their own changes), and the HTTP server (logs; exec,
// attach and port-forward where the runtime has them).
import type http from 'http';
import type { Node, NodeSpec, Pod } from '@peapod/api';
import { Informer } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { EventSink } from './events';
import { createLogServer, listen } from './log-server';
import { apiServerCallers } from './caller-auth';
import { NodeLeaseManager } from './node-lease';
import { NodePods, STATUS_RECONCILE_MS } from './node-pods';
import { attachStreamServer, isStreamRuntime } from './streaming/stream-server';
import { NodeStatusManager, hostCapacity } from './node-status';
import { Relister } from './relist';
import { ServiceCache } from './service-cache';
import type { ContainerRuntime } from './runtime';

export interface AgentOptions {
  client: Client;
  /** The node's status and lease go through this one (default: client), unthrottled, as the kubelet's heartbeat client. */
  heartbeatClient?: Client;
  /** Events go through this one (default: client), paced by eventQps alone, as the kubelet's event client. */
  eventClient?: Client;
  runtime: ContainerRuntime;
  log: Logger;
  nodeName: string;
  /** InternalIP of the node and the address the log server binds. */
  address: string;
  /** Log server port (0: any free port, reported in the node status). */
  port: number;
  allowPrivileged: boolean;
  infraImage: string;
  network: string;
  /** How often the node's Lease is renewed, and the node status checked for changes. */
  heartbeatIntervalMs: number;
  /** The longest time between two node status posts when nothing changed. */
  statusReportIntervalMs: number;
  backoffBaseMs: number;
  relistPeriodMs: number;
  /** How often mounted ConfigMaps and Secrets are read again. */
  volumeResyncMs?: number;
  cpu?: string;
  memory?: string;
  maxPods?: number;
  cgroupParent?: string;
  /** Spec fields of the Node this agent registers (the fake runtime's podCIDR). */
  nodeSpec?: NodeSpec;
  /** require log readers to be the API server (or admins), checked by TokenReview */
  authenticateCallers?: boolean;
  /** Event writes per second (0: no limit) and the burst beyond it (--event-qps, --event-burst). */
  eventQps: number;
  eventBurst: number;
}

export class Agent {
  private server?: http.Server;
  private streams?: { close(): void };
  private nodeStatus?: NodeStatusManager;
  private nodeLease?: NodeLeaseManager;
  private nodeInformer?: Informer<Node>;
  private informer?: Informer<Pod>;
  private relister?: Relister;
  private pods?: NodePods;
  private services?: ServiceCache;
  private reconcileTimer?: NodeJS.Timeout;

  constructor(private readonly opts: AgentOptions) {}

  /** The port the log server listens on (after start). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.opts.port;
  }

  /** Serves, registers the node (waiting for the API server if need be) and runs its pods; false when stopped before the node was registered. */
  async start(): Promise<boolean> {
    const { client, runtime, log, nodeName } = this.opts;
    const heartbeatClient = this.opts.heartbeatClient ?? client;
    const services = new ServiceCache(client, log);
    this.services = services;
    services.start();
    const pods = new NodePods({
      runtime,
      client,
      services,
      events: new EventSink(this.opts.eventClient ?? client, { log, qps: this.opts.eventQps, burst: this.opts.eventBurst }).recorder(nodeName),
      log,
      nodeName,
      hostIP: this.opts.address,
      allocatable: hostCapacity(this.opts),
      ...(this.opts.volumeResyncMs !== undefined ? { volumeResyncMs: this.opts.volumeResyncMs } : {}),
      infraImage: this.opts.infraImage,
      network: this.opts.network,
      allowPrivileged: this.opts.allowPrivileged,
      backoffBaseMs: this.opts.backoffBaseMs,
      ...(this.opts.cgroupParent !== undefined ? { cgroupParent: this.opts.cgroupParent } : {}),
    });
    this.pods = pods;

    const callers = this.opts.authenticateCallers ? { callers: apiServerCallers(client, log) } : {};
    this.server = await listen(
      createLogServer({ runtime, uidOf: (ns, name) => pods.syncer.uidOf(ns, name), log, ...callers }),
      this.opts.port,
      this.opts.address,
    );
    if (isStreamRuntime(runtime)) this.streams = attachStreamServer(this.server, { runtime, log, ...callers });

    // The Node as the server has it: the status is posted when it differs, and the lease names it as owner.
    const nodeInformer = new Informer<Node>(client, 'nodes', { fieldSelector: `metadata.name=${nodeName}`, logger: log });
    this.nodeInformer = nodeInformer;
    const currentNode = (): Node | undefined => nodeInformer.get(nodeName);
    this.nodeStatus = new NodeStatusManager({
      client: heartbeatClient,
      log,
      nodeName,
      address: this.opts.address,
      port: this.port,
      cpu: this.opts.cpu,
      memory: this.opts.memory,
      maxPods: this.opts.maxPods,
      statusUpdateIntervalMs: this.opts.heartbeatIntervalMs,
      statusReportIntervalMs: this.opts.statusReportIntervalMs,
      current: currentNode,
      runtimeVersion: () => runtime.version(),
      runtimeHealthy: () => runtime.healthy(),
      ...(this.opts.nodeSpec ? { spec: this.opts.nodeSpec } : {}),
    });
    const registered = await this.nodeStatus.registerUntilDone();
    if (registered === undefined) return false;
    nodeInformer.start();
    this.nodeStatus.start();
    this.nodeLease = new NodeLeaseManager({
      client: heartbeatClient,
      log,
      nodeName,
      renewIntervalMs: this.opts.heartbeatIntervalMs,
      node: () => currentNode() ?? registered,
    });
    this.nodeLease.start();

    // Without managedFields: nothing here reads them (status goes out as a patch).
    const informer = new Informer<Pod>(client, 'pods', { fieldSelector: `spec.nodeName=${nodeName}`, logger: log, dropManagedFields: true });
    this.informer = informer;
    informer.on('add', (pod) => pods.added(pod));
    informer.on('update', (oldPod, pod) => pods.updated(oldPod, pod));
    informer.on('delete', (pod) => pods.deleted(pod));
    informer.start();
    await informer.waitForSync();
    this.reconcileTimer = setInterval(() => pods.reconcile(), STATUS_RECONCILE_MS);

    // Only now that every pod of this node is known can containers of unknown pods be orphans.
    if (!runtime.watchChanges) {
      this.relister = new Relister(runtime, (uids) => pods.containersChanged(uids), log, this.opts.relistPeriodMs);
      this.relister.start();
    }
    log.info('agent started', { node: nodeName, port: this.port });
    return true;
  }

  /** Stops watching and serving; containers keep running (a restarted agent adopts them). */
  async stop(): Promise<void> {
    this.relister?.stop();
    clearInterval(this.reconcileTimer);
    this.informer?.stop();
    this.nodeStatus?.stop();
    this.nodeLease?.stop();
    this.nodeInformer?.stop();
    this.services?.stop();
    this.pods?.stop();
    this.streams?.close();
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
