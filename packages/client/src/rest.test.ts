import type * as http from 'http';
import { constants } from 'buffer';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { Event, Pod, Status } from '@peapod/api';
import { ApiError, Client, ConnectionError, warningText } from './rest';
import { closedPort, readRequestBody, serveHttp, serveHttps } from './testing/http-server';
import type { TestServer } from './testing/http-server';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A server that records each request and answers with what `reply` says. */
async function recordingServer(
  reply: (seen: Seen, res: http.ServerResponse) => void = (_s, res) => json(res, 200, { kind: 'Pod', metadata: { name: 'x' } }),
): Promise<{ server: TestServer; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = await serveHttp(async (req, res) => {
    const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: await readRequestBody(req) };
    seen.push(s);
    reply(s, res);
  });
  return { server, seen };
}

function json(res: http.ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Ordinary requests go through undici's pool or, for short-lived processes, Node's http: both must behave alike. */
const transports = ['pool', 'http'] as const;

const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'prod' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };

describe('Client.path', () => {
  const client = new Client({ server: 'http://127.0.0.1:1' });
  afterAll(() => client.close());

  it('builds namespaced, cluster-scoped and subresource paths', () => {
    expect(client.path('pods', { namespace: 'ns1' })).toBe('/api/v1/namespaces/ns1/pods');
    expect(client.path('pods')).toBe('/api/v1/pods');
    expect(client.path('pods', { namespace: 'a', name: 'b', subresource: 'status' })).toBe('/api/v1/namespaces/a/pods/b/status');
    expect(client.path('nodes', { namespace: 'ignored', name: 'n1' })).toBe('/api/v1/nodes/n1');
    expect(client.path('namespaces', { name: 'kube-system' })).toBe('/api/v1/namespaces/kube-system');
    expect(client.path('po', { namespace: 'a' })).toBe('/api/v1/namespaces/a/pods');
    expect(client.path('replicationcontrollers', { namespace: 'a', name: 'rc' })).toBe('/api/v1/namespaces/a/replicationcontrollers/rc');
    expect(client.path('pods', { namespace: 'a', name: 'x y' })).toBe('/api/v1/namespaces/a/pods/x%20y');
    expect(() => client.path('pods', { subresource: 'status' })).toThrow(/needs an object name/);
  });

  it('refuses a server address that is no URL, naming it', () => {
    expect(() => new Client({ server: 'http://[bad' })).toThrow('couldn\'t parse server address "http://[bad": not a URL (http://HOST:PORT or https://HOST:PORT)');
    expect(() => new Client({ server: 'ftp://127.0.0.1' })).toThrow('server URL must start with http:// or https://, got ftp://127.0.0.1');
  });

  it('keeps a path prefix of the server URL', async () => {
    const { server, seen } = await recordingServer();
    const prefixed = new Client({ server: `${server.url}/prefix/` });
    const prefixedHttp = new Client({ server: `${server.url}/prefix/`, requestTransport: 'http' });
    try {
      await prefixed.get('pods', 'x');
      await prefixedHttp.get('pods', 'x');
      expect(seen.map((s) => s.url)).toEqual(['/prefix/api/v1/namespaces/default/pods/x', '/prefix/api/v1/namespaces/default/pods/x']);
    } finally {
      prefixed.close();
      prefixedHttp.close();
      await server.close();
    }
  });
});

