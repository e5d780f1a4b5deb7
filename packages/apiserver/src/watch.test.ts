import { createApiServer, ApiServer } from './server';
import { testStorage, testsOnEtcd } from './testing/storage';
import { call, podManifest } from './testing/http';
import { watchHttp, watchWs, Collected } from './testing/watch';

let api: ApiServer;
let base: string;
const open: Collected[] = [];

beforeEach(async () => {
  api = createApiServer({ dataDir: ':memory:', ...testStorage(), allowPrivileged: true, historyRevisions: 50, logger: { info() {}, warn() {}, error() {}, debug() {} } });
  base = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
});
afterEach(async () => {
  for (const w of open.splice(0)) w.close();
  await api.close();
});

const pods = '/api/v1/namespaces/default/pods';

async function track(w: Promise<Collected>): Promise<Collected> {
  const c = await w;
  open.push(c);
  return c;
}

describe.each([
  ['chunked HTTP', watchHttp],
  ['WebSocket', watchWs],
])('watch over %s', (_name, openWatch) => {
  test('from a resourceVersion: every later change, in order, exactly once', async () => {
    const list = await call(base, 'GET', pods);
    const rv = list.body.metadata.resourceVersion;
    const w = await track(openWatch(base, `${pods}?watch=true&resourceVersion=${rv}`));
    await Promise.all(Array.from({ length: 40 }, (_, i) => call(base, 'POST', pods, podManifest(`p${i}`))));
    await call(base, 'PATCH', `${pods}/p3`, { metadata: { labels: { x: 'y' } } }, { 'Content-Type': 'application/merge-patch+json' });
    await call(base, 'DELETE', `${pods}/p4`);
    await w.waitFor(42);
    const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(new Set(rvs).size).toBe(42);
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    // The test etcd cluster's one revision also counts the writes of the tests running beside this one.
    if (testsOnEtcd()) expect(rvs[0]).toBeGreaterThan(Number(rv));
    else expect(rvs[0]).toBe(Number(rv) + 1);
    expect(w.events.filter((e) => e.type === 'ADDED')).toHaveLength(40);
    expect(w.events[40]).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'p3', labels: { x: 'y' } } } });
    expect(w.events[41]).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'p4' } } });
  });

  test('opened at an old revision after a burst: replays the burst then goes live', async () => {
    const rv = (await call(base, 'GET', pods)).body.metadata.resourceVersion;
    for (let i = 0; i < 20; i++) await call(base, 'POST', pods, podManifest(`b${i}`));
    const w = await track(openWatch(base, `${pods}?watch=true&resourceVersion=${rv}`));
    await call(base, 'POST', pods, podManifest('live'));
    await w.waitFor(21);
    expect(w.events.map((e) => e.object.metadata.name)).toEqual([...Array.from({ length: 20 }, (_, i) => `b${i}`), 'live']);
  });
});

describe.each([
  ['chunked HTTP', watchHttp],
  ['WebSocket', watchWs],
])('sendInitialEvents over %s', (_name, openWatch) => {
  const streaming = 'watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true';

  test('the current objects as ADDED, a bookmark annotated as their end at their revision, then every change', async () => {
    for (const name of ['a', 'b', 'c']) await call(base, 'POST', pods, podManifest(name));
    const rv = (await call(base, 'GET', pods)).body.metadata.resourceVersion;
    const w = await track(openWatch(base, `${pods}?${streaming}`));
    await w.waitFor(4);
    await call(base, 'POST', pods, podManifest('d'));
    await w.waitFor(5);
    expect(w.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'a'],
      ['ADDED', 'b'],
      ['ADDED', 'c'],
      ['BOOKMARK', undefined],
      ['ADDED', 'd'],
    ]);
    // At the initial objects' revision: the list's before it at the earliest (later on etcd, if
    // other keys changed since: another test's in the same etcd), and before the next change.
    const bookmarkRv = Number(w.events[3].object.metadata.resourceVersion);
    if (api.store.backend === 'sqlite') expect(bookmarkRv).toBe(Number(rv));
    else expect(bookmarkRv).toBeGreaterThanOrEqual(Number(rv));
    expect(bookmarkRv).toBeLessThan(Number(w.events[4].object.metadata.resourceVersion));
    expect(w.events[3].object).toEqual({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(bookmarkRv), annotations: { 'k8s.io/initial-events-end': 'true' } } });
  });

  test('more initial events than the backlog a watcher is dropped at: all of them, at the pace it reads', async () => {
    const pad = 'p'.repeat(60_000);
    // 300 pods of 60 kB: 18 MB, past the 16 MiB a watcher may have unread.
    for (let i = 0; i < 300; i += 30) {
      await Promise.all(Array.from({ length: 30 }, (_, j) => call(base, 'POST', pods, { ...podManifest(`big-${i + j}`), metadata: { name: `big-${i + j}`, annotations: { pad } } })));
    }
    const w = await track(openWatch(base, `${pods}?${streaming}`));
    await w.waitFor(301, 20_000);
    expect(w.events.filter((e) => e.type === 'ADDED')).toHaveLength(300);
    expect(w.events[300]).toMatchObject({ type: 'BOOKMARK', object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
  }, 30_000);
});

