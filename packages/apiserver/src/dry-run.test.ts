// dryRun=All on every verb and subresource that writes: the answer is what would have been
// stored, and nothing is: the stored objects are byte-identical afterwards, the revision has
// not moved, and watches opened before see nothing until the next real write.

import { call, podManifest, Reply } from './testing/http';
import { serverPerTest } from './testing/server';
import { watchHttp, Collected } from './testing/watch';

// No lease renewals: the test checks that the revision does not move.
const server = serverPerTest({ endpointReconcilerType: 'none' });

const ns = '/api/v1/namespaces/default';
const merge = { 'Content-Type': 'application/merge-patch+json' };
const jsonPatch = { 'Content-Type': 'application/json-patch+json' };
const strategic = { 'Content-Type': 'application/strategic-merge-patch+json' };

function rcManifest(name: string, replicas: number) {
  return {
    metadata: { name },
    spec: { replicas, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } } },
  };
}

/** The objects every case may touch, stored before the dry runs. */
const stored = [`${ns}/pods/bound`, `${ns}/pods/unbound`, `${ns}/replicationcontrollers/web`, '/api/v1/namespaces/scratch', '/api/v1/nodes/n1'];

async function seed(): Promise<void> {
  const ok = (r: Reply) => expect([200, 201]).toContain(r.status);
  ok(await call(server.base, 'POST', '/api/v1/nodes', { metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }));
  ok(await call(server.base, 'POST', '/api/v1/namespaces', { metadata: { name: 'scratch' } }));
  ok(await call(server.base, 'POST', `${ns}/replicationcontrollers`, rcManifest('web', 2)));
  const rcUid = (await call(server.base, 'GET', `${ns}/replicationcontrollers/web`)).body.metadata.uid;
  const owner = { apiVersion: 'v1', kind: 'ReplicationController', name: 'web', uid: rcUid, controller: true, blockOwnerDeletion: true };
  ok(await call(server.base, 'POST', `${ns}/pods`, podManifest('bound', { metadata: { name: 'bound', labels: { app: 'web' }, ownerReferences: [owner] } })));
  ok(await call(server.base, 'POST', `${ns}/pods/bound/binding`, { target: { kind: 'Node', name: 'n1' } }));
  ok(await call(server.base, 'POST', `${ns}/pods`, podManifest('unbound')));
}

async function snapshot(): Promise<string[]> {
  return Promise.all(stored.map(async (p) => (await call(server.base, 'GET', p)).text));
}

type Case = [what: string, method: string, path: string, body: unknown, headers: Record<string, string>, code: number, check: (body: any, before: Record<string, any>) => void];

