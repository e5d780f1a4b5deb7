// Pod startup and deletion latency through the whole path (API → agent → Docker → status
// → watch), beside the same containers driven straight through the Docker API in the same run.
import { defaultTerminationGracePeriodSeconds } from '@peapod/api';
import { latencyFigures, type LatencyFigures } from '@peapod/api/bench';
import type { Pod } from '@peapod/api';
import { Client } from '@peapod/client';
import { BUSYBOX, INFRA, TestCluster, cooperative, makePod, shContainer } from '../testing/cluster';

export interface PodStartupBenchOptions {
  /** Pods to start and delete (default 20), one after another. */
  pods?: number;
  /** Grace period of the deletions (default: Kubernetes'; the container exits on TERM at once). */
  gracePeriodSeconds?: number;
}

export interface PodStartupBench {
  pods: number;
  /** Create → phase Running seen through a watch; baseline: create + start infra and app containers. */
  startup: LatencyFigures;
  /** Delete (default grace) → DELETED seen through a watch; baseline: `docker stop` app then infra. */
  deletion: LatencyFigures;
}


/** Waiters keyed by pod name, resolved from one watch on the node's pods. */
class PodWatcher {
  private readonly running = new Map<string, () => void>();
  private readonly deleted = new Map<string, () => void>();
  private readonly watch;

  constructor(client: Client, nodeName: string) {
    this.watch = client.watch<Pod>('pods', { namespace: 'default', fieldSelector: `spec.nodeName=${nodeName}` }, (event) => {
      const name = event.object.metadata.name ?? '';
      if (event.type === 'DELETED') this.deleted.get(name)?.();
      else if (event.object.status?.phase === 'Running') this.running.get(name)?.();
    });
  }

  untilRunning(name: string): Promise<void> {
    return new Promise((resolve) => this.running.set(name, resolve));
  }

  untilDeleted(name: string): Promise<void> {
    return new Promise((resolve) => this.deleted.set(name, resolve));
  }

  stop(): void {
    this.watch.stop();
  }
}

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Starts an API server and an agent (real processes, a Docker network of their own),
 * measures, removes everything, and returns the figures.
 */
export async function benchPodStartup(opts: PodStartupBenchOptions = {}): Promise<PodStartupBench> {
  const count = opts.pods ?? 20;
  const grace = opts.gracePeriodSeconds ?? defaultTerminationGracePeriodSeconds;
  const cluster = new TestCluster('bench');
  try {
    const client = await cluster.start();
    const node = cluster.node('bench');
    await cluster.startAgent(node);
    const watcher = new PodWatcher(client, node);
    const startup: number[] = [];
    const deletion: number[] = [];
    try {
      // Let the watch attach before the clock starts.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const names = Array.from({ length: count }, (_, i) => `bench-${i}`);
      for (const name of names) {
        const running = watcher.untilRunning(name);
        const start = process.hrtime.bigint();
        await client.create('pods', makePod(name, node, [shContainer('app', cooperative())], { terminationGracePeriodSeconds: grace }));
        await running;
        startup.push(elapsedMs(start));
      }
      for (const name of names) {
        const gone = watcher.untilDeleted(name);
        const start = process.hrtime.bigint();
        await client.delete('pods', name, { namespace: 'default', gracePeriodSeconds: grace });
        await gone;
        deletion.push(elapsedMs(start));
      }
    } finally {
      watcher.stop();
    }

    const baseStart: number[] = [];
    const baseStop: number[] = [];
    const labels = { 'peapod.managed': 'true', 'peapod.node': node, 'peapod.bench': 'baseline' };
    for (let i = 0; i < count; i++) {
      const start = process.hrtime.bigint();
      const infra = await cluster.docker.createContainer({
        Image: INFRA,
        Hostname: `baseline-${i}`,
        Labels: labels,
        HostConfig: { NetworkMode: cluster.network, IpcMode: 'shareable' },
      });
      await infra.start();
      const app = await cluster.docker.createContainer({
        Image: BUSYBOX,
        Entrypoint: ['sh', '-c', cooperative()],
        Labels: labels,
        HostConfig: { NetworkMode: `container:${infra.id}`, IpcMode: `container:${infra.id}` },
      });
      await app.start();
      baseStart.push(elapsedMs(start));
      const stop = process.hrtime.bigint();
      await app.stop({ t: grace });
      await infra.stop({ t: grace });
      baseStop.push(elapsedMs(stop));
      await app.remove({ force: true });
      await infra.remove({ force: true });
    }
    return { pods: count, startup: latencyFigures(startup, baseStart), deletion: latencyFigures(deletion, baseStop) };
  } finally {
    await cluster.cleanup();
  }
}
