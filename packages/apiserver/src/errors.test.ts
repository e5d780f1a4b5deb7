// The errors clients read, shaped as Kubernetes shapes them (kubectl and client libraries
// branch on code, reason and details), and what the server counts of them.

import { call, podManifest } from './testing/http';
import { serverPerTest } from './testing/server';

const server = serverPerTest();

const pods = '/api/v1/namespaces/default/pods';

describe('404s', () => {
  test.each([
    ['an unknown subresource', 'PATCH', `${pods}/x/resize`],
    ['an unknown resource', 'GET', '/api/v1/namespaces/default/widgets'],
    ['a path outside the API', 'GET', '/apis/example.com/v1/things'],
  ])('%s: empty details, as Kubernetes sends (kubectl reads details.name)', async (_what, method, path) => {
    await call(server.base, 'POST', pods, podManifest('x'));
    const r = await call(server.base, method, path, method === 'PATCH' ? {} : undefined, method === 'PATCH' ? { 'Content-Type': 'application/strategic-merge-patch+json' } : {});
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server could not find the requested resource',
      reason: 'NotFound',
      details: {},
      code: 404,
    });
  });

  test('a missing object names itself in details; in a namespace that does not exist too', async () => {
    for (const path of [`${pods}/x`, '/api/v1/namespaces/nowhere/pods/x']) {
      const r = await call(server.base, 'GET', path);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ message: 'pods "x" not found', reason: 'NotFound', details: { name: 'x', kind: 'pods' } });
      expect(r.body.details).not.toHaveProperty('group');
    }
  });

  test('a missing object of a named group is named with its group', async () => {
    const r = await call(server.base, 'GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/x');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({
      message: 'leases.coordination.k8s.io "x" not found',
      reason: 'NotFound',
      details: { name: 'x', group: 'coordination.k8s.io', kind: 'leases' },
    });
  });
});

test('a JSON patch whose test fails: 422 Invalid with the reason as a cause, nothing changed', async () => {
  const created = (await call(server.base, 'POST', pods, podManifest('t'))).body;
  const r = await call(
    server.base,
    'PATCH',
    `${pods}/t`,
    [
      { op: 'test', path: '/metadata/labels/app', value: 'db' },
      { op: 'replace', path: '/metadata/labels/app', value: 'cache' },
    ],
    { 'Content-Type': 'application/json-patch+json' },
  );
  expect(r.status).toBe(422);
  expect(r.body).toMatchObject({ reason: 'Invalid', message: 'the server rejected our request due to an error in our request', code: 422 });
  expect(r.body.details.causes).toEqual([{ reason: 'UnexpectedServerResponse', message: expect.stringContaining('(test /metadata/labels/app) failed: test operation failed') }]);
  expect((await call(server.base, 'GET', `${pods}/t`)).body).toEqual(created);

  const notAList = await call(server.base, 'PATCH', `${pods}/t`, { op: 'add' }, { 'Content-Type': 'application/json-patch+json' });
  expect(notAList.status).toBe(400);
});

test('creating in a Terminating namespace: 403 with the NamespaceTerminating cause', async () => {
  await call(server.base, 'POST', '/api/v1/namespaces', { metadata: { name: 'going' } });
  await call(server.base, 'POST', '/api/v1/namespaces/going/pods', podManifest('stays'));
  await call(server.base, 'DELETE', '/api/v1/namespaces/going');
  for (const [body, name] of [
    [podManifest('p'), 'p'],
    [{ ...podManifest(''), metadata: { generateName: 'g-' } }, expect.stringMatching(/^g-/)],
  ] as const) {
    const r = await call(server.base, 'POST', '/api/v1/namespaces/going/pods', body);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({
      reason: 'Forbidden',
      message: expect.stringMatching(/^pods "(p|g-\w+)" is forbidden: unable to create new content in namespace going because it is being terminated$/),
      details: {
        name,
        kind: 'pods',
        causes: [{ reason: 'NamespaceTerminating', field: 'metadata.namespace', message: 'namespace going is being terminated' }],
      },
    });
  }
});

test('/metrics counts the status code that was sent, errors included', async () => {
  await call(server.base, 'POST', pods, podManifest('m'));
  await call(server.base, 'GET', `${pods}/absent`);
  await call(server.base, 'POST', pods, podManifest('m'));
  await call(server.base, 'POST', pods, '{"metadata": {', { 'Content-Type': 'application/json' });
  await call(server.base, 'GET', '/api/v1/namespaces/default/widgets');
  // Refused before its body is read: the answer waits for the body, the count must too.
  const big = podManifest('big', { metadata: { name: 'big', annotations: { filler: 'x'.repeat(1 << 20) } } });
  expect((await call(server.base, 'PUT', pods, big)).status).toBe(405);
  const text = (await call(server.base, 'GET', '/metrics')).text;
  const count = (labels: string) => Number(new RegExp(`^apiserver_request_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  expect(count('verb="create",resource="pods",subresource="",code="201"')).toBe(1);
  expect(count('verb="get",resource="pods",subresource="",code="404"')).toBe(1);
  expect(count('verb="create",resource="pods",subresource="",code="409"')).toBe(1);
  expect(count('verb="create",resource="pods",subresource="",code="400"')).toBe(1);
  expect(count('verb="update",resource="pods",subresource="",code="405"')).toBe(1);
  expect(count('verb="get",resource="unknown",subresource="",code="404"')).toBe(1);
  expect(count('verb="get",resource="pods",subresource="",code="200"')).toBe(0);
});

describe('removing the last label or annotation leaves no empty map', () => {
  async function labelled(name: string) {
    return (await call(server.base, 'POST', pods, podManifest(name, { metadata: { name, labels: { app: 'x' }, annotations: { note: 'y' } } }))).body;
  }
  function meta(path: string) {
    return call(server.base, 'GET', path).then((r) => r.body.metadata);
  }

  test('merge patch with null', async () => {
    await labelled('a');
    await call(server.base, 'PATCH', `${pods}/a`, { metadata: { labels: { app: null }, annotations: { note: null } } }, { 'Content-Type': 'application/merge-patch+json' });
    const m = await meta(`${pods}/a`);
    expect(m).not.toHaveProperty('labels');
    expect(m).not.toHaveProperty('annotations');
  });

  test('JSON patch remove', async () => {
    await labelled('b');
    await call(server.base, 'PATCH', `${pods}/b`, [{ op: 'remove', path: '/metadata/labels/app' }, { op: 'remove', path: '/metadata/annotations/note' }], {
      'Content-Type': 'application/json-patch+json',
    });
    const m = await meta(`${pods}/b`);
    expect(m).not.toHaveProperty('labels');
    expect(m).not.toHaveProperty('annotations');
  });

  test('update with empty maps, and create with them', async () => {
    const pod = await labelled('c');
    await call(server.base, 'PUT', `${pods}/c`, { ...pod, metadata: { ...pod.metadata, labels: {}, annotations: {} } });
    const m = await meta(`${pods}/c`);
    expect(m).not.toHaveProperty('labels');
    expect(m).not.toHaveProperty('annotations');
    const created = await call(server.base, 'POST', pods, podManifest('d', { metadata: { name: 'd', labels: {}, annotations: {}, finalizers: [] } }));
    expect(created.body.metadata).not.toHaveProperty('labels');
    expect(created.body.metadata).not.toHaveProperty('annotations');
    expect(created.body.metadata).not.toHaveProperty('finalizers');
  });
});