const cases: Case[] = [
  ['create: defaults, a uid, no resourceVersion', 'POST', `${ns}/pods?dryRun=All`, podManifest('new'), {}, 201, (b) => {
    expect(b.metadata).toMatchObject({ name: 'new', namespace: 'default', generation: 1 });
    expect(b.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.metadata.resourceVersion).toBeUndefined();
    expect(b.spec).toMatchObject({ restartPolicy: 'Always', terminationGracePeriodSeconds: 30 });
    expect(b.status.phase).toBe('Pending');
  }],
  ['create with generateName', 'POST', `${ns}/pods?dryRun=All`, { ...podManifest(''), metadata: { generateName: 'gen-' } }, {}, 201, (b) => {
    expect(b.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  }],
  ['create of an existing name is still a conflict', 'POST', `${ns}/pods?dryRun=All`, podManifest('bound'), {}, 409, () => {}],
  ['create is still validated', 'POST', `${ns}/pods?dryRun=All`, { metadata: { name: 'Bad' }, spec: { containers: [] } }, {}, 422, () => {}],
  ['update: the new spec, the stored resourceVersion, the next generation', 'PUT', `${ns}/replicationcontrollers/web?dryRun=All`, rcManifest('web', 7), {}, 200, (b, before) => {
    expect(b.spec.replicas).toBe(7);
    expect(b.metadata.resourceVersion).toBe(before.rc.metadata.resourceVersion);
    expect(b.metadata.generation).toBe(before.rc.metadata.generation + 1);
  }],
  ['merge patch', 'PATCH', `${ns}/pods/bound?dryRun=All`, { metadata: { labels: { tier: 'x' } } }, merge, 200, (b, before) => {
    expect(b.metadata.labels).toEqual({ app: 'web', tier: 'x' });
    expect(b.metadata.resourceVersion).toBe(before.bound.metadata.resourceVersion);
  }],
  ['JSON patch', 'PATCH', `${ns}/pods/bound?dryRun=All`, [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }], jsonPatch, 200, (b) => {
    expect(b.metadata.annotations).toEqual({ a: 'b' });
  }],
  ['strategic merge patch', 'PATCH', `${ns}/pods/bound?dryRun=All`, { spec: { containers: [{ name: 'c', image: 'peapod/busybox:1' }] } }, strategic, 200, (b) => {
    expect(b.spec.containers).toHaveLength(1);
    expect(b.spec.containers[0]).toMatchObject({ name: 'c', image: 'peapod/busybox:1', command: ['sleep', '3600'] });
  }],
  ['pods/status PUT', 'PUT', `${ns}/pods/bound/status?dryRun=All`, null, {}, 200, (b) => {
    expect(b.status.phase).toBe('Running');
  }],
  ['pods/status PATCH', 'PATCH', `${ns}/pods/bound/status?dryRun=All`, { status: { phase: 'Failed' } }, merge, 200, (b) => {
    expect(b.status.phase).toBe('Failed');
  }],
  ['replicationcontrollers/status PATCH', 'PATCH', `${ns}/replicationcontrollers/web/status?dryRun=All`, { status: { replicas: 2, readyReplicas: 2 } }, merge, 200, (b) => {
    expect(b.status).toMatchObject({ replicas: 2, readyReplicas: 2 });
  }],
  ['nodes/status PATCH', 'PATCH', '/api/v1/nodes/n1/status?dryRun=All', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, merge, 200, (b) => {
    expect(b.status.conditions[0].status).toBe('False');
  }],
  ['scale PUT', 'PUT', `${ns}/replicationcontrollers/web/scale?dryRun=All`, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 9 } }, {}, 200, (b) => {
    expect(b.spec.replicas).toBe(9);
  }],
  ['scale PATCH', 'PATCH', `${ns}/replicationcontrollers/web/scale?dryRun=All`, { spec: { replicas: 4 } }, merge, 200, (b) => {
    expect(b).toMatchObject({ kind: 'Scale', spec: { replicas: 4 } });
  }],
  ['pods/binding', 'POST', `${ns}/pods/unbound/binding?dryRun=All`, { target: { kind: 'Node', name: 'n1' } }, {}, 201, (b) => {
    expect(b).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
  }],
  ['bindings', 'POST', `${ns}/bindings?dryRun=All`, { metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'n1' } }, {}, 201, (b) => {
    expect(b).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
  }],
  ['binding of a bound pod is still a conflict', 'POST', `${ns}/pods/bound/binding?dryRun=All`, { target: { name: 'n2' } }, {}, 409, () => {}],
  ['graceful delete: marked with its grace period', 'DELETE', `${ns}/pods/bound?dryRun=All`, undefined, {}, 200, (b) => {
    expect(b.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(Date.parse(b.metadata.deletionTimestamp)).toBeGreaterThan(Date.now() + 20_000);
  }],
  ['forced delete (grace 0): the last state', 'DELETE', `${ns}/pods/bound?dryRun=All&gracePeriodSeconds=0`, undefined, {}, 200, (b, before) => {
    expect(b).toEqual(before.bound);
  }],
  ['delete of an unbound pod', 'DELETE', `${ns}/pods/unbound`, { dryRun: ['All'] }, {}, 200, (b) => {
    expect(b.metadata.name).toBe('unbound');
  }],
  ['foreground delete: the finalizer it would get', 'DELETE', `${ns}/pods/bound`, { dryRun: ['All'], propagationPolicy: 'Foreground' }, {}, 200, (b) => {
    expect(b.metadata.finalizers).toEqual(['foregroundDeletion']);
  }],
  ['delete of a replication controller: orphaned by default', 'DELETE', `${ns}/replicationcontrollers/web?dryRun=All`, undefined, {}, 200, (b) => {
    expect(b.metadata.finalizers).toEqual(['orphan']);
    expect(b.metadata.deletionGracePeriodSeconds).toBe(0);
  }],
  ['background delete of a replication controller', 'DELETE', `${ns}/replicationcontrollers/web?dryRun=All&propagationPolicy=Background`, undefined, {}, 200, (b) => {
    expect(b.metadata.deletionTimestamp).toBeUndefined();
  }],
  ['deletecollection', 'DELETE', `${ns}/pods?dryRun=All`, undefined, {}, 200, (b) => {
    expect(b.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort()).toEqual(['bound', 'unbound']);
  }],
  ['namespace delete', 'DELETE', '/api/v1/namespaces/scratch?dryRun=All', undefined, {}, 200, (b) => {
    expect(b.status.phase).toBe('Terminating');
    expect(b.metadata.deletionTimestamp).toBeDefined();
  }],
];