test('sendInitialEvents=false without a resourceVersion: only the changes from now', async () => {
  await call(base, 'POST', pods, podManifest('old'));
  const w = await track(watchHttp(base, `${pods}?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan`));
  // Nothing comes to say the watch is registered: a change is made until one arrives.
  for (let i = 0; w.events.length === 0 && i < 100; i++) {
    await call(base, 'POST', pods, podManifest(`new-${i}`));
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(w.events.length).toBeGreaterThan(0);
  expect(w.events.map((e) => e.object.metadata.name)).not.toContain('old');
});

test('sendInitialEvents is checked as Kubernetes checks it', async () => {
  const refused = async (query: string) => {
    const r = await call(base, 'GET', `${pods}?${query}`);
    expect(r.status).toBe(422);
    return r.body.message as string;
  };
  expect(await refused('watch=true&sendInitialEvents=true&allowWatchBookmarks=true')).toBe(
    'ListOptions "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
  );
  expect(await refused('watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan')).toBe(
    'ListOptions "" is invalid: allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true',
  );
  expect(await refused('watch=true&resourceVersionMatch=NotOlderThan')).toBe(
    'ListOptions "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
  );
  expect((await call(base, 'GET', `${pods}?watch=true&sendInitialEvents=maybe&resourceVersionMatch=NotOlderThan`)).status).toBe(400);
});

test('without a resourceVersion: current objects first as ADDED', async () => {
  await call(base, 'POST', pods, podManifest('old'));
  const w = await track(watchHttp(base, `${pods}?watch=true`));
  // The headers come before the watch is registered (on etcd it waits for a quorum read): its first event says it is.
  await w.waitFor(1);
  await call(base, 'POST', pods, podManifest('new'));
  await w.waitFor(2);
  expect(w.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
    ['ADDED', 'old'],
    ['ADDED', 'new'],
  ]);
});

test('a label selector turns objects leaving and entering it into DELETED and ADDED', async () => {
  const rv = (await call(base, 'GET', pods)).body.metadata.resourceVersion;
  const w = await track(watchHttp(base, `${pods}?watch=true&resourceVersion=${rv}&labelSelector=app%3Dweb`));
  await call(base, 'POST', pods, podManifest('s'));
  await call(base, 'PATCH', `${pods}/s`, { metadata: { labels: { app: 'db' } } }, { 'Content-Type': 'application/merge-patch+json' });
  await call(base, 'PATCH', `${pods}/s`, { metadata: { labels: { app: 'web' } } }, { 'Content-Type': 'application/merge-patch+json' });
  await w.waitFor(3);
  expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'DELETED', 'ADDED']);
});

test('watches of one node\'s pods each get that node\'s pods only, a pod bound to it as ADDED', async () => {
  const rv = (await call(base, 'GET', pods)).body.metadata.resourceVersion;
  const n1 = await track(watchHttp(base, `${pods}?watch=true&resourceVersion=${rv}&fieldSelector=spec.nodeName%3Dn1`));
  const n2 = await track(watchHttp(base, `${pods}?watch=true&resourceVersion=${rv}&fieldSelector=spec.nodeName%3Dn2,metadata.name%21%3Dskip`));
  const onNode = (name: string, nodeName: string) => podManifest(name, { spec: { nodeName, containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } });
  await call(base, 'POST', pods, onNode('a', 'n1'));
  await call(base, 'POST', pods, podManifest('b'));
  await call(base, 'POST', pods, onNode('skip', 'n2'));
  await call(base, 'POST', `${pods}/b/binding`, { target: { name: 'n2' } });
  await call(base, 'DELETE', `${pods}/a`, { gracePeriodSeconds: 0 });
  await n1.waitFor(2);
  await n2.waitFor(1);
  expect(n1.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED a', 'DELETED a']);
  expect(n2.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED b']);
});

test('a compacted resourceVersion gets an ERROR event with 410 Gone', async () => {
  for (let i = 0; i < 60; i++) await call(base, 'POST', pods, podManifest(`c${i}`));
  await api.store.compact();
  const w = await track(watchHttp(base, `${pods}?watch=true&resourceVersion=2`));
  await w.waitFor(1);
  expect(w.events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
});

test('watch events as Tables for kubectl get -w', async () => {
  const rv = (await call(base, 'GET', pods)).body.metadata.resourceVersion;
  const w = await track(watchHttp(base, `${pods}?watch=true&resourceVersion=${rv}`, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' }));
  await call(base, 'POST', pods, podManifest('t'));
  await w.waitFor(1);
  expect(w.events[0].object.kind).toBe('Table');
  expect(w.events[0].object.rows[0].cells[0]).toBe('t');
});

test('a watcher that stops reading is dropped once its backlog passes the limit', async () => {
  const small = createApiServer({ dataDir: ':memory:', ...testStorage(), allowPrivileged: true, maxWatchBacklogBytes: 64 * 1024, logger: { info() {}, warn() {}, error() {}, debug() {} } });
  const port = await small.listen(0, '127.0.0.1');
  try {
    const net = await import('net');
    // A raw socket that sends the request and then never reads: the kernel buffers fill, then the server's.
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET ${pods}?watch=true HTTP/1.1\r\nHost: x\r\n\r\n`);
    socket.pause();
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const watching = () => small.metrics.registry.getSingleMetric('apiserver_registered_watchers')!.get();
    const open = async () => ((await watching()).values.find((v) => v.labels.resource === 'pods')?.value ?? 0);
    while ((await open()) < 1) await new Promise((r) => setTimeout(r, 10));
    const big = { ...podManifest('x'), metadata: { name: 'x', labels: { app: 'web' }, annotations: { pad: 'p'.repeat(60_000) } } };
    for (let i = 0; i < 400 && (await open()) > 0; i++) {
      await call(`http://127.0.0.1:${port}`, 'POST', pods, { ...big, metadata: { ...big.metadata, name: `big-${i}` } });
    }
    expect(await open()).toBe(0);
    socket.resume();
    await closed;
  } finally {
    await small.close();
  }
}, 30_000);

test('timeoutSeconds ends the watch', async () => {
  const started = Date.now();
  const r = await call(base, 'GET', `${pods}?watch=true&timeoutSeconds=1`);
  expect(r.status).toBe(200);
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
});
