// A control plane for integration tests: the real API server, scheduler and controller
// manager as processes, fake nodes, and a watcher that checks the replica invariant on every
// pod event.

import type { Pod, ReplicationController } from '@peapod/api';
import { Client, Informer, createLogger } from '@peapod/client';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';
export { waitFor } from '@peapod/client/testing';
import { FakeNodes, startControllerManager, startScheduler } from './processes';
import { isPodLive } from '../replication/controller';

export interface Cluster {
  api: RunningApiServer;
  client: Client;
  nodes: FakeNodes;
  controllerManager(): RunningProcess | undefined;
  startControllerManager(): Promise<void>;
  stopControllerManager(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(opts: { controllerManagerArgs?: string[]; runPods?: boolean; scheduler?: boolean } = {}): Promise<Cluster> {
  const api = await startApiServer();
  const client = new Client({ server: api.url });
  const scheduler = opts.scheduler === false ? undefined : startScheduler(api.url);
  const nodes = new FakeNodes(client, { runPods: opts.runPods ?? true });
  let cm: RunningProcess | undefined;
  const cluster: Cluster = {
    api,
    client,
    nodes,
    controllerManager: () => cm,
    async startControllerManager() {
      cm = await startControllerManager(api.url, opts.controllerManagerArgs ?? []);
    },
    async stopControllerManager(signal = 'SIGTERM') {
      await cm?.kill(signal);
      cm = undefined;
    },
    async stop() {
      nodes.stopAll();
      await cm?.kill('SIGKILL');
      await scheduler?.kill('SIGKILL');
      await api.stop('SIGKILL');
      client.close();
    },
  };
  return cluster;
}

export function rcManifest(name: string, replicas: number, extra: Partial<NonNullable<ReplicationController['spec']>> = {}): ReplicationController {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name },
    spec: {
      replicas,
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'app', image: 'peapod/busybox:latest', command: ['sleep', '3600'] }],
        },
      },
      ...extra,
    },
  };
}

/**
 * Watches the pods matching `app=<name>` and checks, on every event, that the live ones never
 * exceed the desired count. After a scale-down the old count bounds them until they have
 * come down to the new one; a pod appearing is always held to the current count.
 */
export class ReplicaInvariant {
  readonly violations: string[] = [];
  maxLive = 0;
  private desired: number;
  private ceiling: number;
  private readonly informer: Informer<Pod>;

  constructor(client: Client, app: string, desired: number, namespace = 'default') {
    this.desired = desired;
    this.ceiling = desired;
    this.informer = new Informer<Pod>(client, 'pods', { namespace, labelSelector: `app=${app}`, logger: createLogger('invariant', { level: 'error' }) });
    this.informer.on('add', (pod) => this.check('add', pod));
    this.informer.on('update', (_old, pod) => this.check('update', pod));
    this.informer.on('delete', (pod) => this.check('delete', pod));
    this.informer.start();
  }

  started(): Promise<void> {
    return this.informer.waitForSync();
  }

  live(): Pod[] {
    return this.informer.list().filter(isPodLive);
  }

  setDesired(n: number): void {
    if (n >= this.desired) this.ceiling = n;
    this.desired = n;
  }

  stop(): void {
    this.informer.stop();
  }

  private check(event: string, pod: Pod): void {
    const live = this.live().length;
    this.maxLive = Math.max(this.maxLive, live);
    if (live <= this.desired) this.ceiling = this.desired;
    const bound = event === 'add' && isPodLive(pod) ? this.desired : this.ceiling;
    if (live > bound) this.violations.push(`${event} ${pod.metadata.name}: ${live} live pods, at most ${bound} allowed`);
  }
}
