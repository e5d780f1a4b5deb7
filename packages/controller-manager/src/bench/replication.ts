// `npm run bench` section for the controller manager: a replication controller scaled from 0
// to 1,000 replicas on fake nodes (no container runtime; the real scheduler binds the pods).
// Figures: the time until status.replicas reaches 1,000, beside the time one client takes to
// create as many pods itself on the same server; and the most live pods the controller ever
// owned at once, beside the desired count (anything above is overshoot).

import type { Pod, ReplicationController } from '@peapod/api';
import type { BenchFigure } from '@peapod/api/bench';
import { Client, Informer, createLogger } from '@peapod/client';
import { mapLimited } from '../cache';
import { startApiServer, unlimitedRate } from '@peapod/client/testing';
import type { RunningProcess } from '@peapod/client/testing';
import { FakeNodes, startControllerManager, startScheduler } from '../testing/processes';
import { isPodLive } from '../replication/controller';


export interface BenchOptions {
  replicas?: number;
  log?: (msg: string) => void;
}

const podsPerNode = 110;
const baselineConcurrency = 50;

function podManifest(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `baseline-${i}`, labels: { app: 'baseline' } },
    spec: { containers: [{ name: 'app', image: 'peapod/busybox:latest', command: ['sleep', '3600'] }] },
  };
}

function rcManifest(replicas: number): ReplicationController {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'bench' },
    spec: {
      replicas,
      template: {
        metadata: { labels: { app: 'bench' } },
        spec: { containers: [{ name: 'app', image: 'peapod/busybox:latest', command: ['sleep', '3600'] }] },
      },
    },
  };
}

function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const timer = setInterval(() => {
      if (check()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 10);
  });
}

export async function runControllerManagerBench(opts: BenchOptions = {}): Promise<BenchFigure[]> {
  const replicas = opts.replicas ?? 1000;
  const log = opts.log ?? (() => undefined);
  const api = await startApiServer();
  const client = new Client({ server: api.url });
  const nodes = new FakeNodes(client);
  const procs: RunningProcess[] = [];
  const quiet = createLogger('bench', { level: 'error' });
  const pods = new Informer<Pod>(client, 'pods', { namespace: 'default', logger: quiet });
  const rcs = new Informer<ReplicationController>(client, 'replicationcontrollers', { namespace: 'default', logger: quiet });
  try {
    procs.push(startScheduler(api.url, unlimitedRate));
    // Room for the baseline's pods and the controller's, heartbeating slowly; a long grace
    // keeps the node lifecycle controller out of the measurement.
    const nodeCount = Math.ceil((2 * replicas) / podsPerNode) + 1;
    for (let i = 0; i < nodeCount; i++) await nodes.add(`fake-${i}`, { pods: podsPerNode, heartbeatMs: 5000 });
    log(`${nodeCount} fake nodes`);

    let maxLive = 0;
    let rcUid = '';
    const countLive = (): void => {
      let live = 0;
      for (const p of pods.list()) if (p.metadata.ownerReferences?.some((r) => r.uid === rcUid) && isPodLive(p)) live++;
      maxLive = Math.max(maxLive, live);
    };
    pods.on('add', countLive).on('update', countLive).on('delete', countLive);
    pods.start();
    rcs.start();
    await Promise.all([pods.waitForSync(), rcs.waitForSync()]);

    log(`baseline: one client creates ${replicas} pods, ${baselineConcurrency} at a time`);
    const baselineStart = process.hrtime.bigint();
    const created = await mapLimited(Array.from({ length: replicas }, (_, i) => i), baselineConcurrency, (i) => client.create('pods', podManifest(i)));
    const baselineSeconds = Number(process.hrtime.bigint() - baselineStart) / 1e9;
    const failed = created.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;

    procs.push(await startControllerManager(api.url, ['--node-monitor-grace-period', '10m', ...unlimitedRate]));
    const rc = await client.create<ReplicationController>('replicationcontrollers', rcManifest(0));
    rcUid = rc.metadata.uid ?? '';
    log(`scaling the controller from 0 to ${replicas}`);
    const start = process.hrtime.bigint();
    await client.patch('replicationcontrollers', 'bench', { spec: { replicas } }, 'merge', { namespace: 'default', subresource: 'scale' });
    await waitUntil('status.replicas', () => rcs.get('default/bench')?.status?.replicas === replicas, 300_000);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const owned = (): Pod[] => pods.list().filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === rcUid));
    await waitUntil('every pod bound', () => owned().filter((p) => p.spec.nodeName).length === replicas, 300_000);
    const boundSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    // Let any late creation show up before the count is final.
    await new Promise((r) => setTimeout(r, 1000));
    countLive();
    return [
      {
        name: `rc 0→${replicas}: time until status.replicas = ${replicas}`,
        value: seconds,
        unit: 's',
        baseline: baselineSeconds,
        baselineName: `one client creating ${replicas} pods`,
        ratio: seconds / baselineSeconds,
      },
      {
        name: `rc 0→${replicas}: time until every pod is bound`,
        value: boundSeconds,
        unit: 's',
        baseline: baselineSeconds,
        baselineName: `one client creating ${replicas} pods`,
        ratio: boundSeconds / baselineSeconds,
      },
      {
        name: 'most live pods owned by the controller at once',
        value: maxLive,
        unit: 'pods',
        baseline: replicas,
        baselineName: 'desired replicas',
        ratio: maxLive / replicas,
        goal: 'must be 1.00 (no overshoot)',
      },
    ];
  } finally {
    pods.stop();
    rcs.stop();
    nodes.stopAll();
    for (const p of procs.reverse()) await p.kill('SIGKILL');
    await api.stop('SIGKILL');
    client.close();
  }
}
