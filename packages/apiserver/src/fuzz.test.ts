import http from 'http';
import fc from 'fast-check';
import { gcOnSignal, removeDir, startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { encodeObject, protobufMediaType } from '@peapod/api';
import { podManifest } from './testing/http';

jest.setTimeout(180_000);

let server: RunningApiServer;
beforeAll(async () => {
  server = await startApiServer({ nodeArgs: gcOnSignal });
});
afterAll(async () => {
  await server.kill('SIGKILL');
  removeDir(server.dataDir);
});

interface Fuzzed {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function send(port: number, r: Fuzzed): Promise<{ status: number; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - t0 }));
      res.on('error', () => resolve({ status: -1, ms: Date.now() - t0 }));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ status: -2, ms: Date.now() - t0 });
    });
    req.on('error', () => resolve({ status: -1, ms: Date.now() - t0 }));
    req.end(r.body);
  });
}

const segment = fc.oneof(
  fc.constantFrom('pods', 'nodes', 'events', 'namespaces', 'replicationcontrollers', 'bindings', 'status', 'binding', 'scale', 'log', 'default', 'kube-system', 'x'),
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom('%', '%zz', '..', '%2F', 'a%00b', '\u00e9'.normalize()).map((s) => encodeURI(s)),
);

const validPath = fc.oneof(
  fc
    .tuple(fc.constantFrom('pods', 'replicationcontrollers', 'events'), fc.option(fc.constantFrom('fz', 'x'), { nil: undefined }), fc.option(fc.constantFrom('status', 'scale', 'binding', 'log'), { nil: undefined }))
    .map(([r, name, sub]) => `/api/v1/namespaces/default/${r}${name ? `/${name}${sub ? `/${sub}` : ''}` : ''}`),
  fc.tuple(fc.option(fc.constant('fz'), { nil: undefined }), fc.boolean()).map(([name, status]) => `/api/v1/nodes${name ? `/${name}${status ? '/status' : ''}` : ''}`),
);

const pathArb = fc.oneof(
  { arbitrary: validPath, weight: 6 },
  { arbitrary: fc.array(segment, { minLength: 0, maxLength: 6 }).map((segs) => `/api/v1/${segs.join('/')}`), weight: 1 },
  { arbitrary: fc.array(segment, { minLength: 1, maxLength: 3 }).map((segs) => `/api/v1/namespaces/${segs.join('/')}`), weight: 1 },
  { arbitrary: fc.constantFrom('/api', '/apis', '/version', '/openapi/v2', '/openapi/v3', '/openapi/v3/api/v1', '/healthz', '/metrics', '/nope', '/api/v2/pods'), weight: 1 },
);

const queryArb = fc
  .array(
    fc.tuple(
      fc.constantFrom('labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'gracePeriodSeconds', 'fieldValidation', 'dryRun', 'includeObject', 'propagationPolicy', 'x'),
      fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('app=web', 'a in (b', 'metadata.name=x', 'spec.nodeName=', '-1', '99999999999999999999', 'Strict', 'All', 'Orphan', '!a,b notin (c)')),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length ? `?${new URLSearchParams(pairs)}` : ''));

const templates: { path: string; object: Record<string, unknown> }[] = [
  { path: '/api/v1/namespaces/default/pods', object: podManifest('fz') },
  { path: '/api/v1/nodes', object: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'fz' }, status: { capacity: { cpu: '1' } } } },
  {
    path: '/api/v1/namespaces/default/replicationcontrollers',
    object: { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'fz' }, spec: { replicas: 1, template: { metadata: { labels: { a: 'b' } }, spec: podManifest('x').spec } } },
  },
  { path: '/api/v1/namespaces/default/pods/fz/binding', object: { metadata: { name: 'fz' }, target: { name: 'n1' } } },
  { path: '/api/v1/namespaces/default/events', object: { metadata: { name: 'fz' }, involvedObject: { kind: 'Pod', name: 'fz' }, reason: 'R', message: 'm' } },
];

/** A valid object with one part replaced by something random: the inputs most likely to reach deep code. */
function mutate(obj: Record<string, unknown>, path: string[], value: unknown): string {
  const copy = JSON.parse(JSON.stringify(obj)) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
  return JSON.stringify(copy);
}

const mutation = fc.tuple(
  fc.array(fc.constantFrom('metadata', 'spec', 'status', 'name', 'containers', 'labels', 'replicas', 'target', 'template', 'kind', 'apiVersion', '0', 'image', 'ports', 'generateName', 'nodeName', 'involvedObject'), { minLength: 1, maxLength: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Well-formed writes (right path, JSON, the matching kind) carrying a mutated object. */
const mutatedWrite: fc.Arbitrary<Fuzzed> = fc
  .tuple(fc.constantFrom(...templates), mutation, fc.constantFrom('POST', 'POST', 'PUT', 'PATCH'))
  .map(([t, [path, value], method]) => {
    const body = Buffer.from(mutate(t.object, path, value));
    const itemPath = t.path.endsWith('binding') || method === 'POST' ? t.path : `${t.path}/fz`;
    const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    return { method, path: itemPath, headers: { 'Content-Type': type, 'Content-Length': String(body.length), Accept: 'application/json' }, body };
  });

const mutatedObject = fc.tuple(fc.constantFrom(...templates), mutation).map(([t, [path, value]]) => mutate(t.object, path, value));

const bodyArb = fc.oneof(
  mutatedObject.map((s) => Buffer.from(s)),
  mutatedObject.map((s) => Buffer.from(s)),
  mutatedObject.map((s) => Buffer.from(s)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v))),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.from(JSON.stringify([{ op: 'replace', path: '/spec', value: null }]))),
);

