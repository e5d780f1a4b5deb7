import os from 'os';
import { formatBytes, rfc3339 } from '@peapod/api';
import type { Node, NodeCondition, NodeStatus, NodeSystemInfo } from '@peapod/api';
import { isAlreadyExists, isNotFound } from '@peapod/client';
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
  heartbeatIntervalMs?: number;
  /** e.g. `docker://20.10.24`. */
  runtimeVersion: () => Promise<string>;
  /** Whether the container runtime answers; a node without one is not Ready. */
  runtimeHealthy: () => Promise<boolean>;
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

/** Registers the node and keeps its Ready condition fresh. */
export class NodeStatusManager {
  private timer: NodeJS.Timeout | undefined;
  private runtimeVersion = 'docker://unknown';
  private readyTransition: { status: NodeCondition['status']; at: string } | undefined;
  private beating = false;

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
      spec: {},
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

  private async writeStatus(status?: NodeStatus): Promise<Node> {
    return this.opts.client.patch<Node>('nodes', this.opts.nodeName, { status: status ?? (await this.status()) }, 'merge', {
      subresource: 'status',
    });
  }

  /** One heartbeat; a node deleted meanwhile is registered again. */
  async heartbeat(): Promise<void> {
    try {
      await this.writeStatus();
    } catch (err) {
      if (isNotFound(err)) {
        this.opts.log.warn('node object gone: registering again', { node: this.opts.nodeName });
        await this.register();
        return;
      }
      throw err;
    }
  }

  start(): void {
    const interval = this.opts.heartbeatIntervalMs ?? 10_000;
    const tick = (): void => {
      if (this.beating) return;
      this.beating = true;
      this.heartbeat()
        .catch((err: unknown) => this.opts.log.warn('heartbeat failed', { error: err }))
        .finally(() => {
          this.beating = false;
        });
    };
    this.timer = setInterval(tick, interval);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
