// pods/eviction: a policy/v1 Eviction deletes its pod gracefully with the DeleteOptions it
// carries (no disruption budgets yet), honours dryRun, and is listed in discovery as
// kubectl drain looks for it.

import { removeDir, startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { call } from './testing/http';
import { watchHttp } from './testing/watch';

jest.setTimeout(60_000);

const pods = '/api/v1/namespaces/default/pods';
let server: RunningApiServer;

beforeAll(async () => {
  server = await startApiServer();
  await call(server.url, 'POST', '/api/v1/nodes', { metadata: { name: 'n1' } });
});

afterAll(async () => {
  await server.kill();
  removeDir(server.dataDir);
});

async function boundPod(name: string, grace = 30): Promise<{ uid: string }> {
  const created = await call(server.url, 'POST', pods, { metadata: { name }, spec: { terminationGracePeriodSeconds: grace, containers: [{ name: 'c', image: 'x:1' }] } });
  expect(created.status).toBe(201);
  expect((await call(server.url, 'POST', `${pods}/${name}/binding`, { target: { name: 'n1' } })).status).toBe(201);
  return { uid: created.body.metadata.uid };
}

const eviction = (name: string, deleteOptions?: unknown) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, ...(deleteOptions ? { deleteOptions } : {}) });

test('discovery lists pods/eviction with its group-version, as kubectl drain looks for it', async () => {
  const core = await call(server.url, 'GET', '/api/v1');
  expect(core.body.resources.find((r: { name: string }) => r.name === 'pods/eviction')).toEqual({
    name: 'pods/eviction',
    singularName: '',
    namespaced: true,
    group: 'policy',
    version: 'v1',
    kind: 'Eviction',
    verbs: ['create'],
  });
});

test('an eviction is a graceful delete: the pod is terminating with its own grace period, or the one asked for', async () => {
  await boundPod('own');
  const evicted = await call(server.url, 'POST', `${pods}/own/eviction`, eviction('own'));
  expect(evicted.status).toBe(201);
  expect(evicted.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Success' });
  const own = (await call(server.url, 'GET', `${pods}/own`)).body;
  expect(own.metadata.deletionGracePeriodSeconds).toBe(30);
  expect(own.metadata.deletionTimestamp).toBeDefined();

  await boundPod('short');
  expect((await call(server.url, 'POST', `${pods}/short/eviction`, eviction('short', { gracePeriodSeconds: 5 }))).status).toBe(201);
  expect((await call(server.url, 'GET', `${pods}/short`)).body.metadata.deletionGracePeriodSeconds).toBe(5);
});

test('an unbound pod, as with a delete, goes at once', async () => {
  await call(server.url, 'POST', pods, { metadata: { name: 'unbound' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } });
  expect((await call(server.url, 'POST', `${pods}/unbound/eviction`, eviction('unbound'))).status).toBe(201);
  expect((await call(server.url, 'GET', `${pods}/unbound`)).status).toBe(404);
});

test('preconditions are honoured; a missing pod is 404; a bad Eviction is 400 and changes nothing', async () => {
  const { uid } = await boundPod('guarded');
  const stale = await call(server.url, 'POST', `${pods}/guarded/eviction`, eviction('guarded', { preconditions: { uid: 'other' } }));
  expect(stale.status).toBe(409);
  expect(stale.body.message).toContain('Precondition failed: UID in precondition: other');
  expect((await call(server.url, 'POST', `${pods}/nope/eviction`, eviction('nope'))).body).toMatchObject({ code: 404, message: 'pods "nope" not found' });
  const wrongName = await call(server.url, 'POST', `${pods}/guarded/eviction`, eviction('other'));
  expect(wrongName.body).toMatchObject({ code: 400, message: 'name in URL does not match name in Eviction object' });
  expect((await call(server.url, 'POST', `${pods}/guarded/eviction`, { ...eviction('guarded'), kind: 'Pod' })).status).toBe(400);
  expect((await call(server.url, 'POST', `${pods}/guarded/eviction`, { ...eviction('guarded'), apiVersion: 'v1' })).status).toBe(400);
  expect((await call(server.url, 'POST', `${pods}/guarded/eviction`, eviction('guarded', { gracePeriodSeconds: 'soon' }))).status).toBe(400);
  expect((await call(server.url, 'POST', `${pods}/guarded/eviction`, '[]')).status).toBe(400);
  expect((await call(server.url, 'GET', `${pods}/guarded/eviction`)).status).toBe(405);
  const pod = (await call(server.url, 'GET', `${pods}/guarded`)).body;
  expect(pod.metadata.uid).toBe(uid);
  expect(pod.metadata.deletionTimestamp).toBeUndefined();
  expect((await call(server.url, 'POST', `${pods}/guarded/eviction`, eviction('guarded', { preconditions: { uid } }))).status).toBe(201);
});

test('dryRun, in the query or in the DeleteOptions, evicts nothing; the two must agree', async () => {
  await boundPod('dry');
  const before = (await call(server.url, 'GET', `${pods}/dry`)).text;
  const rv = JSON.parse(before).metadata.resourceVersion;
  const watch = await watchHttp(server.url, `${pods}?watch=true&resourceVersion=${rv}`);
  try {
    expect((await call(server.url, 'POST', `${pods}/dry/eviction?dryRun=All`, eviction('dry'))).status).toBe(201);
    expect((await call(server.url, 'POST', `${pods}/dry/eviction`, eviction('dry', { dryRun: ['All'] }))).status).toBe(201);
    expect((await call(server.url, 'POST', `${pods}/dry/eviction?dryRun=All`, eviction('dry', { dryRun: ['All'] }))).status).toBe(201);
    expect((await call(server.url, 'POST', `${pods}/dry/eviction`, eviction('dry', { dryRun: ['Some'] }))).status).toBe(400);
    expect((await call(server.url, 'POST', `${pods}/dry/eviction?dryRun=Maybe`, eviction('dry'))).status).toBe(400);
    expect((await call(server.url, 'GET', `${pods}/dry`)).text).toBe(before);
    // A write made after the dry runs is the first event the watch sees.
    await call(server.url, 'PATCH', `${pods}/dry`, { metadata: { labels: { seen: 'yes' } } }, { 'Content-Type': 'application/merge-patch+json' });
    await watch.waitFor(1);
    expect(watch.events.map((e) => [e.type, e.object.metadata.labels])).toEqual([['MODIFIED', { seen: 'yes' }]]);
  } finally {
    watch.close();
  }
});