const randomRequest: fc.Arbitrary<Fuzzed> = fc
  .record({
    method: fc.oneof({ arbitrary: fc.constantFrom('POST', 'PUT', 'PATCH'), weight: 3 }, { arbitrary: fc.constantFrom('GET', 'DELETE', 'OPTIONS', 'HEAD'), weight: 2 }),
    path: pathArb,
    query: queryArb,
    contentType: fc.constantFrom(
      'application/json',
      'application/json',
      'application/json',
      'application/yaml',
      'application/merge-patch+json',
      'application/json-patch+json',
      'application/strategic-merge-patch+json',
      'text/plain',
      'application/vnd.kubernetes.protobuf',
      '',
    ),
    accept: fc.constantFrom('application/json', 'application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/vnd.kubernetes.protobuf', '*/*', 'garbage;;=='),
    body: fc.option(bodyArb, { nil: undefined }),
  })
  .map((r) => {
    const headers: Record<string, string> = { Accept: r.accept };
    // Node's client sends a GET body without a length (which no server can frame): give every body one.
    if (r.body) headers['Content-Length'] = String(r.body.length);
    if (r.contentType) headers['Content-Type'] = r.contentType;
    return { method: r.method, path: r.path + r.query, headers, body: r.body };
  });

/** A protobuf encoding of a template object, or of a wrongly typed mutation, or bytes that look like one but are not. */
function protobufOf(obj: Record<string, unknown>, fallback: string): Buffer {
  try {
    return encodeObject(obj);
  } catch {
    return Buffer.from(fallback);
  }
}

/** Writes with protobuf bodies: valid ones, mutated objects, and valid bodies with a byte changed or cut short. */
const protobufWrite: fc.Arbitrary<Fuzzed> = fc
  .tuple(fc.constantFrom(...templates), mutation, fc.constantFrom('POST', 'PUT', 'DELETE'), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('intact', 'mutated', 'byte', 'cut'))
  .map(([t, [path, value], method, at, byte, how]) => {
    const objectText = how === 'mutated' ? mutate(t.object, path, value) : JSON.stringify(t.object);
    const obj = JSON.parse(objectText) as Record<string, unknown>;
    obj.apiVersion ??= 'v1';
    obj.kind ??= t.path.endsWith('binding') ? 'Binding' : 'Pod';
    let body = protobufOf(method === 'DELETE' ? { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 } : obj, objectText);
    if (how === 'byte') body = Buffer.from(body).fill(byte, at % body.length, (at % body.length) + 1);
    if (how === 'cut') body = body.subarray(0, at % body.length);
    const itemPath = t.path.endsWith('binding') || method === 'POST' ? t.path : `${t.path}/fz`;
    const headers = { 'Content-Type': protobufMediaType, 'Content-Length': String(body.length), Accept: `${protobufMediaType}, application/json` };
    return { method, path: itemPath, headers, body };
  });

const requestArb = fc.oneof({ arbitrary: randomRequest, weight: 3 }, { arbitrary: mutatedWrite, weight: 2 }, { arbitrary: protobufWrite, weight: 1 });

/** The server's heap once its garbage is collected. */
async function heapUsedMiB(port: number): Promise<number> {
  server.proc.kill('SIGUSR2');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)/m.exec(text);
  return Number(m![1]) / 1024 / 1024;
}

async function round(seed: number, runs: number): Promise<Map<number, number>> {
  const requests = fc.sample(requestArb, { numRuns: runs, seed });
  const statuses = new Map<number, number>();
  let slowest = 0;
  for (let i = 0; i < requests.length; i += 16) {
    const batch = await Promise.all(requests.slice(i, i + 16).map((r) => send(server.port, r)));
    for (const { status, ms } of batch) {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      slowest = Math.max(slowest, ms);
    }
  }
  for (const r of ['pods', 'replicationcontrollers', 'events']) await fetch(`${server.url}/api/v1/namespaces/default/${r}`, { method: 'DELETE' });
  await fetch(`${server.url}/api/v1/nodes`, { method: 'DELETE' });
  process.stdout.write(`fuzz: ${runs} requests (seed ${seed}), statuses ${JSON.stringify(Object.fromEntries(statuses))}, slowest ${slowest} ms\n`);
  return statuses;
}

test('random and mutated requests on every route (JSON and protobuf bodies): only 2xx/4xx, no hang, no crash, no memory growth', async () => {
  const baseline = await heapUsedMiB(server.port);
  const rounds: Map<number, number>[] = [];
  const heaps: number[] = [];
  for (const seed of [1, 2, 3, 4, 5]) {
    rounds.push(await round(seed, 3000));
    heaps.push(await heapUsedMiB(server.port));
  }
  process.stdout.write(`fuzz: heap used ${baseline.toFixed(1)} MiB at start, ${heaps.map((h) => h.toFixed(1)).join(' / ')} MiB after each round\n`);
  const failures = server.logs().split('\n').filter((l) => l.includes('"request failed"'));
  expect(failures).toEqual([]);
  for (const statuses of rounds) {
    expect([...statuses.entries()].filter(([s]) => s >= 500 || s < 0)).toEqual([]);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(10);
  }
  expect(server.proc.exitCode).toBeNull();
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  // What the first round leaves is caches (recent watch events, shared trees); a leak would keep growing round after round.
  expect(heaps[heaps.length - 1] - heaps[0]).toBeLessThan(25);
});
