import http from 'http';
import { AddressInfo } from 'net';
import express from 'express';
import { createLogger } from '@peapod/client';
import { healthRouter, HealthCheck } from './health';

/** A check that passes or fails (with this reason) as the test says, or never answers. */
function switchable(name: string): HealthCheck & { failWith?: string; hang?: boolean } {
  const c: HealthCheck & { failWith?: string; hang?: boolean } = {
    name,
    check: () => {
      if (c.hang) return new Promise<void>(() => undefined);
      return c.failWith === undefined ? Promise.resolve() : Promise.reject(new Error(c.failWith));
    },
  };
  return c;
}

describe('health endpoints', () => {
  let server: http.Server;
  let base: string;
  const logged: Record<string, unknown>[] = [];
  const ping = switchable('ping');
  const etcd = switchable('etcd');
  const shutdown = switchable('shutdown');

  beforeAll(async () => {
    const log = createLogger('apiserver', { level: 'info', write: (line) => logged.push(JSON.parse(line) as Record<string, unknown>) });
    const app = express();
    app.use(healthRouter({ livez: [ping], readyz: [ping, etcd, shutdown], healthz: [ping, etcd] }, log, 200));
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    for (const c of [ping, etcd, shutdown]) {
      c.failWith = undefined;
      c.hang = false;
    }
    logged.length = 0;
  });

  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };

  test('all passing: "ok", and with ?verbose each check', async () => {
    for (const path of ['/livez', '/readyz', '/healthz']) expect(await get(path)).toEqual({ status: 200, type: 'text/plain; charset=utf-8', text: 'ok' });
    expect((await get('/readyz?verbose')).text).toBe('[+]ping ok\n[+]etcd ok\n[+]shutdown ok\nreadyz check passed\n');
    expect((await get('/livez?verbose=1')).text).toBe('[+]ping ok\nlivez check passed\n');
  });

  test('a failing check: 500 listing every check, the reason withheld; it goes to the log once, and its passing again too', async () => {
    etcd.failWith = 'etcd did not answer within 10s';
    for (let i = 0; i < 3; i++) {
      expect(await get('/readyz')).toMatchObject({ status: 500, text: '[+]ping ok\n[-]etcd failed: reason withheld\n[+]shutdown ok\nreadyz check failed\n' });
    }
    expect((await get('/healthz')).status).toBe(500);
    // Liveness does not run it.
    expect((await get('/livez')).status).toBe(200);
    expect(logged).toEqual([expect.objectContaining({ level: 'warn', msg: 'health check failed', check: 'etcd', reason: 'etcd did not answer within 10s' })]);
    etcd.failWith = undefined;
    expect((await get('/readyz')).status).toBe(200);
    expect(logged[1]).toEqual(expect.objectContaining({ level: 'info', msg: 'health check passes again', check: 'etcd' }));
  });

  test('a check that does not answer fails after the timeout', async () => {
    etcd.hang = true;
    const started = Date.now();
    expect((await get('/readyz')).text).toContain('[-]etcd failed: reason withheld');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await get('/readyz/etcd')).toMatchObject({ status: 500, text: 'internal server error: no answer within 0.2s\n' });
  });

  test('?exclude skips checks, and names the ones there are none of', async () => {
    shutdown.failWith = 'the server is shutting down';
    expect(await get('/readyz?exclude=shutdown')).toMatchObject({ status: 200, text: 'ok' });
    expect((await get('/readyz?exclude=shutdown&exclude=etcd&exclude=nope&verbose')).text).toBe(
      '[+]ping ok\n[+]etcd excluded: ok\n[+]shutdown excluded: ok\nwarn: some health checks cannot be excluded: no matches for "nope"\nreadyz check passed\n',
    );
    expect((await get('/readyz?exclude=etcd')).text).toBe('[+]ping ok\n[+]etcd excluded: ok\n[-]shutdown failed: reason withheld\nreadyz check failed\n');
  });

  test('one check on its own gives its reason', async () => {
    expect(await get('/readyz/etcd')).toMatchObject({ status: 200, text: 'ok' });
    shutdown.failWith = 'the server is shutting down';
    expect(await get('/readyz/shutdown')).toMatchObject({ status: 500, text: 'internal server error: the server is shutting down\n' });
    expect((await get('/livez/ping')).status).toBe(200);
    // Not a check of that endpoint: the router passes it on.
    expect((await get('/livez/etcd')).status).toBe(404);
  });
});
