// pods/ephemeralcontainers: debugging containers are added to a running pod through their
// own subresource, validated, never changed or removed; nothing else can be written there.
import { createApiServer, ApiServer } from './server';
import { call, podManifest } from './testing/http';

let api: ApiServer;
let base: string;
const pod = '/api/v1/namespaces/default/pods/web';
const debuggerContainer = { name: 'debugger', image: 'peapod/busybox:latest', stdin: true, tty: true, targetContainerName: 'c' };
const strategic = { 'Content-Type': 'application/strategic-merge-patch+json' };

beforeEach(async () => {
  api = createApiServer({ dataDir: ':memory:', allowPrivileged: true, logger: { info() {}, warn() {}, error() {}, debug() {} } });
  base = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
  const created = await call(base, 'POST', '/api/v1/namespaces/default/pods', podManifest('web'));
  expect(created.status).toBe(201);
});
afterEach(() => api.close());

test('a strategic merge patch adds one, with defaults; GET shows the pod', async () => {
  const r = await call(base, 'PATCH', `${pod}/ephemeralcontainers`, { spec: { ephemeralContainers: [debuggerContainer] } }, strategic);
  expect(r.status).toBe(200);
  expect(r.body.spec.ephemeralContainers).toEqual([expect.objectContaining({ ...debuggerContainer, imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log' })]);
  const got = await call(base, 'GET', `${pod}/ephemeralcontainers`);
  expect(got.body.kind).toBe('Pod');
  expect(got.body.spec.ephemeralContainers[0].name).toBe('debugger');
  // A second one is added beside the first (merged by name).
  const second = await call(base, 'PATCH', `${pod}/ephemeralcontainers`, { spec: { ephemeralContainers: [{ name: 'second', image: 'peapod/busybox:latest' }] } }, strategic);
  expect(second.body.spec.ephemeralContainers.map((c: { name: string }) => c.name)).toEqual(['debugger', 'second']);
});

test('only spec.ephemeralContainers changes through the subresource', async () => {
  const r = await call(base, 'PATCH', `${pod}/ephemeralcontainers`, { metadata: { labels: { x: 'y' } }, spec: { ephemeralContainers: [debuggerContainer], activeDeadlineSeconds: 5 } }, strategic);
  expect(r.status).toBe(200);
  expect(r.body.metadata.labels?.x).toBeUndefined();
  expect(r.body.spec.activeDeadlineSeconds).toBeUndefined();
});

test('an existing one can be neither changed nor removed; the pod itself cannot add one', async () => {
  const added = await call(base, 'PATCH', `${pod}/ephemeralcontainers`, { spec: { ephemeralContainers: [debuggerContainer] } }, strategic);
  const changed = JSON.parse(JSON.stringify(added.body));
  changed.spec.ephemeralContainers[0].image = 'other:1';
  const put = await call(base, 'PUT', `${pod}/ephemeralcontainers`, changed);
  expect(put.status).toBe(422);
  expect(put.body.details.causes).toEqual([expect.objectContaining({ field: 'spec.ephemeralContainers', message: 'Forbidden: existing ephemeral containers "debugger" may not be changed' })]);
  const removed = JSON.parse(JSON.stringify(added.body));
  removed.spec.ephemeralContainers = [];
  expect((await call(base, 'PUT', `${pod}/ephemeralcontainers`, removed)).body.details.causes[0].message).toContain('may not be removed');
  // An update of the pod keeps them as they are.
  const viaPod = await call(base, 'PATCH', pod, { spec: { ephemeralContainers: [{ name: 'sneaky', image: 'x:1' }] } }, strategic);
  expect(viaPod.status).toBe(200);
  expect(viaPod.body.spec.ephemeralContainers.map((c: { name: string }) => c.name)).toEqual(['debugger']);
});

test('validation: target, name clash, forbidden fields, none on create', async () => {
  const bad = await call(
    base,
    'PATCH',
    `${pod}/ephemeralcontainers`,
    { spec: { ephemeralContainers: [{ name: 'c', image: 'x:1', ports: [{ containerPort: 80 }], targetContainerName: 'nope' }] } },
    strategic,
  );
  expect(bad.status).toBe(422);
  const fields = bad.body.details.causes.map((c: { field: string }) => c.field);
  expect(fields).toEqual(
    expect.arrayContaining(['spec.ephemeralContainers[0].name', 'spec.ephemeralContainers[0].ports', 'spec.ephemeralContainers[0].targetContainerName']),
  );
  const onCreate = await call(base, 'POST', '/api/v1/namespaces/default/pods', podManifest('fresh', { spec: { containers: [{ name: 'c', image: 'x:1' }], ephemeralContainers: [{ name: 'd', image: 'x:1' }] } }));
  expect(onCreate.status).toBe(422);
  expect(onCreate.body.details.causes).toEqual([expect.objectContaining({ field: 'spec.ephemeralContainers', message: 'Forbidden: cannot be set on create' })]);
});

test('discovery lists the subresource', async () => {
  const list = await call(base, 'GET', '/api/v1');
  expect(list.body.resources).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'pods/ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] })]));
});
