// The scheduler and this controller manager as processes (started by @peapod/client's testing
// processes), and fake nodes that heartbeat through the API: what the benchmark and the
// integration tests run the controller manager against.

import { rfc3339 } from '@peapod/api';
import type { Node, Pod } from '@peapod/api';
import { Informer, createLogger, isConflict } from '@peapod/client';
import type { Client } from '@peapod/client';
import { startComponent } from '@peapod/client/testing';
import type { RunningProcess } from '@peapod/client/testing';

/** The scheduler, not waited for: pods get bound once it has synced. */
export function startScheduler(server: string, args: string[] = []): RunningProcess {
  return startComponent('scheduler', ['--server', server, ...args]);
}

/** Our own main.js; resolves once its informers have synced. */
export async function startControllerManager(server: string, args: string[] = []): Promise<RunningProcess> {
  const cm = startComponent('controller-manager', ['--server', server, '--log-level', 'info', ...args]);
  await cm.ready(/"msg":"started"/);
  return cm;
}

export interface FakeNodeOptions {
  pods?: number;
  cpu?: string;
  memory?: string;
  /** How often the fake agent posts its heartbeat. */
  heartbeatMs?: number;
}

/**
 * Node objects with a pretend agent behind them: created Ready, they heartbeat through the
 * status subresource until stopped, as a dead agent would. With `runPods`, the pretend agent
 * of a live node also reports its bound pods Running and Ready at once, and finishes their
 * graceful deletion at once (as an agent whose containers stop quickly).
 */
export class FakeNodes {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly pods: Informer<Pod> | undefined;

  constructor(
    private readonly client: Client,
    opts: { runPods?: boolean } = {},
  ) {
    if (opts.runPods) {
      this.pods = new Informer<Pod>(client, 'pods', { logger: createLogger('fake-nodes', { level: 'error' }) });
      const act = (pod: Pod): void => void this.actOn(pod).catch(() => undefined);
      this.pods.on('add', act).on('update', (_old, pod) => act(pod));
      this.pods.start();
    }
  }

  private async actOn(pod: Pod): Promise<void> {
    const node = pod.spec.nodeName;
    if (node === undefined || !this.timers.has(node)) return;
    const ns = pod.metadata.namespace;
    if (pod.metadata.deletionTimestamp !== undefined) {
      await this.client.delete('pods', pod.metadata.name ?? '', { namespace: ns, gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      return;
    }
    if (pod.status?.phase === 'Running') return;
    const now = rfc3339(new Date());
    const conditions = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True' as const, lastTransitionTime: now }));
    await this.client.updateStatus<Pod>('pods', { ...pod, status: { ...pod.status, phase: 'Running', startTime: now, hostIP: '127.0.0.1', conditions } });
  }

  async add(name: string, opts: FakeNodeOptions = {}): Promise<Node> {
    const allocatable = { cpu: opts.cpu ?? '64', memory: opts.memory ?? '256Gi', pods: String(opts.pods ?? 110) };
    const node = await this.client.create<Node>('nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      spec: {},
    });
    const now = rfc3339(new Date());
    node.status = {
      capacity: allocatable,
      allocatable,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake node', lastHeartbeatTime: now, lastTransitionTime: now }],
    };
    const ready = await this.client.updateStatus<Node>('nodes', node);
    this.timers.set(
      name,
      setInterval(() => void this.heartbeat(name).catch(() => undefined), opts.heartbeatMs ?? 1000),
    );
    return ready;
  }

  /** Posts Ready=True with a fresh heartbeat (what an agent does every few seconds). */
  async heartbeat(name: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const node = await this.client.get<Node>('nodes', name);
      const now = rfc3339(new Date());
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      const transition = ready?.status === 'True' ? ready.lastTransitionTime : now;
      node.status = {
        ...node.status,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake node', lastHeartbeatTime: now, lastTransitionTime: transition }],
      };
      try {
        await this.client.updateStatus('nodes', node);
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }

  /** The node's agent dies: no more heartbeats. */
  stopHeartbeat(name: string): void {
    clearInterval(this.timers.get(name));
    this.timers.delete(name);
  }

  /** The agent comes back. */
  resumeHeartbeat(name: string, heartbeatMs = 1000): void {
    this.stopHeartbeat(name);
    void this.heartbeat(name).catch(() => undefined);
    this.timers.set(
      name,
      setInterval(() => void this.heartbeat(name).catch(() => undefined), heartbeatMs),
    );
  }

  stopAll(): void {
    for (const name of [...this.timers.keys()]) this.stopHeartbeat(name);
    this.pods?.stop();
  }
}
