import fs from 'fs';
import os from 'os';
import path from 'path';
import https from 'https';
import WebSocket from 'ws';
import { createApiServer, ApiServer } from './server';
import { bootstrapCluster, BootstrapResult } from './pki/bootstrap';
import { kubectlPath } from './testing/kubectl';
import { execFile } from 'child_process';

jest.setTimeout(60_000);

let dir: string;
let pki: BootstrapResult;
let api: ApiServer;
let base: string;
const tokens: Record<string, string> = {};
let ca: Buffer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-auth-'));
  pki = bootstrapCluster({ dir: path.join(dir, 'pki'), server: 'https://127.0.0.1:1', hosts: ['127.0.0.1', 'localhost'], nodes: ['n1', 'n2'] });
  for (const line of fs.readFileSync(pki.tokenFile, 'utf8').trim().split('\n')) {
    const [token, user] = line.split(',');
    tokens[user] = token;
  }
  ca = fs.readFileSync(pki.caFile);
  api = createApiServer({
    dataDir: ':memory:',
    allowPrivileged: true,
    tokenAuthFile: pki.tokenFile,
    tls: { cert: fs.readFileSync(pki.certFile), key: fs.readFileSync(pki.keyFile) },
    maxWatchesPerClient: 3,
    agentClientToken: fs.readFileSync(pki.agentClientTokenFile, 'utf8'),
    logger: { info() {}, warn() {}, error() {}, debug() {} },
  });
  base = `https://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
  // Fixtures written as admin: two nodes, a pod on each.
  for (const n of ['n1', 'n2']) await req('admin', 'POST', '/api/v1/nodes', { metadata: { name: n } });
  for (const [pod, node] of [['on-n1', 'n1'], ['on-n2', 'n2']]) {
    await req('admin', 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: pod }, spec: { nodeName: node, containers: [{ name: 'c', image: 'x:1' }] } });
  }
});

afterAll(async () => {
  await api.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function req(user: string | undefined, method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  const t = token ?? (user ? tokens[user] : undefined);
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  return new Promise((resolve, reject) => {
    const r = https.request(base + p, { method, headers, ca }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? safeJson(text) : undefined }));
    });
    r.on('error', reject);
    r.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const resourcePaths = [
  '/api/v1/namespaces/default/pods',
  '/api/v1/namespaces/default/pods/on-n1',
  '/api/v1/pods',
  '/api/v1/nodes',
  '/api/v1/nodes/n1',
  '/api/v1/namespaces',
  '/api/v1/namespaces/default/events',
  '/api/v1/namespaces/default/replicationcontrollers',
  '/api/v1',
  '/api',
  '/openapi/v3',
  '/metrics',
];

test.each(resourcePaths)('no token, a bad token: 401 on %s', async (p) => {
  expect((await req(undefined, 'GET', p)).status).toBe(401);
  const bad = await req(undefined, 'GET', p, undefined, 'not-a-token');
  expect(bad.status).toBe(401);
  expect(bad.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
});

test('health and version need no token; a single health check, which gives its reason, needs the right to read it', async () => {
  for (const p of ['/healthz', '/livez', '/readyz', '/readyz?verbose', '/version']) expect((await req(undefined, 'GET', p)).status).toBe(200);
  expect((await req(undefined, 'GET', '/readyz/sqlite')).status).toBe(401);
  expect((await req('system:node:n1', 'GET', '/readyz/sqlite')).status).toBe(403);
  expect((await req('admin', 'GET', '/readyz/sqlite')).status).toBe(200);
});

test('a node token: its own node and pods only', async () => {
  const node = 'system:node:n1';
  expect((await req(node, 'PATCH', '/api/v1/nodes/n1/status', { status: { phase: 'Running' } })).status).toBe(200);
  expect((await req(node, 'PATCH', '/api/v1/nodes/n2/status', { status: { phase: 'Running' } })).status).toBe(403);
  expect((await req(node, 'PATCH', '/api/v1/nodes/n2', { metadata: { labels: { a: 'b' } } })).status).toBe(403);
  expect((await req(node, 'GET', '/api/v1/namespaces/default/pods/on-n1')).status).toBe(200);
  const other = await req(node, 'GET', '/api/v1/namespaces/default/pods/on-n2');
  expect(other.status).toBe(403);
  expect(other.body.message).toContain('User "system:node:n1" cannot get resource "pods"');
  expect((await req(node, 'DELETE', '/api/v1/namespaces/default/pods/on-n2')).status).toBe(403);
  expect((await req(node, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } })).status).toBe(403);
  expect((await req(node, 'POST', '/api/v1/namespaces/default/pods/on-n2/binding', { target: { name: 'n1' } })).status).toBe(403);
  expect((await req(node, 'POST', '/api/v1/nodes', { metadata: { name: 'n3' } })).status).toBe(403);
  expect((await req(node, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')).status).toBe(200);
  expect((await req(node, 'GET', '/api/v1/pods')).status).toBe(403);
  expect((await req('system:node:n2', 'GET', '/api/v1/namespaces/default/pods/on-n2')).status).toBe(200);
});

test('the scheduler token cannot delete a node; admin can do anything', async () => {
  expect((await req('system:kube-scheduler', 'DELETE', '/api/v1/nodes/n2')).status).toBe(403);
  expect((await req('system:kube-scheduler', 'GET', '/api/v1/pods')).status).toBe(200);
  expect((await req('admin', 'GET', '/metrics')).status).toBe(200);
  expect((await req('system:kube-scheduler', 'GET', '/metrics')).status).toBe(403);
});

test('a WebSocket watch needs a token, and a client may hold only so many watches', async () => {
  const url = `${base.replace('https', 'wss')}/api/v1/namespaces/default/pods?watch=true`;
  const refused = await new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { ca });
    ws.on('unexpected-response', (_r, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
  });
  expect(refused).toBe(401);
  const open: WebSocket[] = [];
  for (let i = 0; i < 3; i++) {
    const ws = new WebSocket(url, { ca, headers: { Authorization: `Bearer ${tokens.admin}` } });
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    open.push(ws);
  }
  expect((await req('admin', 'GET', '/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1')).status).toBe(429);
  for (const ws of open) ws.close();
});

test('kubectl with the generated kubeconfig verifies the server; with a wrong CA it is refused', async () => {
  const home = fs.mkdtempSync(path.join(dir, 'home-'));
  const kubeconfig = path.join(home, 'config');
  const admin = fs.readFileSync(pki.kubeconfigs.admin, 'utf8').replace('https://127.0.0.1:1', base);
  fs.writeFileSync(kubeconfig, admin, { mode: 0o600 });
  // Asynchronously: the server under test runs in this process.
  const run = (args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(kubectlPath, ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: home }, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const ok = await run(['get', 'pods']);
  expect(ok.stderr).toBe('');
  expect(ok.stdout).toContain('on-n1');
  const otherCa = bootstrapCluster({ dir: path.join(dir, 'other'), server: base, hosts: ['127.0.0.1'], nodes: [] });
  fs.writeFileSync(kubeconfig, fs.readFileSync(otherCa.kubeconfigs.admin, 'utf8'), { mode: 0o600 });
  const bad = await run(['get', 'pods']);
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toMatch(/certificate signed by unknown authority|x509/);
});

test('TokenReview: nodes may ask who a token belongs to; others may not', async () => {
  const review = (asker: string, token: string) => req(asker, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
  const ok = await review('system:node:n1', tokens['system:apiserver']);
  expect(ok.status).toBe(201);
  expect(ok.body.status).toEqual({ authenticated: true, user: { username: 'system:apiserver', uid: 'apiserver', groups: ['system:masters', 'system:authenticated'] } });
  expect((await review('system:node:n1', 'made-up')).body.status).toEqual({ authenticated: false });
  expect((await review('system:kube-scheduler', tokens.admin)).status).toBe(403);
});

test('log requests reach the agent with the API server token, and a reader needs pods/log', async () => {
  const http = await import('http');
  const seen: (string | undefined)[] = [];
  const agent = http.createServer((r, s) => {
    seen.push(r.headers.authorization);
    s.end('hello from the agent\n');
  });
  await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
  const port = (agent.address() as { port: number }).port;
  await req('admin', 'PATCH', '/api/v1/nodes/n1/status', { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } });
  const logs = await req('admin', 'GET', '/api/v1/namespaces/default/pods/on-n1/log');
  expect(logs.status).toBe(200);
  expect(logs.body).toBe('hello from the agent\n');
  expect(seen).toEqual([`Bearer ${tokens['system:apiserver']}`]);
  expect((await req('system:kube-scheduler', 'GET', '/api/v1/namespaces/default/pods/on-n1/log')).status).toBe(403);
  agent.close();
});

describe('pods/exec, attach and portforward', () => {
  const upgrades: { url?: string; authorization?: string }[] = [];
  let agent: import('http').Server;

  beforeAll(async () => {
    const http = await import('http');
    // A stand-in agent that accepts any upgrade and echoes the stream.
    agent = http.createServer((_r, s) => s.end());
    agent.on('upgrade', (r, socket) => {
      upgrades.push({ url: r.url, authorization: r.headers.authorization });
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
    const port = (agent.address() as { port: number }).port;
    for (const n of ['n1', 'n2']) {
      await req('admin', 'PATCH', `/api/v1/nodes/${n}/status`, { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } });
    }
  });

  afterAll(() => agent.close());

  /** A SPDY upgrade as kubectl sends it; resolves with the status line and what came back after it. */
  function upgrade(user: string, p: string, method = 'POST'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const r = https.request(base + p, {
        method,
        ca,
        headers: { Authorization: `Bearer ${tokens[user]}`, Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' },
      });
      r.on('upgrade', (res, socket) => {
        socket.write('ping');
        socket.once('data', (d: Buffer) => {
          socket.destroy();
          resolve({ status: res.statusCode ?? 0, body: d.toString() });
        });
      });
      r.on('response', (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      r.on('error', reject);
      r.end();
    });
  }

  test('are tunnelled to the agent with the API server token, never the caller\'s', async () => {
    const r = await upgrade('admin', '/api/v1/namespaces/default/pods/on-n1/exec?command=date&stdout=true');
    expect(r).toEqual({ status: 101, body: 'ping' });
    const seen = upgrades.at(-1)!;
    expect(seen.authorization).toBe(`Bearer ${tokens['system:apiserver']}`);
    expect(seen.url).toMatch(/^\/exec\/default\/on-n1\/[0-9a-f-]{36}\/c\?command=date&stdout=true$/);
    expect((await upgrade('admin', '/api/v1/namespaces/default/pods/on-n1/portforward', 'GET')).status).toBe(101);
  });

  test('a caller without create on pods/exec gets 403 before any upgrade', async () => {
    const before = upgrades.length;
    for (const sub of ['exec?command=date&stdout=true', 'attach?stdout=true', 'portforward']) {
      const r = await upgrade('system:kube-scheduler', `/api/v1/namespaces/default/pods/on-n1/${sub}`);
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    }
    const r = await upgrade('system:kube-scheduler', '/api/v1/namespaces/default/pods/on-n1/exec?command=date&stdout=true');
    expect(JSON.parse(r.body).message).toBe(
      'pods "on-n1" is forbidden: User "system:kube-scheduler" cannot create resource "pods" subresource "exec" in API group "" in the namespace "default"',
    );
    expect(upgrades.length).toBe(before);
  });

  test("a node's token cannot exec into another node's pod", async () => {
    const before = upgrades.length;
    const r = await upgrade('system:node:n1', '/api/v1/namespaces/default/pods/on-n2/exec?command=date&stdout=true');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).message).toContain('User "system:node:n1" cannot create resource "pods" subresource "exec"');
    expect(upgrades.length).toBe(before);
  });

  test('a plain request where an upgrade is needed: 400', async () => {
    const r = await req('admin', 'POST', '/api/v1/namespaces/default/pods/on-n1/exec?command=date');
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('Upgrade request required');
  });
});

test('key files and kubeconfigs are private', () => {
  for (const f of [path.join(pki.dir, 'ca.key'), pki.keyFile, pki.tokenFile, pki.agentClientTokenFile, ...Object.values(pki.kubeconfigs)]) {
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
  }
});
