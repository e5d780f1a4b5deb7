import os from 'os';
import { formatBytes, rfc3339, sameJson } from '@peapod/api';
import type { Node, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo } from '@peapod/api';
import { isAlreadyExists, isInvalid, isNotFound } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';

export const AGENT_VERSION = 'v1.32.0-peapod';

export interface NodeStatusOptions {
  client: Client;
  log: Logger;
  nodeName: string;
  /** The node's InternalIP, where the API server reaches the agent's log server. */
  address: string;
  /** The port the agent's log server listens on. */
  port: number;
  /** Overrides of what the host reports. */
  cpu?: string;
  memory?: string;
  maxPods?: number;
  /** How often the status is computed and posted if it changed (the lease is the heartbeat in between). */
  statusUpdateIntervalMs: number;
  /** The longest time between two status posts when nothing changed. */
  statusReportIntervalMs: number;
  /** Draws the shift of the report deadline after a change (Math.random unless a test sets it). */
  random?: () => number;
  /** The Node as the API server has it now (an informer's copy), or undefined while unknown. */
  current: () => Node | undefined;
  /** e.g. `docker://20.10.24`. */
  runtimeVersion: () => Promise<string>;
  /** Whether the container runtime answers; a node without one is not Ready. */
  runtimeHealthy: () => Promise<boolean>;
  /** Spec fields the Node is created with (podCIDR). */
  spec?: NodeSpec;
}

export function hostCapacity(opts: Pick<NodeStatusOptions, 'cpu' | 'memory' | 'maxPods'>): Record<string, string> {
  return {
    cpu: opts.cpu ?? String(os.cpus().length || 1),
    memory: opts.memory ?? formatBytes(Math.floor(os.totalmem() / 1024) * 1024),
    pods: String(opts.maxPods ?? 110),
  };
}

function nodeInfo(runtimeVersion: string): NodeSystemInfo {
  return {
    machineID: '',
    systemUUID: '',
    bootID: '',
    kernelVersion: os.release(),
    osImage: `${os.type()} ${os.release()}`,
    containerRuntimeVersion: runtimeVersion,
    kubeletVersion: AGENT_VERSION,
    kubeProxyVersion: '',
    operatingSystem: os.platform(),
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
  };
}

/** The status without its heartbeat times: two of these differ only when something changed. */
function withoutHeartbeats(status: NodeStatus): NodeStatus {
  const conditions = status.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined }));
  return { ...status, conditions };
}

/** Whether the fields we post differ from what the server has (it may hold others, written by others). */
export function statusChanged(posted: NodeStatus | undefined, wanted: NodeStatus): boolean {
  if (posted === undefined) return true;
  const seen: Record<string, unknown> = {};
  for (const key of Object.keys(wanted)) seen[key] = (posted as Record<string, unknown>)[key];
  return !sameJson(withoutHeartbeats(seen as NodeStatus), withoutHeartbeats(wanted));
}

/**
 * Registers the node and posts its status when it changes (the node lifecycle controller
 * marking it Unknown is a change too), and at least every report interval, as the kubelet
 * does now that the lease carries the heartbeat. After the first post and each change the
 * next report comes up to half an interval earlier or later, drawn once per node (as the
 * kubelet since v1.33), so that nodes registered together do not all report together.
 */
export class NodeStatusManager {
  private timer: NodeJS.Timeout | undefined;
  private runtimeVersion = 'docker://unknown';
  private readyTransition: { status: NodeCondition['status']; at: string } | undefined;
  private checking = false;
  private lastPostedAt = 0;
  private reportShiftMs = 0;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(private readonly opts: NodeStatusOptions) {}

  private async readyCondition(now: string): Promise<NodeCondition> {
    const healthy = await this.opts.runtimeHealthy().catch(() => false);
    const status = healthy ? 'True' : 'False';
    if (this.readyTransition?.status !== status) this.readyTransition = { status, at: now };
    return healthy
      ? { type: 'Ready', status, reason: 'KubeletReady', message: 'peapod-agent is posting ready status', lastHeartbeatTime: now, lastTransitionTime: this.readyTransition.at }
      : { type: 'Ready', status, reason: 'ContainerRuntimeDown', message: 'container runtime is not answering', lastHeartbeatTime: now, lastTransitionTime: this.readyTransition.at };
  }

