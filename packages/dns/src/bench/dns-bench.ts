// Cluster DNS throughput and latency: peapod-dns (its own process, watching an API server
// that holds `services` services) answers A questions for random services, `concurrency` in
// flight over UDP for `seconds`; beside it, in the same run, a bare UDP responder that sends
// a ready-made answer (bare-responder.ts), the floor for a Node.js DNS server here.

import dgram from 'dgram';
import path from 'path';
import * as dnsPacket from 'dns-packet';
import type { Service } from '@peapod/api';
import { percentile, type BenchFigure } from '@peapod/api/bench';
import { Client } from '@peapod/client';
import { freePort, spawnNode, startApiServer, startComponent } from '@peapod/client/testing';

export interface DnsBenchOptions {
  log: (msg: string) => void;
  services?: number;
  seconds?: number;
  concurrency?: number;
}

interface LoadResult {
  queriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  unanswered: number;
}

/** Keeps `concurrency` queries in flight on one socket for `seconds`; each answer sends the next. */
function load(port: number, names: string[], seconds: number, concurrency: number): Promise<LoadResult> {
  const queries = names.map((name) => dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] }));
  const socket = dgram.createSocket('udp4');
  const sent = new Map<number, bigint>();
  const latencies: number[] = [];
  let nextId = 0;
  let stopping = false;
  const send = () => {
    const id = nextId;
    nextId = (nextId + 1) & 0xffff;
    const query = Buffer.from(queries[Math.floor(Math.random() * queries.length)]);
    query.writeUInt16BE(id, 0);
    sent.set(id, process.hrtime.bigint());
    socket.send(query, port, '127.0.0.1');
  };
  return new Promise((resolve) => {
    socket.on('message', (msg) => {
      const started = sent.get(msg.readUInt16BE(0));
      if (started === undefined) return;
      sent.delete(msg.readUInt16BE(0));
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (!stopping) send();
    });
    const began = Date.now();
    socket.bind(0, '127.0.0.1', () => {
      for (let i = 0; i < concurrency; i++) send();
    });
    setTimeout(() => {
      stopping = true;
      const elapsed = (Date.now() - began) / 1000;
      // Let the last answers arrive before counting what never did.
      setTimeout(() => {
        socket.close();
        resolve({ queriesPerSecond: latencies.length / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), unanswered: sent.size });
      }, 500);
    }, seconds * 1000);
  });
}

export async function runDnsBench(opts: DnsBenchOptions): Promise<BenchFigure[]> {
  const count = opts.services ?? 1000;
  const seconds = opts.seconds ?? 5;
  const concurrency = opts.concurrency ?? 32;
  const server = await startApiServer({ timeoutMs: 20_000 });
  const client = new Client({ server: server.url });
  const children = [];
  try {
    opts.log(`creating ${count} services`);
    const names: string[] = [];
    for (let i = 0; i < count; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, count - i) }, (_, j) =>
          client.create<Service>('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i + j}`, namespace: 'default' }, spec: { ports: [{ port: 80 }] } }),
        ),
      );
      for (let j = i; j < Math.min(i + 20, count); j++) names.push(`svc-${j}.default.svc.cluster.local`);
    }
    // Nothing is forwarded here: the upstream is a loopback port where nothing listens.
    const dns = startComponent('dns', ['--server', server.url, '--address', '127.0.0.1', '--port', '0', '--no-register', '--upstream', `127.0.0.1:${await freePort()}`, '--log-level', 'info']);
    children.push(dns);
    const dnsPort = Number((await dns.ready(/"msg":"serving".*"address":"127\.0\.0\.1:(\d+)"/, 30_000))[1]);
    const bare = spawnNode(path.join(__dirname, 'bare-responder.js'), ['10.96.0.1']);
    children.push(bare);
    const barePort = Number((await bare.ready(/"port":(\d+)/, 10_000))[1]);

    // Warm both up, then measure them one after the other, twice, keeping the better run of each.
    await load(dnsPort, names, 1, concurrency);
    await load(barePort, names, 1, concurrency);
    const ours: LoadResult[] = [];
    const floor: LoadResult[] = [];
    for (let round = 0; round < 2; round++) {
      ours.push(await load(dnsPort, names, seconds, concurrency));
      floor.push(await load(barePort, names, seconds, concurrency));
      opts.log(`round ${round + 1}: peapod-dns ${Math.round(ours[round].queriesPerSecond)} q/s p99 ${ours[round].p99Ms.toFixed(2)} ms; bare responder ${Math.round(floor[round].queriesPerSecond)} q/s p99 ${floor[round].p99Ms.toFixed(2)} ms`);
    }
    const best = (runs: LoadResult[]) => runs.reduce((a, b) => (b.queriesPerSecond > a.queriesPerSecond ? b : a));
    const [o, f] = [best(ours), best(floor)];
    const baselineName = 'a bare UDP responder sending a ready-made answer';
    const round2 = (n: number) => Math.round(n * 100) / 100;
    return [
      { name: `DNS queries/s, A for one of ${count} services, ${concurrency} in flight`, value: o.queriesPerSecond, unit: 'q/s', baseline: f.queriesPerSecond, baselineName, ratio: round2(o.queriesPerSecond / f.queriesPerSecond) },
      { name: 'DNS query p50', value: o.p50Ms, unit: 'ms', baseline: f.p50Ms, baselineName, ratio: round2(o.p50Ms / Math.max(f.p50Ms, 0.01)) },
      { name: 'DNS query p99', value: o.p99Ms, unit: 'ms', baseline: f.p99Ms, baselineName, ratio: round2(o.p99Ms / Math.max(f.p99Ms, 0.01)), goal: `${o.unanswered} unanswered` },
    ];
  } finally {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    client.close();
    await server.stop('SIGKILL');
  }
}
