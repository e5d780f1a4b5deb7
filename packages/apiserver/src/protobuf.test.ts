import http from 'http';
import WebSocket from 'ws';
import { decodeObject, decodeWatchEvent, encodeObject, FrameReader, protobufMediaType } from '@peapod/api';
import { createApiServer, ApiServer } from './server';
import { call, podManifest } from './testing/http';

let api: ApiServer;
let base: string;
let port: number;

beforeEach(async () => {
  api = createApiServer({ dataDir: ':memory:', allowPrivileged: true, logger: { info() {}, warn() {}, error() {}, debug() {} } });
  port = await api.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${port}`;
});
afterEach(async () => {
  await api.close();
});

const pods = '/api/v1/namespaces/default/pods';
/** What client-go's typed clients send. */
const protobufFirst = `${protobufMediaType}, application/json`;

interface Raw {
  status: number;
  contentType: string;
  body: Buffer;
}

function request(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: body ? { ...headers, 'Content-Length': String(body.length) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, contentType: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const protobufBody = (_obj: Record<string, unknown>) => ({ 'Content-Type': protobufMediaType });

test('create with a protobuf body; the answer in protobuf when Accept prefers it, else JSON', async () => {
  const pod = { ...podManifest('pb'), spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest', resources: { limits: { cpu: '1' } } }] } };
  const created = await request('POST', pods, { ...protobufBody(pod), Accept: protobufFirst }, encodeObject(pod));
  expect(created.status).toBe(201);
  expect(created.contentType).toBe(protobufMediaType);
  const obj = decodeObject(created.body) as { metadata: { uid: string }; spec: { restartPolicy: string } };
  expect(obj.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
  expect(obj.spec.restartPolicy).toBe('Always');

  const asJson = await call(base, 'GET', `${pods}/pb`);
  expect(asJson.headers.get('content-type')).toBe('application/json');
  // the protobuf answer is the stored object, as JSON readers see it
  expect(decodeObject((await request('GET', `${pods}/pb`, { Accept: protobufFirst })).body)).toEqual(JSON.parse(JSON.stringify(asJson.body)));
  expect(asJson.body.spec.containers[0].resources).toEqual({ limits: { cpu: '1' }, requests: { cpu: '1' } });
});

test('JSON stays the default: no Accept, */*, and JSON preferred by q', async () => {
  await call(base, 'POST', pods, podManifest('a'));
  for (const accept of [undefined, '*/*', 'application/json', `${protobufMediaType};q=0.5, application/json`]) {
    const r = await request('GET', `${pods}/a`, accept ? { Accept: accept } : {});
    expect([accept, r.contentType]).toEqual([accept, 'application/json']);
  }
  const r = await request('GET', `${pods}/a`, { Accept: `application/json;q=0.5, ${protobufMediaType}` });
  expect(r.contentType).toBe(protobufMediaType);
});

test('lists in protobuf carry every item; limit and continue too', async () => {
  for (let i = 0; i < 5; i++) await call(base, 'POST', pods, podManifest(`l${i}`));
  const json = (await call(base, 'GET', pods)).body;
  const r = await request('GET', pods, { Accept: protobufFirst });
  expect(r.contentType).toBe(protobufMediaType);
  expect(decodeObject(r.body)).toEqual(json);
  const page = decodeObject((await request('GET', `${pods}?limit=2`, { Accept: protobufFirst })).body) as { items: unknown[]; metadata: { continue: string } };
  expect(page.items).toHaveLength(2);
  const rest = decodeObject((await request('GET', `${pods}?continue=${page.metadata.continue}`, { Accept: protobufFirst })).body) as { items: { metadata: { name: string } }[] };
  expect(rest.items.map((p) => p.metadata.name)).toEqual(['l2', 'l3', 'l4']);
});

test('errors are protobuf Status objects for protobuf clients', async () => {
  const r = await request('GET', `${pods}/missing`, { Accept: protobufFirst });
  expect(r.status).toBe(404);
  expect(r.contentType).toBe(protobufMediaType);
  expect(decodeObject(r.body)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, details: { name: 'missing', kind: 'pods' } });
  const invalid = await request('POST', pods, { ...protobufBody({}), Accept: protobufFirst }, encodeObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad' }, spec: { containers: [{ name: 'c' }] } }));
  expect(invalid.status).toBe(422);
  expect(decodeObject(invalid.body)).toMatchObject({ reason: 'Invalid', details: { causes: [{ field: 'spec.containers[0].image' }] } });
});

test('malformed protobuf bodies: 400, nothing stored', async () => {
  const valid = encodeObject(podManifest('never') as Record<string, unknown>);
  const bodies = [Buffer.from('not protobuf'), valid.subarray(0, valid.length - 9), Buffer.concat([valid.subarray(0, 4), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])])];
  for (const body of bodies) {
    const r = await request('POST', pods, { 'Content-Type': protobufMediaType, Accept: 'application/json' }, body);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString())).toMatchObject({ kind: 'Status', code: 400 });
  }
  const wrongKind = await request('POST', pods, { 'Content-Type': protobufMediaType }, encodeObject({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'never' } }));
  expect(wrongKind.status).toBe(400);
  expect((await call(base, 'GET', pods)).body.items).toEqual([]);
  expect((await call(base, 'GET', '/api/v1/nodes')).body.items).toEqual([]);
});

test('update and delete with protobuf bodies: DeleteOptions are honoured', async () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } };
  await call(base, 'POST', '/api/v1/nodes', node);
  await call(base, 'POST', pods, { ...podManifest('d'), spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } });
  const current = (await call(base, 'GET', `${pods}/d`)).body;
  current.metadata.labels.updated = 'yes';
  const put = await request('PUT', `${pods}/d`, { 'Content-Type': protobufMediaType }, encodeObject(current));
  expect(put.status).toBe(200);
  expect(JSON.parse(put.body.toString()).metadata.labels.updated).toBe('yes');
  const del = await request('DELETE', `${pods}/d`, { 'Content-Type': protobufMediaType, Accept: protobufFirst }, encodeObject({ apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 7 }));
  expect(del.status).toBe(200);
  expect(decodeObject(del.body)).toMatchObject({ metadata: { name: 'd', deletionGracePeriodSeconds: 7 } });
  const notOptions = await request('DELETE', `${pods}/d`, { 'Content-Type': protobufMediaType }, encodeObject(node));
  expect(notOptions.status).toBe(400);
});

test('binding and scale subresources speak protobuf too', async () => {
  await call(base, 'POST', pods, podManifest('b'));
  const bound = await request('POST', `${pods}/b/binding`, { 'Content-Type': protobufMediaType, Accept: protobufFirst }, encodeObject({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b' }, target: { kind: 'Node', name: 'n1' } }));
  expect(bound.status).toBe(201);
  expect(decodeObject(bound.body)).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
  expect((await call(base, 'GET', `${pods}/b`)).body.spec.nodeName).toBe('n1');
  await call(base, 'POST', '/api/v1/namespaces/default/replicationcontrollers', {
    metadata: { name: 'rc' },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'rc' } }, spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } } },
  });
  const scale = decodeObject((await request('GET', '/api/v1/namespaces/default/replicationcontrollers/rc/scale', { Accept: protobufFirst })).body);
  expect(scale).toMatchObject({ apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: 1 }, status: { replicas: 0, selector: 'app=rc' } });
});

test('tables stay JSON whatever else the client accepts', async () => {
  await call(base, 'POST', pods, podManifest('t'));
  const r = await request('GET', pods, { Accept: `application/json;as=Table;v=v1;g=meta.k8s.io, ${protobufMediaType}` });
  expect(r.contentType).toBe('application/json');
  expect(JSON.parse(r.body.toString()).kind).toBe('Table');
});

test('watch over chunked HTTP: length-prefixed protobuf frames', async () => {
  await call(base, 'POST', pods, podManifest('w0'));
  const events: { type: string; object: Record<string, any> }[] = [];
  const reader = new FrameReader();
  let contentType = '';
  const req = http.get({ host: '127.0.0.1', port, path: `${pods}?watch=true`, headers: { Accept: protobufFirst } }, (res) => {
    contentType = String(res.headers['content-type']);
    res.on('data', (c: Buffer) => events.push(...reader.push(c).map(decodeWatchEvent)));
  });
  try {
    await waitFor(() => events.length === 1);
    await call(base, 'POST', pods, podManifest('w1'));
    await call(base, 'DELETE', `${pods}/w0`);
    await waitFor(() => events.length === 3);
    expect(contentType).toBe(`${protobufMediaType};stream=watch`);
    expect(events.map((e) => [e.type, e.object.kind, e.object.metadata.name])).toEqual([
      ['ADDED', 'Pod', 'w0'],
      ['ADDED', 'Pod', 'w1'],
      ['DELETED', 'Pod', 'w0'],
    ]);
  } finally {
    req.destroy();
  }
});

test('watch over a WebSocket: one binary message per event', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${pods}?watch=true`, { headers: { Accept: protobufFirst } });
  const events: { type: string; object: Record<string, any> }[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(true);
    events.push(decodeWatchEvent(data));
  });
  try {
    await new Promise((resolve) => ws.once('open', resolve));
    await call(base, 'POST', pods, podManifest('ws'));
    await waitFor(() => events.length === 1);
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'ws' } } });
  } finally {
    ws.close();
  }
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
