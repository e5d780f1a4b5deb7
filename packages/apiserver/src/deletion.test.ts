// Deletion propagation on the API server's side: it marks (deletionTimestamp, the grace
// period, the garbage collector's finalizers) and never touches the dependents itself. The
// garbage collector's side is tested in the controller manager.

import { call, podManifest } from './testing/http';
import { serverPerTest } from './testing/server';
import { watchHttp } from './testing/watch';

const server = serverPerTest();

const ns = '/api/v1/namespaces/default';
const rcs = `${ns}/replicationcontrollers`;
const pods = `${ns}/pods`;
const merge = { 'Content-Type': 'application/merge-patch+json' };

async function rcWithPod(name: string, finalizers?: string[]) {
  const rc = (
    await call(server.base, 'POST', rcs, {
      metadata: { name, finalizers },
      spec: { replicas: 1, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } } },
    })
  ).body;
  const ref = { apiVersion: 'v1', kind: 'ReplicationController', name, uid: rc.metadata.uid, controller: true, blockOwnerDeletion: true };
  await call(server.base, 'POST', pods, podManifest(`${name}-1`, { metadata: { name: `${name}-1`, labels: { app: name }, ownerReferences: [ref] } }));
  return rc;
}

async function get(path: string) {
  return call(server.base, 'GET', path);
}

test('a replication controller deleted without a policy is orphaned, as v1 controllers are in Kubernetes; its pods are left to the collector', async () => {
  const rc = await rcWithPod('o');
  const d = await call(server.base, 'DELETE', `${rcs}/o`);
  expect(d.status).toBe(200);
  expect(d.body.metadata).toMatchObject({ finalizers: ['orphan'], deletionGracePeriodSeconds: 0, generation: rc.metadata.generation + 1 });
  expect(Date.parse(d.body.metadata.deletionTimestamp)).toBeLessThanOrEqual(Date.now());
  expect((await get(`${rcs}/o`)).body.metadata.finalizers).toEqual(['orphan']);
  expect((await get(`${pods}/o-1`)).body.metadata.ownerReferences).toHaveLength(1);
});

test.each([
  ['propagationPolicy Foreground', '?propagationPolicy=Foreground', undefined, ['foregroundDeletion']],
  ['propagationPolicy Orphan in the body', '', { propagationPolicy: 'Orphan' }, ['orphan']],
  ['orphanDependents=true (the old option)', '?orphanDependents=true', undefined, ['orphan']],
  ['orphanDependents: true in the body', '', { orphanDependents: true }, ['orphan']],
])('%s: marked with its finalizer, kept', async (_what, query, body, finalizers) => {
  await rcWithPod('f');
  const d = await call(server.base, 'DELETE', `${rcs}/f${query}`, body);
  expect(d.status).toBe(200);
  expect(d.body.metadata.finalizers).toEqual(finalizers);
  expect((await get(`${rcs}/f`)).status).toBe(200);
});

test.each([
  ['propagationPolicy Background', '?propagationPolicy=Background', undefined],
  ['orphanDependents: false', '', { orphanDependents: false }],
])('%s: gone at once', async (_what, query, body) => {
  await rcWithPod('b');
  expect((await call(server.base, 'DELETE', `${rcs}/b${query}`, body)).status).toBe(200);
  expect((await get(`${rcs}/b`)).status).toBe(404);
  expect((await get(`${pods}/b-1`)).body.metadata.ownerReferences).toHaveLength(1);
});

test('bad DeleteOptions are refused with 422 and change nothing', async () => {
  await rcWithPod('bad');
  const both = await call(server.base, 'DELETE', `${rcs}/bad`, { orphanDependents: true, propagationPolicy: 'Orphan' });
  expect(both.status).toBe(422);
  expect(both.body.details.causes[0].field).toBe('propagationPolicy');
  const unknown = await call(server.base, 'DELETE', `${rcs}/bad?propagationPolicy=Sideways`);
  expect(unknown.status).toBe(422);
  expect(unknown.body.message).toContain('Unsupported value: "Sideways"');
  expect((await get(`${rcs}/bad`)).body.metadata.deletionTimestamp).toBeUndefined();
});

test('a later delete may change the policy: Foreground, then Orphan, then Background removes it', async () => {
  await rcWithPod('c');
  const first = (await call(server.base, 'DELETE', `${rcs}/c?propagationPolicy=Foreground`)).body;
  const second = (await call(server.base, 'DELETE', `${rcs}/c?propagationPolicy=Orphan`)).body;
  expect(second.metadata.finalizers).toEqual(['orphan']);
  expect(second.metadata.deletionTimestamp).toBe(first.metadata.deletionTimestamp);
  expect(second.metadata.generation).toBe(first.metadata.generation);
  await call(server.base, 'DELETE', `${rcs}/c?propagationPolicy=Background`);
  expect((await get(`${rcs}/c`)).status).toBe(404);
});

