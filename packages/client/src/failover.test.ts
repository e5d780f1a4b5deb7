import type { KubeObject } from '@peapod/api';
import { neverReachedServer, parseServerList, safeToRepeat, ServerRing } from './failover';
import { Informer } from './informer';
import { createLogger } from './log';
import { Client, ConnectionError } from './rest';
import { FakeApiServer } from './testing/fake-apiserver';
import { closedPort, frontServer, readRequestBody, serveHttp } from './testing/http-server';
import type { FrontServer, TestServer } from './testing/http-server';
import { waitFor } from './testing/wait';

describe('safeToRepeat', () => {
  it('repeats reads and writes that cannot act twice, nothing else', () => {
    expect(safeToRepeat('GET', undefined)).toBe(true);
    expect(safeToRepeat('PUT', { metadata: { name: 'a', resourceVersion: '7' } })).toBe(true);
    expect(safeToRepeat('PUT', { metadata: { name: 'a' } })).toBe(false);
    expect(safeToRepeat('PATCH', { metadata: { resourceVersion: '7' } })).toBe(true);
    expect(safeToRepeat('PATCH', [{ op: 'add', path: '/metadata/labels/a', value: 'b' }])).toBe(false);
    expect(safeToRepeat('POST', { metadata: { name: 'a' } })).toBe(true);
    expect(safeToRepeat('POST', { metadata: { generateName: 'a-' } })).toBe(false);
    expect(safeToRepeat('POST', Buffer.from('{"metadata":{"name":"a"}}'))).toBe(false);
    expect(safeToRepeat('DELETE', { preconditions: { uid: 'u1' } })).toBe(true);
    expect(safeToRepeat('DELETE', { kind: 'DeleteOptions' })).toBe(false);
  });
});

describe('ServerRing', () => {
  it('moves once however many requests fail on the same server, and offers each server once', () => {
    const ring = new ServerRing(['a', 'b', 'c']);
    ring.failed(0);
    ring.failed(0);
    expect(ring.active).toBe('b');
    expect(ring.next(new Set([0]))).toBe(1);
    expect(ring.next(new Set([0, 1]))).toBe(2);
    expect(ring.next(new Set([0, 1, 2]))).toBeUndefined();
  });
});

