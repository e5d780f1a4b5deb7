// The cost of a service hop: a client pod sends HTTP requests to a backend pod through the
// service's cluster IP (the proxy's DNAT) and, at the same time from the same process, to the
// pod IP directly (the floor) and through a userspace TCP relay on the host (the mechanism
// the proxy does not use, for comparison): whatever else the machine is doing weighs on the
// three alike. Client and backend are Node.js in pods (the image scripts/node-image.sh
// names); each target gets `concurrency` requests in flight for `seconds`, `rounds` times,
// once with a new connection per request and once with keep-alive connections.

import { spawnSync } from 'child_process';
import net from 'net';
import path from 'path';
import type { Service } from '@peapod/api';
import type { BenchFigure } from '@peapod/api/bench';
import { ServiceCluster, waitFor } from '@peapod/client/testing';

export interface ProxyBenchOptions {
  log: (msg: string) => void;
  seconds?: number;
  concurrency?: number;
  rounds?: number;
}

interface Run {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const repoRoot = path.resolve(__dirname, '../../../..');

const backendScript = `require('http').createServer((req, res) => res.end('ok')).listen(80)`;

/** Runs in the client pod: TARGETS (comma-separated), SECONDS, CONCURRENCY, KEEPALIVE from the environment; prints one JSON line. */
const loadScript = `
const http = require('http');
const targets = process.env.TARGETS.split(',');
const [seconds, concurrency, keepAlive] = [Number(process.env.SECONDS), Number(process.env.CONCURRENCY), process.env.KEEPALIVE === '1'];
const until = Date.now() + seconds * 1000;
async function measure(target) {
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: concurrency }) : false;
  const latencies = [];
  let errors = 0;
  const one = () => new Promise((resolve) => {
    const start = process.hrtime.bigint();
    http.get(target, { agent }, (res) => {
      res.resume();
      res.on('end', () => { latencies.push(Number(process.hrtime.bigint() - start) / 1e6); resolve(); });
    }).on('error', () => { errors++; resolve(); });
  });
  const worker = async () => { while (Date.now() < until) await one(); };
  const began = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p / 100 * latencies.length) - 1))] || 0;
  return { requestsPerSecond: latencies.length / ((Date.now() - began) / 1000), p50Ms: at(50), p99Ms: at(99), errors };
}
Promise.all(targets.map(measure)).then((runs) => { console.log(JSON.stringify(runs)); process.exit(0); });
`;

/** A userspace TCP relay on the host: what a userspace proxy does for every connection. */
function startRelay(address: string, backend: { host: string; port: number }): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect(backend.port, backend.host);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  return new Promise((resolve) => server.listen(0, address, () => resolve(server)));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

export async function runProxyBench(opts: ProxyBenchOptions): Promise<BenchFigure[]> {
  const seconds = opts.seconds ?? 5;
  const concurrency = opts.concurrency ?? 8;
  const rounds = opts.rounds ?? 5;
  const image = spawnSync('bash', [path.join(repoRoot, 'scripts/node-image.sh')], { encoding: 'utf8' }).stdout.trim();
  if (!image) throw new Error('no Node.js image for the pods (scripts/node-image.sh printed nothing)');
  const cluster = new ServiceCluster('bench');
  let relay: net.Server | undefined;
  try {
    await cluster.start();
    const node = cluster.node('bench');
    await cluster.addNode(node);
    opts.log(`client and backend pods from ${image}`);
    const svc = await cluster.api.create<Service>('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'bench', namespace: 'default' },
      spec: { selector: { app: 'bench' }, ports: [{ port: 80 }] },
    });
    const [backend] = await Promise.all([
      cluster.runPod('backend', node, [{ name: 'backend', image, imagePullPolicy: 'IfNotPresent', command: ['node', '-e', backendScript] }], {}, { app: 'bench' }),
      cluster.runPod('client', node, [{ name: 'client', image, imagePullPolicy: 'IfNotPresent', command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'] }]),
    ]);
    relay = await startRelay(cluster.gateway, { host: backend.status!.podIP!, port: 80 });
    const targets = {
      direct: `http://${backend.status!.podIP}/`,
      clusterIP: `http://${svc.spec!.clusterIP}/`,
      relay: `http://${cluster.gateway}:${(relay.address() as net.AddressInfo).port}/`,
    };
    await waitFor('the cluster IP answering', async () => (await cluster.exec('client', 'client', `node -e "require('http').get('${targets.clusterIP}', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"`)).code === 0, 60_000, 500);

    const names = Object.keys(targets) as (keyof typeof targets)[];
    const load = async (keepAlive: boolean): Promise<Run[]> => {
      // The script travels base64-encoded: nothing in it needs quoting for the shell.
      const env = `TARGETS=${names.map((n) => targets[n]).join(',')} SECONDS=${seconds} CONCURRENCY=${concurrency} KEEPALIVE=${keepAlive ? 1 : 0} LOAD=${Buffer.from(loadScript).toString('base64')}`;
      const r = await cluster.exec('client', 'client', `${env} node -e "eval(Buffer.from(process.env.LOAD, 'base64').toString())"`, (seconds + 60) * 1000);
      return JSON.parse(r.out.trim().split('\n').pop() ?? '') as Run[];
    };
    const figures: BenchFigure[] = [];
    for (const keepAlive of [false, true]) {
      const runs: Record<keyof typeof targets, Run[]> = { direct: [], clusterIP: [], relay: [] };
      for (let i = 0; i < rounds; i++) {
        const round = await load(keepAlive);
        names.forEach((name, j) => runs[name].push(round[j]));
        opts.log(`${keepAlive ? 'keep-alive' : 'new connection each'}, round ${i + 1}: ${names.map((n, j) => `${n} ${Math.round(round[j].requestsPerSecond)} req/s p99 ${round[j].p99Ms.toFixed(1)} ms${round[j].errors ? ` ${round[j].errors} errors` : ''}`).join('; ')}`);
      }
      const rps = (name: keyof typeof targets) => median(runs[name].map((r) => r.requestsPerSecond));
      const p99 = (name: keyof typeof targets) => median(runs[name].map((r) => r.p99Ms));
      const how = keepAlive ? `keep-alive connections, ${concurrency} requests in flight per target` : `a new connection per request, ${concurrency} in flight per target`;
      const direct = 'the same client to the pod IP directly, at the same time';
      figures.push(
        { name: `requests/s through the cluster IP (${how})`, value: rps('clusterIP'), unit: 'req/s', baseline: rps('direct'), baselineName: direct, ratio: round(rps('clusterIP') / rps('direct')), goal: 'ratio >= 0.7' },
        { name: `p99 through the cluster IP (${how})`, value: p99('clusterIP'), unit: 'ms', baseline: p99('direct'), baselineName: direct, ratio: round(p99('clusterIP') / p99('direct')), goal: 'within 2 ms of direct' },
        { name: `requests/s through a userspace relay on the host (${how}; not used, for comparison)`, value: rps('relay'), unit: 'req/s', baseline: rps('direct'), baselineName: direct, ratio: round(rps('relay') / rps('direct')) },
        { name: `p99 through a userspace relay on the host (${how})`, value: p99('relay'), unit: 'ms', baseline: p99('direct'), baselineName: direct, ratio: round(p99('relay') / p99('direct')) },
      );
    }
    return figures;
  } finally {
    relay?.close();
    await cluster.cleanup();
  }
}