describe.each(transports)('Client verbs (requestTransport %s)', (requestTransport) => {
  let server: TestServer;
  let seen: Seen[];
  let client: Client;
  let replyWith: (s: Seen, res: http.ServerResponse) => void;

  beforeAll(async () => {
    ({ server, seen } = await recordingServer((s, res) => replyWith(s, res)));
    client = new Client({ requestTransport, server: server.url, token: 'sekret', userAgent: 'test-agent/1' });
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });
  beforeEach(() => {
    seen.length = 0;
    replyWith = (s, res) => json(res, 200, s.body !== '' ? JSON.parse(s.body) : { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x' } });
  });

  it('get sends credentials and defaults the namespace', async () => {
    const got = await client.get<Pod>('pods', 'x');
    expect(got.metadata.name).toBe('x');
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/api/v1/namespaces/default/pods/x' });
    expect(seen[0].headers.authorization).toBe('Bearer sekret');
    expect(seen[0].headers['user-agent']).toBe('test-agent/1');
    expect(seen[0].headers.accept).toBe('application/json');
    await client.get('nodes', 'n1', { namespace: 'ignored' });
    expect(seen[1].url).toBe('/api/v1/nodes/n1');
  });

  it('list sends selectors and paging, and fills in item kinds', async () => {
    replyWith = (_s, res) =>
      json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7', continue: 'tok' }, items: [{ metadata: { name: 'a' } }] });
    const list = await client.list<Pod>('pods', {
      namespace: 'ns',
      labelSelector: 'app=web,tier!=db',
      fieldSelector: 'spec.nodeName=n1',
      limit: 10,
      continue: 'c1',
      resourceVersion: '5',
    });
    const url = new URL(seen[0].url, 'http://x');
    expect(url.pathname).toBe('/api/v1/namespaces/ns/pods');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      labelSelector: 'app=web,tier!=db',
      fieldSelector: 'spec.nodeName=n1',
      limit: '10',
      continue: 'c1',
      resourceVersion: '5',
    });
    expect(list.metadata).toEqual({ resourceVersion: '7', continue: 'tok' });
    expect(list.items[0]).toMatchObject({ kind: 'Pod', apiVersion: 'v1' });
    await client.list('pods');
    expect(seen[1].url).toBe('/api/v1/pods');
  });

  it('create posts to the object namespace, then default, with validation options', async () => {
    await client.create('pods', pod, { fieldValidation: 'Strict', dryRun: true });
    expect(seen[0].method).toBe('POST');
    expect(seen[0].url).toBe('/api/v1/namespaces/prod/pods?fieldValidation=Strict&dryRun=All');
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0].body)).toEqual(pod);
    await client.create('pods', { ...pod, metadata: { name: 'p2' } });
    expect(seen[1].url).toBe('/api/v1/namespaces/default/pods');
    await client.create('pods', pod, { namespace: 'other' });
    expect(seen[2].url).toBe('/api/v1/namespaces/other/pods');
    await client.create('namespaces', { metadata: { name: 'ns9' } });
    expect(seen[3].url).toBe('/api/v1/namespaces');
  });

  it('update puts the object; updateStatus goes to /status', async () => {
    await client.update('pods', pod);
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/api/v1/namespaces/prod/pods/web' });
    await client.updateStatus('pods', pod);
    expect(seen[1]).toMatchObject({ method: 'PUT', url: '/api/v1/namespaces/prod/pods/web/status' });
    await client.updateStatus('nodes', { metadata: { name: 'n1' } });
    expect(seen[2].url).toBe('/api/v1/nodes/n1/status');
    await expect(client.update('pods', { metadata: {} })).rejects.toThrow(/metadata.name/);
  });

  it('patch sends the content type of each patch kind', async () => {
    await client.patch('pods', 'web', { metadata: { labels: { a: 'b' } } }, 'merge', { namespace: 'prod' });
    await client.patch('pods', 'web', [{ op: 'add', path: '/metadata/labels/a', value: 'b' }], 'json', { namespace: 'prod' });
    await client.patch('pods', 'web', { status: { phase: 'Running' } }, 'strategic', { namespace: 'prod', subresource: 'status' });
    expect(seen.map((s) => [s.method, s.url, s.headers['content-type']])).toEqual([
      ['PATCH', '/api/v1/namespaces/prod/pods/web', 'application/merge-patch+json'],
      ['PATCH', '/api/v1/namespaces/prod/pods/web', 'application/json-patch+json'],
      ['PATCH', '/api/v1/namespaces/prod/pods/web/status', 'application/strategic-merge-patch+json'],
    ]);
    expect(JSON.parse(seen[1].body)).toEqual([{ op: 'add', path: '/metadata/labels/a', value: 'b' }]);
  });

  it('delete sends DeleteOptions and returns what the server returns', async () => {
    replyWith = (_s, res) => json(res, 200, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2024-01-01T00:00:30Z' } });
    const out = await client.delete<Pod>('pods', 'web', {
      namespace: 'prod',
      gracePeriodSeconds: 0,
      preconditions: { uid: 'u1' },
      propagationPolicy: 'Background',
    });
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: '/api/v1/namespaces/prod/pods/web' });
    expect(JSON.parse(seen[0].body)).toEqual({
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      gracePeriodSeconds: 0,
      preconditions: { uid: 'u1' },
      propagationPolicy: 'Background',
    });
    expect((out as Pod).metadata.deletionTimestamp).toBe('2024-01-01T00:00:30Z');
  });

  it('deleteCollection sends selectors in the query and grace in the body', async () => {
    replyWith = (_s, res) => json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [] });
    await client.deleteCollection('pods', { namespace: 'prod', labelSelector: 'app=web', gracePeriodSeconds: 5 });
    expect(seen[0].method).toBe('DELETE');
    expect(seen[0].url).toBe('/api/v1/namespaces/prod/pods?labelSelector=app%3Dweb');
    expect(JSON.parse(seen[0].body)).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 5 });
  });

  it('bind posts a v1 Binding to pods/{name}/binding', async () => {
    replyWith = (_s, res) => json(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const out = await client.bind('prod', 'web', 'node-1', 'uid-9');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/namespaces/prod/pods/web/binding' });
    expect(JSON.parse(seen[0].body)).toEqual({
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'web', namespace: 'prod', uid: 'uid-9' },
      target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' },
    });
    expect((out as Status).status).toBe('Success');
  });

  it('recordEvent creates a core/v1 Event about the object', async () => {
    const involved: Pod = { ...pod, metadata: { ...pod.metadata, uid: 'u1', resourceVersion: '42' } };
    const ev = await client.recordEvent(involved, 'Warning', 'FailedScheduling', '0/1 nodes are available', {
      component: 'default-scheduler',
    });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/namespaces/prod/events' });
    const sent = JSON.parse(seen[0].body) as Event;
    expect(sent.metadata.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(sent).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'prod' },
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'prod', uid: 'u1', apiVersion: 'v1', resourceVersion: '42' },
      type: 'Warning',
      reason: 'FailedScheduling',
      message: '0/1 nodes are available',
      source: { component: 'default-scheduler' },
      count: 1,
    });
    expect(sent.firstTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(sent.lastTimestamp).toBe(sent.firstTimestamp);
    expect(ev.kind).toBe('Event');

    await client.recordEvent({ kind: 'Node', apiVersion: 'v1', metadata: { name: 'n1', uid: 'nu' } }, 'Normal', 'Ready', 'ok', {
      component: 'peapod-agent',
      host: 'n1',
    });
    const second = JSON.parse(seen[1].body) as Event;
    expect(seen[1].url).toBe('/api/v1/namespaces/default/events');
    expect(second.involvedObject.namespace).toBeUndefined();
    expect(second.source).toEqual({ component: 'peapod-agent', host: 'n1' });
    expect(second.metadata.name).not.toBe(sent.metadata.name);
    expect(second.eventTime).toBeUndefined();

    await client.recordEvent(involved, 'Normal', 'Killing', 'Stopping container app', { component: 'peapod-agent' }, new Date('2030-01-02T03:04:05.678Z'));
    const timed = JSON.parse(seen[2].body) as Event;
    expect(timed).toMatchObject({
      eventTime: '2030-01-02T03:04:05.678000Z',
      firstTimestamp: '2030-01-02T03:04:05Z',
      lastTimestamp: '2030-01-02T03:04:05Z',
      action: 'Killing',
    });
  });

  it('request returns error statuses instead of throwing', async () => {
    replyWith = (_s, res) => json(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 404, reason: 'NotFound' });
    const out = await client.request<Status>('GET', '/api/v1/namespaces/x/pods/y?pretty=true');
    expect(out.status).toBe(404);
    expect(out.body.reason).toBe('NotFound');
    expect(seen[0].url).toBe('/api/v1/namespaces/x/pods/y?pretty=true');
    // A raw path as typed is escaped as a URL parser would.
    await client.request('GET', '/api/v1/pods?labelSelector=app in (wé)');
    expect(seen[1].url).toBe('/api/v1/pods?labelSelector=app%20in%20(w%C3%A9)');
    replyWith = (_s, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    };
    const text = await client.request<string>('GET', '/healthz');
    expect(text).toMatchObject({ status: 200, body: 'ok' });
    expect(text.headers['content-type']).toBe('text/plain');
  });

  it('sends a request again as a 429 with Retry-After asks, at most 10 times', async () => {
    const tooMany = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 429, reason: 'TooManyRequests', message: 'Too many requests, please try again later.' };
    let refusals = 2;
    replyWith = (s, res) => (refusals-- > 0 ? json(res, 429, tooMany, { 'Retry-After': '1' }) : json(res, 201, JSON.parse(s.body)));
    const started = Date.now();
    const made = await client.create<Pod>('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } });
    expect(made.metadata.name).toBe('p');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(seen.map((s) => s.method)).toEqual(['POST', 'POST', 'POST']);
    expect(seen[2].body).toBe(seen[0].body);
    // Past the 10th retry the 429 is the answer.
    seen.length = 0;
    replyWith = (_s, res) => json(res, 429, tooMany, { 'Retry-After': '0' });
    await expect(client.get('pods', 'x')).rejects.toMatchObject({ code: 429 });
    expect(seen).toHaveLength(11);
    // Without Retry-After (a disruption budget refusing an eviction) it is the answer at once.
    seen.length = 0;
    replyWith = (_s, res) => json(res, 429, { ...tooMany, message: 'Cannot evict pod as it would violate the pod\'s disruption budget.' });
    await expect(client.get('pods', 'x')).rejects.toMatchObject({ code: 429 });
    expect(seen).toHaveLength(1);
  });

  it('request sends a raw body with caller headers', async () => {
    await client.request('POST', '/custom', '{"a":1}', { 'Content-Type': 'application/yaml', 'X-Extra': 'y' });
    expect(seen[0].body).toBe('{"a":1}');
    expect(seen[0].headers['content-type']).toBe('application/yaml');
    expect(seen[0].headers['x-extra']).toBe('y');
  });
});

