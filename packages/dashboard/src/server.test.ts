// The dashboard server against a real peapod-apiserver with authentication on: the token
// guards every request, other origins and hosts are refused, the proxy forwards with the
// server-side credentials (which never reach the browser) and refuses secrets.

import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import WebSocket from 'ws';
import { Client } from '@peapod/client';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { startDashboard } from './server';
import type { RunningDashboard } from './server';

const apiToken = 'admin-token-never-in-the-page';
let api: RunningApiServer;
let client: Client;
let dash: RunningDashboard;
let cookie: string;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-dashboard-'));
  fs.writeFileSync(path.join(dir, 'tokens.csv'), `${apiToken},admin,admin-uid,"system:masters"\n`);
  api = await startApiServer({ args: ['--token-auth-file', path.join(dir, 'tokens.csv')] });
  client = new Client({ server: api.url, token: apiToken });
  dash = await startDashboard({ client, token: 'page-token' });
  const res = await fetch(dash.url, { redirect: 'manual' });
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
}, 30_000);

afterAll(async () => {
  await dash?.close();
  client?.close();
  await api?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const get = (p: string, headers: Record<string, string> = {}) => fetch(dash.origin + p, { headers: { Cookie: cookie, ...headers }, redirect: 'manual' });

describe('the dashboard server', () => {
  it('trades the token in the link for an HttpOnly SameSite=Strict cookie and a URL without it', async () => {
    const res = await fetch(dash.url, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    expect(res.headers.get('set-cookie')).toBe(`peapod-dashboard-${dash.port}=page-token; HttpOnly; SameSite=Strict; Path=/`);
    const page = await get('/');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script src="/app.js"');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const js = await (await get('/app.js')).text();
    for (const text of [html, js]) {
      expect(text).not.toContain(apiToken);
      expect(text).not.toContain('page-token');
    }
  });

  it('refuses requests without the token, with a wrong one, from other origins or under another host name', async () => {
    expect((await fetch(`${dash.origin}/`)).status).toBe(401);
    expect((await fetch(`${dash.origin}/?token=wrong`)).status).toBe(401);
    const noCookie = await fetch(`${dash.origin}/api/v1/pods`);
    expect(noCookie.status).toBe(401);
    expect(await noCookie.json()).toMatchObject({ kind: 'Status', code: 401 });
    expect((await get('/api/v1/pods', { Cookie: `peapod-dashboard-${dash.port}=wrong` })).status).toBe(401);
    const foreign = await get('/api/v1/pods', { Origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    // fetch cannot set Host: a DNS-rebinding page's requests carry its own host name.
    const rebound = await new Promise<number>((resolve, reject) =>
      http.get(`${dash.origin}/api/v1/pods`, { headers: { Cookie: cookie, Host: `rebound.example:${dash.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject),
    );
    expect(rebound).toBe(403);
    expect((await get('/api/v1/pods', { Origin: dash.origin })).status).toBe(200);
  });

  it('proxies with the server-side credentials, passes the API Status through, and refuses secrets', async () => {
    const list = await get('/api/v1/pods');
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ kind: 'PodList' });
    // The API server itself refuses requests without the token: the proxy adds it.
    expect((await fetch(`${api.url}/api/v1/pods`)).status).toBe(401);

    const secret = await get('/api/v1/namespaces/default/secrets/db');
    expect(secret.status).toBe(403);
    expect(await secret.json()).toMatchObject({ kind: 'Status', code: 403, reason: 'Forbidden' });

    await client.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    const conflict = await fetch(`${dash.origin}/api/v1/namespaces/default/pods/web`, {
      method: 'DELETE',
      headers: { Cookie: cookie, 'Content-Type': 'application/json', Origin: dash.origin },
      body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'not-its-uid' } }),
    });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({ kind: 'Status', code: 409, reason: 'Conflict' });
    expect((await get('/api/v1/namespaces/default/pods/web')).status).toBe(200);
  });

  it('serves watches as WebSockets: events as they happen; a resource the cluster does not serve is an ERROR event with 404', async () => {
    const open = (p: string, origin = dash.origin) => new WebSocket(`ws://127.0.0.1:${dash.port}${p}`, { headers: { Cookie: cookie, Origin: origin } });
    const ws = open('/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Dwatched');
    const first = new Promise<{ type: string; object: { metadata: { name: string } } }>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    await new Promise((r) => ws.once('open', r));
    await client.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'watched', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    expect(await first).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'watched' } } });
    ws.close();

    const missing = open('/apis/discovery.k8s.io/v2/endpointslices?watch=true');
    const event = await new Promise<{ type: string; object: { code: number } }>((resolve) => missing.once('message', (d) => resolve(JSON.parse(String(d)))));
    expect(event).toMatchObject({ type: 'ERROR', object: { code: 404 } });

    const foreign = open('/api/v1/pods?watch=true', 'http://evil.example');
    const refused = await new Promise<number>((resolve) => foreign.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(refused).toBe(403);
    const secrets = open('/api/v1/secrets?watch=true');
    expect(await new Promise<number>((resolve) => secrets.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)))).toBe(403);
  });

  it('survives request targets that are no URL against its origin (`//[x` once made it throw out of the handler)', async () => {
    /** The raw request's status line. */
    const raw = (target: string, upgrade: boolean) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(dash.port, '127.0.0.1', () =>
          socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${dash.port}\r\nCookie: ${cookie}\r\n${upgrade ? 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' : 'Connection: close\r\n'}\r\n`),
        );
        let text = '';
        socket.on('data', (d: Buffer) => {
          text += d.toString();
          if (text.includes('\r\n')) socket.destroy();
        });
        socket.on('close', () => resolve(text.split('\r\n')[0]));
        socket.on('error', reject);
      });
    for (const target of ['//[x', 'http://[bad/x', 'http://a:99999/x']) {
      expect(await raw(target, false)).toBe('HTTP/1.1 404 Not Found');
      expect(await raw(target, true)).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
    expect((await get('/app.js')).status).toBe(200);
  });
});