test('every writing verb and subresource: the would-be object, nothing stored, nothing watched', async () => {
  await seed();
  const before = await snapshot();
  const revision = server.api.store.cache.revision;
  const objects = {
    bound: JSON.parse(before[0]),
    rc: JSON.parse(before[2]),
  };
  const watches: Collected[] = await Promise.all(
    ['pods', 'replicationcontrollers', 'namespaces', 'nodes'].map((r) => watchHttp(server.base, `/api/v1/${r}?watch=true&resourceVersion=${revision}`)),
  );
  try {
    for (const [what, method, path, body, headers, code, check] of cases) {
      // A status PUT sends the stored object with a new status.
      const payload = body === null ? { ...objects.bound, status: { ...objects.bound.status, phase: 'Running' } } : body;
      const r = await call(server.base, method, path, payload, headers);
      expect({ what, status: r.status, body: r.status === code ? undefined : r.body }).toEqual({ what, status: code, body: undefined });
      check(r.body, objects);
    }
    expect(await snapshot()).toEqual(before);
    // On etcd the cache's revision also moves with other keys' changes (another test's in the
    // same etcd); the watches below tell there that nothing under this server's prefix changed.
    if (server.api.store.backend === 'sqlite') expect(server.api.store.cache.revision).toBe(revision);
    expect((await call(server.base, 'GET', `${ns}/pods/new`)).status).toBe(404);

    // The first thing each watch hears is the next real write.
    await call(server.base, 'POST', `${ns}/pods`, podManifest('sentinel'));
    await call(server.base, 'POST', `${ns}/replicationcontrollers`, rcManifest('sentinel', 0));
    await call(server.base, 'POST', '/api/v1/namespaces', { metadata: { name: 'sentinel' } });
    await call(server.base, 'POST', '/api/v1/nodes', { metadata: { name: 'sentinel' } });
    for (const w of watches) await w.waitFor(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(watches.map((w) => w.events.map((e) => `${e.type} ${e.object.metadata.name}`))).toEqual([
      ['ADDED sentinel'],
      ['ADDED sentinel'],
      ['ADDED sentinel'],
      ['ADDED sentinel'],
    ]);
  } finally {
    for (const w of watches) w.close();
  }
});

test.each([
  ['POST', `${ns}/pods?dryRun=Some`, podManifest('x')],
  ['PUT', `${ns}/pods/x?dryRun=all`, podManifest('x')],
  ['PATCH', `${ns}/pods/x?dryRun=`, {}],
  ['DELETE', `${ns}/pods/x?dryRun=All&dryRun=None`, undefined],
  ['DELETE', `${ns}/pods/x`, { dryRun: ['Server'] }],
  ['POST', `${ns}/pods/x/binding?dryRun=true`, { target: { name: 'n1' } }],
])('an unknown dryRun value is a 400 before anything else: %s %s', async (method, path, body) => {
  const r = await call(server.base, method, path, body, method === 'PATCH' ? merge : {});
  expect(r.status).toBe(400);
  expect(r.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', details: { causes: [{ field: 'dryRun', reason: 'FieldValueNotSupported' }] } });
});
