import { createApiServer, ApiServer } from './server';
import { testStorage } from './testing/storage';
import { call } from './testing/http';

let api: ApiServer;
let base: string;

beforeEach(async () => {
  api = createApiServer({ dataDir: ':memory:', ...testStorage(), allowPrivileged: true, logger: { info() {}, warn() {}, error() {}, debug() {} } });
  base = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
});
afterEach(async () => {
  await api.close();
});

const rcs = '/api/v1/namespaces/default/replicationcontrollers';

function rc(replicas: number, labels: Record<string, string>, image = 'peapod/busybox:latest') {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'web', labels },
    spec: { replicas, selector: { app: 'web' }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
  };
}

const apply = (body: unknown, query: string) => call(base, 'PATCH', `${rcs}/web?${query}`, body, { 'Content-Type': 'application/apply-patch+yaml' });

/** Each manager's fields, as printed paths under FieldsV1's tree form. */
function owners(obj: any): Record<string, any> {
  return Object.fromEntries(obj.metadata.managedFields.map((e: any) => [`${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`, e.fieldsV1]));
}

test('apply creates the object (201) and records an Apply entry of exactly the configured fields', async () => {
  const r = await apply(rc(2, { app: 'web' }), 'fieldManager=alice');
  expect(r.status).toBe(201);
  const [entry] = r.body.metadata.managedFields;
  expect(entry).toMatchObject({ manager: 'alice', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1' });
  expect(entry.time).toMatch(/Z$/);
  expect(entry.fieldsV1).toEqual({
    'f:metadata': { 'f:labels': { 'f:app': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:selector': { 'f:app': {} },
      'f:template': { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
    },
  });
  // the server's defaults are in the object but owned by nobody
  expect(r.body.spec.minReadySeconds).toBe(0);
  expect((await apply(rc(2, { app: 'web' }), 'fieldManager=alice')).status).toBe(200);
});

test('a second manager changing a field the first owns: 409 with a cause per field; nothing changes', async () => {
  await apply(rc(2, { app: 'web', team: 'a' }), 'fieldManager=alice');
  const before = (await call(base, 'GET', `${rcs}/web`)).body;
  const r = await apply(rc(5, { app: 'web', team: 'b' }), 'fieldManager=bob');
  expect(r.status).toBe(409);
  expect(r.body).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
  expect(r.body.message).toBe('Apply failed with 2 conflicts: conflicts with "alice":\n- .metadata.labels.team\n- .spec.replicas');
  expect(r.body.details.causes).toEqual([
    { reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.metadata.labels.team' },
    { reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.replicas' },
  ]);
  expect((await call(base, 'GET', `${rcs}/web`)).body).toEqual(before);
});

test('force=true takes the conflicting fields; equal values are owned together; a field nobody applies any more goes', async () => {
  await apply(rc(2, { app: 'web', team: 'a' }), 'fieldManager=alice');
  const forced = await apply(rc(5, { app: 'web' }), 'fieldManager=bob&force=true');
  expect(forced.status).toBe(200);
  expect(forced.body.spec.replicas).toBe(5);
  const o = owners(forced.body);
  expect(o['alice/Apply']['f:spec']['f:replicas']).toBeUndefined();
  expect(o['bob/Apply']['f:spec']['f:replicas']).toEqual({});
  // app=web is configured by both: both own it
  expect(o['alice/Apply']['f:metadata']['f:labels']['f:app']).toEqual({});
  expect(o['bob/Apply']['f:metadata']['f:labels']['f:app']).toEqual({});

  // alice stops configuring team (only hers) and app (bob's too) and replicas (no longer hers)
  const cfg = rc(0, {});
  delete (cfg.spec as { replicas?: number }).replicas;
  delete (cfg.metadata as { labels?: unknown }).labels;
  const after = await apply(cfg, 'fieldManager=alice');
  expect(after.status).toBe(200);
  expect(after.body.metadata.labels).toEqual({ app: 'web' });
  expect(after.body.spec.replicas).toBe(5);
});

test('updates take fields without conflict; an applier changing them then conflicts with the updater', async () => {
  await apply(rc(2, { app: 'web' }), 'fieldManager=alice');
  const scaled = await call(base, 'PATCH', `${rcs}/web?fieldManager=scaler`, { spec: { replicas: 3 } }, { 'Content-Type': 'application/merge-patch+json' });
  expect(scaled.status).toBe(200);
  expect(owners(scaled.body)['scaler/Update']).toEqual({ 'f:spec': { 'f:replicas': {} } });
  expect(owners(scaled.body)['alice/Apply']['f:spec']['f:replicas']).toBeUndefined();
  const r = await apply(rc(2, { app: 'web' }), 'fieldManager=alice');
  expect(r.status).toBe(409);
  expect(r.body.message).toBe('Apply failed with 1 conflict: conflict with "scaler" using v1: .spec.replicas');
});

test('writes without a fieldManager are owned by the client program named in User-Agent', async () => {
  const created = await call(base, 'POST', rcs, rc(1, { app: 'web' }), { 'User-Agent': 'kubectl/v1.32.4 (linux/amd64) kubernetes/abc' });
  expect(created.body.metadata.managedFields.map((e: any) => [e.manager, e.operation])).toEqual([['kubectl', 'Update']]);
  // defaults filled at creation belong to the creator, as in Kubernetes
  expect(owners(created.body)['kubectl/Update']['f:spec']['f:minReadySeconds']).toEqual({});
  const status = { ...created.body, status: { replicas: 1, readyReplicas: 1 } };
  const st = await call(base, 'PUT', `${rcs}/web/status`, status, { 'User-Agent': 'peapod-controller-manager/0.1.0' });
  expect(owners(st.body)['peapod-controller-manager/Update/status']).toEqual({ 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } });
});

test('an update that sends no managedFields (a client caching objects without them) keeps the stored ones', async () => {
  const created = await call(base, 'POST', `${rcs}?fieldManager=alice`, rc(1, { app: 'web' }));
  const { managedFields: _cached, ...metadata } = created.body.metadata;
  const st = await call(base, 'PUT', `${rcs}/web/status?fieldManager=rc-controller`, { ...created.body, metadata, status: { replicas: 1 } });
  expect(st.status).toBe(200);
  expect(Object.keys(owners(st.body))).toEqual(['alice/Update', 'rc-controller/Update/status']);
  expect(owners(st.body)['alice/Update']).toEqual(owners(created.body)['alice/Update']);
});

test('dryRun=All: an apply is checked (conflicts included) and answered, and nothing is stored', async () => {
  const dry = await apply(rc(2, { app: 'web' }), 'fieldManager=alice&dryRun=All');
  expect(dry.status).toBe(201);
  expect((await call(base, 'GET', `${rcs}/web`)).status).toBe(404);
  await apply(rc(2, { app: 'web' }), 'fieldManager=alice');
  const rv = (await call(base, 'GET', `${rcs}/web`)).body.metadata.resourceVersion;
  const dryUpdate = await apply(rc(4, { app: 'web' }), 'fieldManager=alice&dryRun=All');
  expect(dryUpdate.status).toBe(200);
  expect(dryUpdate.body.spec.replicas).toBe(4);
  expect((await apply(rc(4, { app: 'web' }), 'fieldManager=bob&dryRun=All')).status).toBe(409);
  const stored = (await call(base, 'GET', `${rcs}/web`)).body;
  expect([stored.spec.replicas, stored.metadata.resourceVersion]).toEqual([2, rv]);
});

test('bad applies: no fieldManager, a body that is not YAML, another object\'s name, an invalid result', async () => {
  expect((await apply(rc(1, {}), '')).status).toBe(400);
  const notYaml = await call(base, 'PATCH', `${rcs}/web?fieldManager=a`, 'a: [b', { 'Content-Type': 'application/apply-patch+yaml' });
  expect(notYaml.status).toBe(400);
  const other = rc(1, {});
  other.metadata.name = 'other';
  expect((await apply(other, 'fieldManager=a')).status).toBe(400);
  const invalid = await apply(rc(-1, { app: 'web' }), 'fieldManager=a');
  expect(invalid.status).toBe(422);
  expect((await call(base, 'GET', `${rcs}/web`)).status).toBe(404);
});

test('managedFields a client writes itself are taken (how kubectl moves client-side apply fields to server-side apply)', async () => {
  const created = await call(base, 'POST', `${rcs}?fieldManager=kubectl-client-side-apply`, rc(1, { app: 'web', tier: 'front' }));
  const moved = created.body.metadata.managedFields.map((e: any) => ({ ...e, manager: 'kubectl', operation: 'Apply' }));
  const patch = [
    { op: 'test', path: '/metadata/resourceVersion', value: created.body.metadata.resourceVersion },
    { op: 'replace', path: '/metadata/managedFields', value: moved },
  ];
  const r = await call(base, 'PATCH', `${rcs}/web`, patch, { 'Content-Type': 'application/json-patch+json' });
  expect(r.status).toBe(200);
  expect(r.body.metadata.managedFields.map((e: any) => [e.manager, e.operation])).toEqual([['kubectl', 'Apply']]);
  // kubectl now owns them as an applier: a label left out of its configuration is removed.
  // (With none left, a controller's labels default to its template's, as in Kubernetes.)
  expect((await apply(rc(1, { app: 'web' }), 'fieldManager=kubectl')).body.metadata.labels).toEqual({ app: 'web' });
  const cfg = rc(1, {});
  delete (cfg.metadata as { labels?: unknown }).labels;
  expect((await apply(cfg, 'fieldManager=kubectl')).body.metadata.labels).toEqual({ app: 'web' });
});