describe.each(transports)('errors (requestTransport %s)', (requestTransport) => {
  it('ApiError carries the server Status', async () => {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
      code: 404,
    };
    const { server } = await recordingServer((_s, res) => json(res, 404, status));
    const client = new Client({ requestTransport, server: server.url });
    try {
      const err = await client.get('pods', 'nope').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      const apiErr = err as ApiError;
      expect(apiErr.code).toBe(404);
      expect(apiErr.reason).toBe('NotFound');
      expect(apiErr.message).toBe('pods "nope" not found');
      expect(apiErr.status).toEqual(status);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('a non-Status error body becomes a Status', async () => {
    const { server } = await recordingServer((_s, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    const client = new Client({ requestTransport, server: server.url });
    try {
      const err = (await client.list('pods').catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err.code).toBe(502);
      expect(err.status).toMatchObject({ kind: 'Status', status: 'Failure', code: 502 });
      const plain = await recordingServer((_s, res) => {
        res.writeHead(403, { 'Content-Type': 'text/plain' });
        res.end('no way');
      });
      const c2 = new Client({ requestTransport, server: plain.server.url });
      const e2 = (await c2.get('pods', 'x').catch((e: unknown) => e)) as ApiError;
      expect(e2.reason).toBe('Forbidden');
      expect(e2.message).toBe('the server does not allow access to the requested resource (no way)');
      c2.close();
      await plain.server.close();
    } finally {
      client.close();
      await server.close();
    }
  });

  it('a refused connection names the server as kubectl does', async () => {
    const port = await closedPort();
    const client = new Client({ requestTransport, server: `http://127.0.0.1:${port}` });
    const err = await client.get('pods', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).message).toBe(
      `The connection to the server 127.0.0.1:${port} was refused - did you specify the right host or port?`,
    );
    expect((err as ConnectionError).errno).toBe('ECONNREFUSED');
    client.close();
  });

  it('a server that never answers times out', async () => {
    const server = await serveHttp(() => undefined);
    const client = new Client({ requestTransport, server: server.url, timeoutMs: 100 });
    try {
      const err = await client.get('pods', 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as Error).message).toBe(`Unable to connect to the server 127.0.0.1:${server.port}: request timed out after 100ms`);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('the deadline covers connecting: a server that takes the connection but never shakes hands times out', async () => {
    // A socket that stays silent stalls the TLS handshake, as a server that vanished stalls a connect.
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const client = new Client({ requestTransport, server: `https://127.0.0.1:${port}`, timeoutMs: 300 });
    try {
      const started = Date.now();
      const err = await client.get('pods', 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as Error).message).toMatch(/timed out after 300ms/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      client.close();
      for (const s of held) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('an answer past the longest string V8 makes fails saying so, rather than never settling', async () => {
    const chunk = Buffer.alloc(1 << 20, 'x');
    const chunks = Math.ceil(constants.MAX_STRING_LENGTH / chunk.length) + 1;
    const server = await serveHttp(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (let i = 0; i < chunks; i++) if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      res.end();
    });
    const client = new Client({ requestTransport, server: server.url, timeoutMs: 60_000 });
    try {
      await expect(client.list('pods')).rejects.toThrow(`the answer to GET /api/v1/pods (${chunks * chunk.length} bytes) is too long to read as one string; ask for it in pages (limit and continue)`);
    } finally {
      client.close();
      await server.close();
    }
  }, 60_000);

  it('a body cut short by the server times out with the timeout message', async () => {
    const server = await serveHttp((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"kind":');
    });
    const client = new Client({ requestTransport, server: server.url, timeoutMs: 100 });
    try {
      await expect(client.get('pods', 'x')).rejects.toThrow(/timed out after 100ms/);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe.each(transports)('warnings (requestTransport %s)', (requestTransport) => {
  it('extracts the text of warning headers', () => {
    expect(warningText('299 - "unknown field \\"spec.foo\\""')).toBe('unknown field "spec.foo"');
    expect(warningText('not a warning format')).toBe('not a warning format');
  });

  it('passes each Warning header to onWarning', async () => {
    const { server } = await recordingServer((_s, res) =>
      json(res, 200, { metadata: { name: 'x' } }, { Warning: ['299 - "first, with a comma"', '299 - "second"'] }),
    );
    const warnings: string[] = [];
    const client = new Client({ requestTransport, server: server.url, onWarning: (m) => warnings.push(m) });
    try {
      await client.get('pods', 'x');
      expect(warnings).toEqual(['first, with a comma', 'second']);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('logs', () => {
  it('streams the log as it is written', async () => {
    let query = '';
    const server = await serveHttp((req, res) => {
      query = req.url ?? '';
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('line 1\n');
      setTimeout(() => res.end('line 2\n'), 30);
    });
    const client = new Client({ server: server.url });
    try {
      const stream = client.logs('ns', 'p', { container: 'c', follow: true, tailLines: 5, timestamps: true, previous: true });
      const chunks: string[] = [];
      for await (const chunk of stream) chunks.push(String(chunk));
      expect(chunks.join('')).toBe('line 1\nline 2\n');
      expect(query).toBe('/api/v1/namespaces/ns/pods/p/log?container=c&follow=true&tailLines=5&timestamps=true&previous=true');
    } finally {
      client.close();
      await server.close();
    }
  });

  it('reports an error response as a stream error', async () => {
    const server = await serveHttp((_req, res) =>
      json(res, 400, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 400, reason: 'BadRequest', message: 'container c is not valid' }),
    );
    const client = new Client({ server: server.url });
    try {
      const stream = client.logs('ns', 'p', { container: 'c' });
      const err = await new Promise<unknown>((resolve) => stream.on('error', resolve));
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).message).toBe('container c is not valid');
    } finally {
      client.close();
      await server.close();
    }
  });

  it('destroying the stream ends the request', async () => {
    let closed!: () => void;
    const requestClosed = new Promise<void>((resolve) => (closed = resolve));
    const server = await serveHttp((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('hello\n');
      req.socket.on('close', () => closed());
    });
    const client = new Client({ server: server.url });
    try {
      const stream = client.logs('ns', 'p', { follow: true });
      await new Promise((resolve) => stream.once('data', resolve));
      stream.destroy();
      await requestClosed;
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe.each(transports)('TLS (requestTransport %s)', (requestTransport) => {
  let dir: string;
  let cert: string;
  let key: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
    server = await serveHttps({ cert, key }, (_req, res) => json(res, 200, { metadata: { name: 'tls' } }));
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('trusts a server signed by the given CA', async () => {
    const client = new Client({ requestTransport, server: server.url, ca: cert });
    try {
      expect((await client.get('pods', 'x')).metadata.name).toBe('tls');
    } finally {
      client.close();
    }
  });

  it('refuses an unknown certificate unless told to skip verification', async () => {
    const strict = new Client({ requestTransport, server: server.url });
    const lax = new Client({ requestTransport, server: server.url, insecureSkipTLSVerify: true });
    try {
      await expect(strict.get('pods', 'x')).rejects.toBeInstanceOf(ConnectionError);
      expect((await lax.get('pods', 'x')).metadata.name).toBe('tls');
    } finally {
      strict.close();
      lax.close();
    }
  });
});
