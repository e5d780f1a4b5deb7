// Heartbeats keep up when the API server is slow: hundreds of nodes, each beating within its
// interval although every answer takes 150 ms, through a client whose sockets match the
// heartbeats in flight (as peapod-hollow wires it).
import http from 'http';
import type { AddressInfo } from 'net';
import { Client, createLogger } from '@peapod/client';
import { sleep } from '@peapod/client/testing';
import { Heartbeats, heartbeatConcurrency } from './heartbeats';

jest.setTimeout(60_000);

describe('heartbeatConcurrency', () => {
  it('follows the node count and the interval: their rate times the latency budget, one per node at most', () => {
    expect(heartbeatConcurrency(5000, 10_000)).toBe(500);
    expect(heartbeatConcurrency(2000, 1000)).toBe(2000);
    expect(heartbeatConcurrency(2000, 1000, 150)).toBe(300);
    expect(heartbeatConcurrency(100, 10_000)).toBe(16);
    expect(heartbeatConcurrency(5, 1000)).toBe(5);
  });
});

describe('Heartbeats against a slow server', () => {
  // Enough that a fixed window falls far behind, few enough for a loaded 2-core machine to send them.
  const NODES = 500;
  const INTERVAL_MS = 1000;
  const ANSWER_MS = 150;
  let server: http.Server;
  let client: Client;
  let heartbeats: Heartbeats | undefined;
  /** When the server got each node's beats. */
  const beats = new Map<number, number[]>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const node = Number(req.url?.split('/').pop());
      const at = Date.now();
      req.resume();
      req.on('end', () => {
        const list = beats.get(node) ?? [];
        list.push(at);
        beats.set(node, list);
        setTimeout(() => res.end('{}'), ANSWER_MS);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const concurrency = heartbeatConcurrency(NODES, INTERVAL_MS);
    client = new Client({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxSockets: concurrency });
  });

  afterAll(async () => {
    await heartbeats?.stop();
    client?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('every node keeps beating about once per interval, none queued behind the others', async () => {
    const log = createLogger('test', { level: 'error' });
    heartbeats = new Heartbeats(
      () => NODES,
      async (i) => {
        const res = await client.request('PUT', `/beat/${i}`, {});
        if (res.status !== 200) throw new Error(`beat answered ${res.status}`);
      },
      { intervalMs: INTERVAL_MS, concurrency: heartbeatConcurrency(NODES, INTERVAL_MS), log },
    );
    const started = Date.now();
    heartbeats.start();
    await sleep(6 * INTERVAL_MS);
    await heartbeats.stop();
    heartbeats = undefined;
    // The first interval opens the spread: from then on every node has beaten and keeps beating.
    const settled = started + 2 * INTERVAL_MS;
    const gaps: number[] = [];
    for (let i = 0; i < NODES; i++) {
      const times = beats.get(i) ?? [];
      expect(times.length).toBeGreaterThanOrEqual(3);
      const later = times.filter((t) => t >= settled);
      for (let k = 1; k < later.length; k++) gaps.push(later[k] - later[k - 1]);
    }
    gaps.sort((a, b) => a - b);
    const p99 = gaps[Math.floor(gaps.length * 0.99)];
    // A fixed window of 16 managed about 100 beats a second here: one beat per node in 5 s.
    // The bounds leave a busy machine's slack, well inside the 4 intervals after which a lease lapses.
    expect(p99).toBeLessThan(2 * INTERVAL_MS);
    expect(gaps[gaps.length - 1]).toBeLessThan(3 * INTERVAL_MS);
  });
});
