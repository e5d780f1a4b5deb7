// `npm run bench` section for the endpoints controllers: 1,000 services and 10,000 pods on fake
// nodes (no runtime; the bench writes the pods' status as an agent would). Measured, for 100
// pods one after another: from the request that sets a pod's deletionTimestamp to the moment a
// watch sees the pod gone from its service's Endpoints; and from the request that makes a pod
// Ready to the moment a watch sees it in the Endpoints' addresses. The baseline, in the same
// run, is the same request seen by a watch on the pods themselves: the API round trip the
// controller cannot beat.

import type { Endpoints, Pod, Service } from '@peapod/api';
import { latencyFigures, type LatencyFigures } from '@peapod/api/bench';
import { Client, Informer, createLogger } from '@peapod/client';
import { startApiServer, unlimitedRate } from '@peapod/client/testing';
import type { RunningProcess } from '@peapod/client/testing';
import { mapLimited } from '../cache';
import { FakeNodes, startControllerManager } from '../testing/processes';
import { runPod, setPodReady } from '../testing/fake-pods';

export interface EndpointsBenchOptions {
  services?: number;
  podsPerService?: number;
  /** Pods measured, one after another (default 100). */
  samples?: number;
  log?: (msg: string) => void;
}

export interface EndpointsBench {
  services: number;
  pods: number;
  /** deletionTimestamp set → gone from the Endpoints; baseline: → seen terminating by a pods watch */
  removal: LatencyFigures;
  /** Ready → in the Endpoints' addresses; baseline: → seen ready by a pods watch */
  appearance: LatencyFigures;
}

const nodeCount = 20;

function podIP(n: number): string {
  return `10.${100 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

function readyIPs(ep: Endpoints | undefined): Set<string> {
  return new Set((ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)));
}

/** Resolves, with the time it happened, when a check over the caches first holds after an event. */
class Waiters {
  private readonly waiting = new Set<{ check: () => boolean; done: (at: bigint) => void }>();

  constructor(...caches: Informer<never>[]) {
    const poke = (): void => {
      const at = process.hrtime.bigint();
      for (const w of this.waiting) {
        if (!w.check()) continue;
        this.waiting.delete(w);
        w.done(at);
      }
    };
    for (const c of caches) c.on('add', poke).on('update', poke).on('delete', poke);
  }

  until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<bigint> {
    if (check()) return Promise.resolve(process.hrtime.bigint());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(w);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const w = {
        check,
        done: (at: bigint) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      this.waiting.add(w);
    });
  }
}

function ms(from: bigint, to: bigint): number {
  return Number(to - from) / 1e6;
}

export async function runEndpointsBench(opts: EndpointsBenchOptions = {}): Promise<EndpointsBench> {
  const serviceCount = opts.services ?? 1000;
  const perService = opts.podsPerService ?? 10;
  const samples = Math.min(opts.samples ?? 100, serviceCount);
  const log = opts.log ?? (() => undefined);
  const api = await startApiServer();
  const client = new Client({ server: api.url });
  const nodes = new FakeNodes(client);
  const quiet = createLogger('bench', { level: 'error' });
  const pods = new Informer<Pod>(client, 'pods', { namespace: 'default', logger: quiet });
  const endpoints = new Informer<Endpoints>(client, 'endpoints', { namespace: 'default', logger: quiet });
  const waiters = new Waiters(pods as Informer<never>, endpoints as Informer<never>);
  let cm: RunningProcess | undefined;
  try {
    for (let i = 0; i < nodeCount; i++) await nodes.add(`fake-${i}`, { pods: 1000, heartbeatMs: 5000 });
    log(`${serviceCount} services`);
    const created = await mapLimited(Array.from({ length: serviceCount }, (_, i) => i), 50, (i) =>
      client.create<Service>('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}` }, spec: { selector: { app: `svc-${i}` }, ports: [{ port: 80, targetPort: 8080 }] } }),
    );
    const failed = created.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    log(`${serviceCount * perService} pods, running and ready on ${nodeCount} fake nodes`);
    const total = serviceCount * perService;
    const made = await mapLimited(Array.from({ length: total }, (_, n) => n), 50, (n) =>
      runPod(client, { name: `pod-${n}`, labels: { app: `svc-${n % serviceCount}` }, node: `fake-${n % nodeCount}`, ip: podIP(n) }),
    );
    const madeFailed = made.find((r) => r.status === 'rejected');
    if (madeFailed) throw (madeFailed as PromiseRejectedResult).reason;

    pods.start();
    endpoints.start();
    await Promise.all([pods.waitForSync(), endpoints.waitForSync()]);
    cm = await startControllerManager(api.url, ['--node-monitor-grace-period', '10m', ...unlimitedRate]);
    log('waiting for every service to have its endpoints');
    const complete = (): boolean => {
      let n = 0;
      for (const ep of endpoints.list()) if (ep.metadata.name?.startsWith('svc-') && readyIPs(ep).size === perService) n++;
      return n === serviceCount;
    };
    await waiters.until('all endpoints', complete, 300_000);

    // Each sample is the first pod of a different service: one service, one change at a time.
    const sample = Array.from({ length: samples }, (_, i) => i * Math.floor(serviceCount / samples));
    const endpointsOf = (n: number) => endpoints.get(`default/svc-${n % serviceCount}`);

    log(`readiness: ${samples} pods made not ready, then ready again one by one`);
    await mapLimited(sample, 20, (n) => setPodReady(client, `pod-${n}`, false));
    await waiters.until('not ready out of the addresses', () => sample.every((n) => !readyIPs(endpointsOf(n)).has(podIP(n))), 60_000);
    const appearance: number[] = [];
    const appearanceBase: number[] = [];
    for (const n of sample) {
      const name = `default/pod-${n}`;
      const t0 = process.hrtime.bigint();
      const seen = waiters.until(`pod-${n} ready in the pods watch`, () => pods.get(name)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true);
      const listed = waiters.until(`pod-${n} in the addresses`, () => readyIPs(endpointsOf(n)).has(podIP(n)));
      await setPodReady(client, `pod-${n}`, true);
      appearanceBase.push(ms(t0, await seen));
      appearance.push(ms(t0, await listed));
    }

    log(`deletion: ${samples} pods deleted (grace 300 s, kept terminating) one by one`);
    const removal: number[] = [];
    const removalBase: number[] = [];
    for (const n of sample) {
      const name = `default/pod-${n}`;
      const t0 = process.hrtime.bigint();
      const seen = waiters.until(`pod-${n} terminating in the pods watch`, () => pods.get(name)?.metadata.deletionTimestamp !== undefined);
      const gone = waiters.until(`pod-${n} out of the Endpoints`, () => !readyIPs(endpointsOf(n)).has(podIP(n)));
      await client.delete('pods', `pod-${n}`, { namespace: 'default', gracePeriodSeconds: 300 });
      removalBase.push(ms(t0, await seen));
      removal.push(ms(t0, await gone));
    }
    return { services: serviceCount, pods: total, removal: latencyFigures(removal, removalBase), appearance: latencyFigures(appearance, appearanceBase) };
  } finally {
    pods.stop();
    endpoints.stop();
    nodes.stopAll();
    await cm?.kill('SIGKILL');
    await api.stop('SIGKILL');
    client.close();
  }
}
