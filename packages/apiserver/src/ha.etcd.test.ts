// Two API servers on one three-member etcd cluster: concurrent writers through both, and
// etcd members killed under them. Runs in the etcd jest project (it starts its own cluster).
import crypto from 'crypto';
import { createApiServer, ApiServer } from './server';
import { call, podManifest } from './testing/http';
import { watchHttp, Collected } from './testing/watch';
import { EtcdCluster, hasEtcd, startEtcdCluster } from './testing/etcd-cluster';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const requestTimeoutMs = 5_000;

const maybe = hasEtcd() ? describe : describe.skip;

maybe('two API servers on one etcd cluster', () => {
  let cluster: EtcdCluster;
  const servers: { api: ApiServer; base: string }[] = [];
  const watches: Collected[] = [];
  jest.setTimeout(180_000);

  beforeAll(async () => {
    cluster = await startEtcdCluster(3);
    const prefix = `/registry-ha-${crypto.randomUUID()}`;
    for (let i = 0; i < 2; i++) {
      const api = createApiServer({ dataDir: ':memory:', allowPrivileged: true, logger: quiet, etcd: { servers: cluster.endpoints, prefix, requestTimeoutMs } });
      servers.push({ api, base: `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}` });
    }
  });

  afterEach(() => {
    for (const w of watches.splice(0)) w.close();
  });

  afterAll(async () => {
    for (const s of servers) await s.api.close();
    await cluster?.stop();
  });

  /** Runs tasks with at most `width` in flight. */
  async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
    const results: T[] = new Array(tasks.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < tasks.length) {
          const i = next++;
          results[i] = await tasks[i]();
        }
      }),
    );
    return results;
  }

  test('1,000 concurrent read-modify-writes through both servers to ten objects lose no update, and each server\'s watch sees every change once, in order', async () => {
    const [a, b] = servers;
    const cms = '/api/v1/namespaces/default/configmaps';
    for (let i = 0; i < 10; i++) {
      expect((await call(a.base, 'POST', cms, { metadata: { name: `counter-${i}`, annotations: { count: '0' } } })).status).toBe(201);
    }
    const rv = (await call(b.base, 'GET', cms)).body.metadata.resourceVersion;
    const onA = await watchHttp(a.base, `${cms}?watch=true&resourceVersion=${rv}`);
    const onB = await watchHttp(b.base, `${cms}?watch=true&resourceVersion=${rv}`);
    watches.push(onA, onB);
    let conflicts = 0;
    const increment = (i: number) => async () => {
      const base = servers[i % 2].base;
      const path = `${cms}/counter-${i % 10}`;
      for (;;) {
        const current = (await call(base, 'GET', path)).body;
        current.metadata.annotations.count = String(Number(current.metadata.annotations.count) + 1);
        const put = await call(base, 'PUT', path, current);
        if (put.status === 200) return;
        expect(put.status).toBe(409);
        conflicts++;
      }
    };
    await pool(Array.from({ length: 1000 }, (_, i) => increment(i)), 64);
    for (let i = 0; i < 10; i++) {
      for (const s of servers) expect((await call(s.base, 'GET', `${cms}/counter-${i}`)).body.metadata.annotations.count).toBe('100');
    }
    expect(conflicts).toBeGreaterThan(0);
    for (const w of [onA, onB]) {
      await w.waitFor(1000, 60_000);
      expect(w.events).toHaveLength(1000);
      const revisions = w.events.map((e) => Number(e.object.metadata.resourceVersion));
      expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
      expect(new Set(revisions).size).toBe(1000);
      for (let i = 0; i < 10; i++) {
        const counts = w.events.filter((e) => e.object.metadata.name === `counter-${i}`).map((e) => Number(e.object.metadata.annotations.count));
        expect(counts).toEqual(Array.from({ length: 100 }, (_, n) => n + 1));
      }
    }
  });

  test('a pod bound through both servers at once is bound once', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    const names = Array.from({ length: 40 }, (_, i) => `race-${i}`);
    for (const n of names) expect((await call(servers[0].base, 'POST', pods, podManifest(n))).status).toBe(201);
    const outcomes = await Promise.all(
      names.map(async (n) => {
        const [x, y] = await Promise.all(servers.map((s, i) => call(s.base, 'POST', `${pods}/${n}/binding`, { target: { name: `node-${i}` } })));
        return { n, statuses: [x.status, y.status].sort() };
      }),
    );
    for (const o of outcomes) expect(o.statuses).toEqual([201, 409]);
    for (const n of names) {
      const pod = (await call(servers[1].base, 'GET', `${pods}/${n}`)).body;
      expect(['node-0', 'node-1']).toContain(pod.spec.nodeName);
    }
  });

  test('a member killed during a write burst loses no acknowledged write; with two down writes fail within the timeout; members back, both servers recover', async () => {
    const cms = '/api/v1/namespaces/default/configmaps';
    const acknowledged: string[] = [];
    const burst = Array.from({ length: 300 }, (_, i) => async () => {
      const r = await call(servers[i % 2].base, 'POST', cms, { metadata: { name: `burst-${i}` } });
      if (r.status === 201) acknowledged.push(`burst-${i}`);
      else expect(r.status).toBeGreaterThanOrEqual(500);
      if (i === 100) await cluster.kill(0);
    });
    await pool(burst, 16);
    // Writes fail (5xx, nothing half-written) while the members elect a new leader, if the killed one led.
    expect(acknowledged.length).toBeGreaterThan(100);
    await everyServerWrites('one-down', 60_000);
    for (const s of servers) {
      const names = new Set((await call(s.base, 'GET', cms)).body.items.map((o: { metadata: { name: string } }) => o.metadata.name));
      for (const n of acknowledged) expect(names.has(n)).toBe(true);
    }

    await cluster.kill(1);
    const started = Date.now();
    const refused = await call(servers[0].base, 'POST', cms, { metadata: { name: 'no-quorum' } });
    const took = Date.now() - started;
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(refused.body).toMatchObject({ kind: 'Status', status: 'Failure' });
    expect(took).toBeLessThan(requestTimeoutMs * 3);

    await cluster.restart(0);
    await cluster.restart(1);
    await everyServerWrites('after', 90_000);
    // Each server reads what the other wrote.
    expect((await call(servers[0].base, 'GET', `${cms}/after-1`)).status).toBe(200);
    expect((await call(servers[1].base, 'GET', `${cms}/after-0`)).status).toBe(200);
  });

  /** Waits until a create through each server succeeds (PREFIX-0 through the first, PREFIX-1 through the second). */
  async function everyServerWrites(prefix: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const [i, s] of servers.entries()) {
      for (;;) {
        const r = await call(s.base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `${prefix}-${i}` } });
        if (r.status === 201) break;
        if (Date.now() > deadline) throw new Error(`server ${i} does not write: ${r.status} ${JSON.stringify(r.body)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
});