test('other finalizers are kept; the object goes when its last finalizer is removed, and watchers see it go', async () => {
  await rcWithPod('k', ['example.com/keep']);
  const d = await call(server.base, 'DELETE', `${rcs}/k?propagationPolicy=Foreground`);
  expect(d.body.metadata.finalizers).toEqual(['example.com/keep', 'foregroundDeletion']);
  const w = await watchHttp(server.base, `${rcs}?watch=true&resourceVersion=${d.body.metadata.resourceVersion}`);
  try {
    const p1 = await call(server.base, 'PATCH', `${rcs}/k`, { metadata: { finalizers: ['example.com/keep'] } }, merge);
    expect(p1.status).toBe(200);
    expect((await get(`${rcs}/k`)).status).toBe(200);
    const p2 = await call(server.base, 'PATCH', `${rcs}/k`, { metadata: { finalizers: null } }, merge);
    expect(p2.status).toBe(200);
    expect((await get(`${rcs}/k`)).status).toBe(404);
    await w.waitFor(2);
    expect(w.events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
  } finally {
    w.close();
  }
});

test('a pod deleted in foreground keeps its grace period; with grace 0 it waits for its finalizer', async () => {
  await call(server.base, 'POST', pods, podManifest('p', { spec: { terminationGracePeriodSeconds: 40, containers: [{ name: 'c', image: 'x:1' }] } }));
  await call(server.base, 'POST', `${pods}/p/binding`, { target: { name: 'n1' } });
  const t0 = Date.now();
  const d = (await call(server.base, 'DELETE', `${pods}/p?propagationPolicy=Foreground`)).body;
  expect(d.metadata).toMatchObject({ deletionGracePeriodSeconds: 40, finalizers: ['foregroundDeletion'] });
  expect(Math.abs(Date.parse(d.metadata.deletionTimestamp) - (t0 + 40_000))).toBeLessThan(2000);

  // A shorter grace period counts from the first delete.
  const shorter = (await call(server.base, 'DELETE', `${pods}/p`, { gracePeriodSeconds: 10 })).body;
  expect(Date.parse(shorter.metadata.deletionTimestamp)).toBe(Date.parse(d.metadata.deletionTimestamp) - 30_000);
  expect(shorter.metadata.finalizers).toEqual(['foregroundDeletion']);

  // The node's final delete (grace 0, no policy): the finalizer still holds the pod.
  const last = await call(server.base, 'DELETE', `${pods}/p`, { gracePeriodSeconds: 0, preconditions: { uid: d.metadata.uid } });
  expect(last.body.metadata.deletionGracePeriodSeconds).toBe(0);
  expect((await get(`${pods}/p`)).status).toBe(200);
  await call(server.base, 'PATCH', `${pods}/p`, { metadata: { finalizers: null } }, merge);
  expect((await get(`${pods}/p`)).status).toBe(404);
});

test('a pod whose finalizer is removed while its grace period runs stays until its node removes it', async () => {
  await call(server.base, 'POST', pods, podManifest('q', { metadata: { name: 'q', finalizers: ['example.com/x'] } }));
  await call(server.base, 'POST', `${pods}/q/binding`, { target: { name: 'n1' } });
  await call(server.base, 'DELETE', `${pods}/q`);
  await call(server.base, 'PATCH', `${pods}/q`, { metadata: { finalizers: null } }, merge);
  expect((await get(`${pods}/q`)).body.metadata.deletionGracePeriodSeconds).toBe(30);
  await call(server.base, 'DELETE', `${pods}/q?gracePeriodSeconds=0`);
  expect((await get(`${pods}/q`)).status).toBe(404);
});

test('events own nothing: a foreground delete removes one at once', async () => {
  const ev = { metadata: { name: 'e1' }, involvedObject: { kind: 'Pod', name: 'x', namespace: 'default' }, reason: 'R', message: 'm', type: 'Normal' };
  expect((await call(server.base, 'POST', `${ns}/events`, ev)).status).toBe(201);
  expect((await call(server.base, 'DELETE', `${ns}/events/e1?propagationPolicy=Foreground`)).status).toBe(200);
  expect((await get(`${ns}/events/e1`)).status).toBe(404);
});

test('a namespace is marked Terminating; a system namespace cannot be deleted', async () => {
  await call(server.base, 'POST', '/api/v1/namespaces', { metadata: { name: 'tmp' } });
  const d = await call(server.base, 'DELETE', '/api/v1/namespaces/tmp');
  expect(d.body.status.phase).toBe('Terminating');
  expect(d.body.metadata.deletionTimestamp).toBeDefined();
  const sys = await call(server.base, 'DELETE', '/api/v1/namespaces/kube-system');
  expect(sys.status).toBe(403);
  expect(sys.body.message).toBe('namespaces "kube-system" is forbidden: this namespace may not be deleted');
});
