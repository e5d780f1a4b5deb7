// Two API servers on one three-member etcd cluster: concurrent writers through both, and
// etcd members killed under them. Runs in the etcd jest project (it starts its own cluster).
import crypto from 'crypto';
import { createApiServer, ApiServer } from './server';
import { call, podManifest } from './testing/http';
import { watchHttp, Collected } from './testing/watch';
import { EtcdCluster, hasEtcd, startEtcdCluster } from '@peapod/client/testing';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
// Long enough for a request to outlast an election (members back, one elected) within its deadline.
const requestTimeoutMs = 15_000;

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

  test('a list paged through both servers in turn is one snapshot at its first page\'s resourceVersion', async () => {
    const [a, b] = servers;
    const cms = '/api/v1/namespaces/paged/configmaps';
    expect((await call(a.base, 'POST', '/api/v1/namespaces', { metadata: { name: 'paged' } })).status).toBe(201);
    for (let i = 0; i < 6; i++) expect((await call(a.base, 'POST', cms, { metadata: { name: `cm-${i}` }, data: { v: '1' } })).status).toBe(201);
    const first = await call(a.base, 'GET', `${cms}?limit=2`);
    expect((await call(b.base, 'PUT', `${cms}/cm-3`, { metadata: { name: 'cm-3' }, data: { v: '2' } })).status).toBe(200);
    expect((await call(b.base, 'DELETE', `${cms}/cm-4`)).status).toBe(200);
    const seen = first.body.items.map((c: { metadata: { name: string } }) => c.metadata.name);
    let token: string | undefined = first.body.metadata.continue;
    for (let page = 1; token; page++) {
      const r = await call(servers[page % 2].base, 'GET', `${cms}?limit=2&continue=${encodeURIComponent(token)}`);
      expect(r.status).toBe(200);
      expect(r.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
      for (const c of r.body.items as { metadata: { name: string }; data: { v: string } }[]) seen.push(`${c.metadata.name}${c.data.v === '1' ? '' : '@2'}`);
      token = r.body.metadata.continue;
    }
    expect(seen).toEqual(['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4', 'cm-5']);
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

  test('the leader killed during a write burst loses no acknowledged write; a write etcd does not confirm fails at the deadline, its outcome unknown; without quorum writes are refused within the timeout; a write waiting for quorum succeeds when the members come back', async () => {
    const cms = '/api/v1/namespaces/default/configmaps';
    const acknowledged: string[] = [];
    const leader = await cluster.leader();
    const failures: { status: number; reason?: string }[] = [];
    const burst = Array.from({ length: 300 }, (_, i) => async () => {
      const r = await call(servers[i % 2].base, 'POST', cms, { metadata: { name: `burst-${i}` } });
      if (r.status === 201) acknowledged.push(`burst-${i}`);
      else failures.push({ status: r.status, reason: r.body.reason });
      if (i === 100) await cluster.kill(leader);
    });
    await pool(burst, 16);
    // Writes refused during the election are sent again; those etcd never confirmed answer 504 Timeout.
    for (const f of failures) expect(f).toEqual({ status: 504, reason: 'Timeout' });
    expect(acknowledged.length).toBeGreaterThan(100);
    await everyServerWrites('one-down', 60_000);
    for (const s of servers) {
      const names = new Set((await call(s.base, 'GET', cms)).body.items.map((o: { metadata: { name: string } }) => o.metadata.name));
      for (const n of acknowledged) expect(names.has(n)).toBe(true);
    }

    // Members that take a write and never answer (frozen): it fails at the deadline, its outcome unknown.
    const [other, survivor] = [0, 1, 2].filter((i) => i !== leader);
    cluster.pause(other);
    cluster.pause(survivor);
    let started = Date.now();
    const unconfirmed = await call(servers[0].base, 'POST', cms, { metadata: { name: 'unconfirmed' } }).finally(() => {
      cluster.resume(other);
      cluster.resume(survivor);
    });
    expect(Date.now() - started).toBeLessThan(requestTimeoutMs * 2);
    expect(unconfirmed.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Timeout', code: 504 });
    expect(unconfirmed.body.message).toMatch(/outcome of the write is unknown/);
    await everyServerWrites('resumed', 60_000);

    // Quorum lost: once the last member knows it has no leader, it refuses writes at once; they are sent again until the deadline, then 504, nothing written.
    await cluster.kill(other);
    await until(async () => !(await cluster.hasLeader(survivor)), 30_000);
    started = Date.now();
    const refused = await call(servers[1].base, 'POST', cms, { metadata: { name: 'refused' } });
    expect(Date.now() - started).toBeLessThan(requestTimeoutMs * 2);
    expect(refused.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Timeout', code: 504 });
    expect(refused.body.message).toMatch(/nothing was written/);
    // Reads are consistent (a quorum read first): they too answer Timeout within the timeout, not an internal error.
    started = Date.now();
    const reads = await Promise.all([cms, `${cms}/${acknowledged[0]}`].map((path) => call(servers[1].base, 'GET', path)));
    expect(Date.now() - started).toBeLessThan(requestTimeoutMs * 2);
    for (const r of reads) {
      expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Timeout', code: 504 });
      expect(r.body.message).toMatch(/^Timeout: storage did not answer in time \(etcd: .+\); the request may be retried$/);
    }
    // Neither server is ready: load balancers and probes read the status; the single check says why.
    for (const s of servers) {
      expect(await call(s.base, 'GET', '/readyz')).toMatchObject({ status: 500, text: '[+]ping ok\n[-]etcd failed: reason withheld\n[+]shutdown ok\nreadyz check failed\n' });
      expect((await call(s.base, 'GET', '/livez')).status).toBe(200);
    }
    expect((await call(servers[0].base, 'GET', '/readyz/etcd')).text).toMatch(/^internal server error: .+/);

    // A write that etcd refuses for want of a leader is sent again, and succeeds once the members are back.
    const waiting = call(servers[1].base, 'POST', cms, { metadata: { name: 'waited' } });
    await cluster.restart(leader);
    await cluster.restart(other);
    expect((await waiting).status).toBe(201);
    await everyServerWrites('after', 90_000);
    // Each server reads what the other wrote.
    expect((await call(servers[0].base, 'GET', `${cms}/after-1`)).status).toBe(200);
    expect((await call(servers[1].base, 'GET', `${cms}/after-0`)).status).toBe(200);
    expect((await call(servers[0].base, 'GET', `${cms}/refused`)).status).toBe(404);
    for (const s of servers) expect(await call(s.base, 'GET', '/readyz?verbose')).toMatchObject({ status: 200, text: '[+]ping ok\n[+]etcd ok\n[+]shutdown ok\nreadyz check passed\n' });
  });

  async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

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