  async status(): Promise<NodeStatus> {
    const now = rfc3339(new Date());
    const capacity = hostCapacity(this.opts);
    return {
      capacity,
      allocatable: { ...capacity },
      conditions: [await this.readyCondition(now)],
      addresses: [
        { type: 'InternalIP', address: this.opts.address },
        { type: 'Hostname', address: this.opts.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.opts.port } },
      nodeInfo: nodeInfo(this.runtimeVersion),
    };
  }

  /** Creates the Node, or takes over an existing one of that name and refreshes its status. */
  async register(): Promise<Node> {
    this.runtimeVersion = await this.opts.runtimeVersion().catch(() => 'docker://unknown');
    const { client, nodeName } = this.opts;
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: nodeName,
        labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': nodeInfo('').architecture },
      },
      spec: { ...this.opts.spec },
      status: await this.status(),
    };
    try {
      await client.create<Node>('nodes', node);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await client.patch<Node>('nodes', nodeName, { metadata: { labels: node.metadata.labels } }, 'merge');
    }
    // A create may drop status (status is a subresource): write it explicitly either way.
    return this.writeStatus(node.status);
  }

  /**
   * Registers, and after a failure tries again until it succeeds or the manager is stopped
   * (undefined then), waiting 100 ms doubled each time up to 7 s, as the kubelet does: an
   * agent started before its API server, or while every server is down, waits for one. A
   * node the server finds invalid never will be, and that throws.
   */
  async registerUntilDone(): Promise<Node | undefined> {
    for (let waitMs = 100; !this.stopped; waitMs = Math.min(waitMs * 2, 7_000)) {
      try {
        return await this.register();
      } catch (err) {
        if (isInvalid(err)) throw err;
        if (this.stopped) break;
        this.opts.log.warn('node registration failed: trying again', { node: this.opts.nodeName, retryInMs: waitMs, error: err });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return undefined;
  }

  /** Posts the status; `changed` when it is news rather than the periodic report. */
  private async writeStatus(status?: NodeStatus, changed = true): Promise<Node> {
    const node = await this.opts.client.patch<Node>('nodes', this.opts.nodeName, { status: status ?? (await this.status()) }, 'merge', {
      subresource: 'status',
    });
    this.lastPostedAt = Date.now();
    this.reportShiftMs = changed ? ((this.opts.random ?? Math.random)() - 0.5) * this.opts.statusReportIntervalMs : 0;
    return node;
  }

  /**
   * Posts the status if it differs from the server's copy or the report interval has passed;
   * a node deleted meanwhile is registered again. Returns whether it posted.
   */
  async update(): Promise<boolean> {
    const status = await this.status();
    const current = this.opts.current();
    // Checks come an update interval apart: the one nearest the report deadline posts.
    const sincePost = Date.now() - this.lastPostedAt;
    const due = sincePost >= this.opts.statusReportIntervalMs + this.reportShiftMs - this.opts.statusUpdateIntervalMs / 2;
    const changed = current === undefined || statusChanged(current.status, status);
    if (!due && !changed) return false;
    try {
      await this.writeStatus(status, changed);
    } catch (err) {
      if (isNotFound(err)) {
        this.opts.log.warn('node object gone: registering again', { node: this.opts.nodeName });
        await this.register();
        return true;
      }
      throw err;
    }
    return true;
  }

  start(): void {
    const tick = (): void => {
      if (this.checking) return;
      this.checking = true;
      this.update()
        .catch((err: unknown) => this.opts.log.warn('node status update failed', { error: err }))
        .finally(() => {
          this.checking = false;
        });
    };
    this.timer = setInterval(tick, this.opts.statusUpdateIntervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    if (this.timer) clearInterval(this.timer);
  }
}