test('parseServerList and neverReachedServer', () => {
  expect(parseServerList(' http://a:1, ,http://b:2 ')).toEqual(['http://a:1', 'http://b:2']);
  expect(neverReachedServer(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
  expect(neverReachedServer(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
});

interface Hit {
  method: string;
  url: string;
  body: string;
}

/** A server that records each request and answers with `reply` (status, body), or drops the connection on 0. */
async function server(name: string, reply: (hit: Hit) => [number, unknown] = () => [200, {}]): Promise<{ srv: TestServer; hits: Hit[] }> {
  const hits: Hit[] = [];
  const srv = await serveHttp(async (req, res) => {
    const hit = { method: req.method ?? '', url: req.url ?? '', body: await readRequestBody(req) };
    hits.push(hit);
    const [code, body] = reply(hit);
    if (code === 0) {
      req.socket.destroy();
      return;
    }
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(code >= 400 ? { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, message: `${name} says ${code}` } : { ...(body as object), served: name }));
  });
  return { srv, hits };
}

describe('a client with two servers', () => {
  const open: TestServer[] = [];
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of open.splice(0)) await s.close();
  });
  const both = async (replyA?: (hit: Hit) => [number, unknown], replyB?: (hit: Hit) => [number, unknown]) => {
    const a = await server('a', replyA);
    const b = await server('b', replyB);
    open.push(a.srv, b.srv);
    const client = new Client({ server: `${a.srv.url},${b.srv.url}`, timeoutMs: 10_000 });
    clients.push(client);
    return { a, b, client };
  };

  it('uses the first server, moves to the second when the first is gone, and stays there', async () => {
    const { a, b, client } = await both();
    expect(client.servers).toEqual([a.srv.url, b.srv.url]);
    expect(await client.get('pods', 'x')).toMatchObject({ served: 'a' });
    await a.srv.close();
    expect(await client.get('pods', 'x')).toMatchObject({ served: 'b' });
    expect(client.server).toBe(b.srv.url);
    // Even a write that must not be sent twice goes on: the first server refused the connection.
    expect(await client.create('pods', { metadata: { generateName: 'web-' } })).toMatchObject({ served: 'b' });
    expect(b.hits.map((h) => h.method)).toEqual(['GET', 'POST']);
  });

  it('stays with a healthy server rather than going back', async () => {
    let aFails = true;
    const { a, b, client } = await both(() => (aFails ? [503, undefined] : [200, {}]));
    expect(await client.get('pods', 'x')).toMatchObject({ served: 'b' });
    aFails = false;
    for (let i = 0; i < 3; i++) expect(await client.get('pods', 'x')).toMatchObject({ served: 'b' });
    expect(a.hits).toHaveLength(1);
    expect(b.hits).toHaveLength(4);
  });

  it('takes a 4xx as the answer, and a 5xx from every server as the last one', async () => {
    const { b, client } = await both(() => [404, undefined], () => [503, undefined]);
    await expect(client.get('pods', 'x')).rejects.toMatchObject({ code: 404, message: 'a says 404' });
    expect(b.hits).toHaveLength(0);
    const all = await both(() => [503, undefined], () => [500, undefined]);
    await expect(all.client.get('pods', 'x')).rejects.toMatchObject({ code: 500, message: 'b says 500' });
  });

  it('repeats a write on the other server only when it cannot act twice', async () => {
    const { a, b, client } = await both(() => [503, undefined]);
    // A generated name would make a second object: the 503 is the answer.
    await expect(client.create('pods', { metadata: { generateName: 'web-' } })).rejects.toMatchObject({ code: 503 });
    expect(b.hits).toHaveLength(0);
    // An update with a resourceVersion conflicts if repeated after it took effect.
    expect(await client.update('pods', { metadata: { name: 'web', namespace: 'default', resourceVersion: '3' } })).toMatchObject({ served: 'b' });
    expect(a.hits.map((h) => h.method)).toEqual(['POST', 'PUT']);
  });

  it('does not repeat an unconditional patch whose connection broke after it was sent', async () => {
    const { a, b, client } = await both(() => [0, undefined]);
    await expect(client.patch('pods', 'web', { metadata: { labels: { a: 'b' } } }, 'merge')).rejects.toBeInstanceOf(ConnectionError);
    expect(a.hits).toHaveLength(1);
    expect(b.hits).toHaveLength(0);
    // The server that dropped it is left for the next request, which may go anywhere.
    expect(client.server).toBe(b.srv.url);
  });

  it('fails with the last connection error when no server answers', async () => {
    const client = new Client({ server: `http://127.0.0.1:${await closedPort()},http://127.0.0.1:${await closedPort()}` });
    clients.push(client);
    await expect(client.get('pods', 'x')).rejects.toMatchObject({ name: 'ConnectionError', errno: 'ECONNREFUSED' });
  });
});

describe('an informer over two API servers of one store', () => {
  const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' } });
  let store: FakeApiServer;
  let a: FrontServer;
  let b: FrontServer;
  let client: Client;
  let informer: Informer<KubeObject>;

  beforeEach(async () => {
    store = new FakeApiServer();
    await store.start();
    a = await frontServer(store.url);
    b = await frontServer(store.url);
    client = new Client({ server: `${a.url},${b.url}` });
    informer = new Informer<KubeObject>(client, 'pods', { backoff: { initialMs: 10, maxMs: 50 }, logger: createLogger('test', { write: () => undefined }) });
  });
  afterEach(async () => {
    informer.stop();
    client.close();
    await a.kill();
    await b.kill();
    await store.stop();
  });

  it('resumes its watch on the other server from the last resourceVersion it saw', async () => {
    store.set('pods', pod('one'));
    informer.start();
    await informer.waitForSync();
    store.set('pods', pod('two'));
    await waitFor('pod two', () => informer.get('ns/two') !== undefined, 10_000);
    const seen = informer.lastResourceVersion();
    await a.kill();
    store.set('pods', pod('three'));
    await waitFor('pod three', () => informer.get('ns/three') !== undefined, 10_000);
    // No relist: a watch from where it was.
    expect(b.hits).toEqual([expect.stringMatching(new RegExp(`^GET /api/v1/pods\\?watch=true&resourceVersion=${seen}(&|$)`))]);
  });

  it('lists afresh on the other server when that one no longer has the history (410)', async () => {
    store.set('pods', pod('one'));
    informer.start();
    await informer.waitForSync();
    await a.kill();
    store.set('pods', pod('two'));
    store.compact();
    await waitFor('pod two', () => informer.get('ns/two') !== undefined, 10_000);
    expect(b.hits.some((h) => h.startsWith('GET /api/v1/pods?') && h.includes('sendInitialEvents=true'))).toBe(true);
  });
});
