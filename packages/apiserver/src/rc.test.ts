import { createApiServer, ApiServer } from './server';
import { testStorage } from './testing/storage';
import { call } from './testing/http';

let api: ApiServer;
let base: string;

beforeEach(async () => {
  api = createApiServer({ dataDir: ':memory:', ...testStorage(), allowPrivileged: true, logger: { info() {}, warn() {}, error() {}, debug() {} } });
  base = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
});
afterEach(() => api.close());

const rcs = '/api/v1/namespaces/default/replicationcontrollers';

function rc(name: string, replicas = 3, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name },
    spec: {
      replicas,
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest', command: ['sleep', '3600'] }] },
      },
      ...extra,
    },
  };
}

test('defaults the selector from the template, status starts at zero, generation tracks spec', async () => {
  const r = await call(base, 'POST', rcs, rc('web'));
  expect(r.status).toBe(201);
  expect(r.body.spec.selector).toEqual({ app: 'web' });
  expect(r.body.status).toEqual({ replicas: 0 });
  expect(r.body.metadata.generation).toBe(1);
  expect(r.body.spec.template.spec.restartPolicy).toBe('Always');
  const scaled = await call(base, 'PATCH', `${rcs}/web`, { spec: { replicas: 5 } }, { 'Content-Type': 'application/merge-patch+json' });
  expect(scaled.body.metadata.generation).toBe(2);
});

test('labels default to the template\'s when the controller has none, and stay as given otherwise', async () => {
  const bare = await call(base, 'POST', rcs, rc('bare'));
  expect(bare.body.metadata.labels).toEqual({ app: 'bare' });
  const labelled = rc('labelled');
  (labelled.metadata as Record<string, unknown>).labels = { team: 'a' };
  expect((await call(base, 'POST', rcs, labelled)).body.metadata.labels).toEqual({ team: 'a' });
});

test('a selector that does not match the template labels is invalid', async () => {
  const r = await call(base, 'POST', rcs, rc('bad', 1, { selector: { app: 'other' } }));
  expect(r.status).toBe(422);
  expect(r.body.details.causes.map((c: { field: string }) => c.field)).toContain('spec.template.metadata.labels');
});

test('the scale subresource reads and writes spec.replicas', async () => {
  await call(base, 'POST', rcs, rc('s'));
  const scale = await call(base, 'GET', `${rcs}/s/scale`);
  expect(scale.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 3 }, status: { replicas: 0, selector: 'app=s' } });
  const put = await call(base, 'PUT', `${rcs}/s/scale`, { ...scale.body, spec: { replicas: 7 } });
  expect(put.body.spec.replicas).toBe(7);
  const patched = await call(base, 'PATCH', `${rcs}/s/scale`, { spec: { replicas: 2 } }, { 'Content-Type': 'application/merge-patch+json' });
  expect(patched.body.spec.replicas).toBe(2);
  expect((await call(base, 'GET', `${rcs}/s`)).body.spec.replicas).toBe(2);
  const stale = await call(base, 'PUT', `${rcs}/s/scale`, { ...scale.body, spec: { replicas: 9 } });
  expect(stale.status).toBe(409);
  const negative = await call(base, 'PATCH', `${rcs}/s/scale`, { spec: { replicas: -1 } }, { 'Content-Type': 'application/merge-patch+json' });
  expect(negative.status).toBe(422);
});

test('status is written through /status only', async () => {
  const created = (await call(base, 'POST', rcs, rc('st'))).body;
  const withStatus = { ...created, status: { replicas: 3, readyReplicas: 2, observedGeneration: 1 } };
  expect((await call(base, 'PUT', `${rcs}/st`, withStatus)).body.status).toEqual({ replicas: 0 });
  const s = await call(base, 'PUT', `${rcs}/st/status`, withStatus);
  expect(s.body.status).toEqual({ replicas: 3, readyReplicas: 2, observedGeneration: 1 });
});

test('Table columns for kubectl get rc', async () => {
  await call(base, 'POST', rcs, rc('t'));
  const r = await call(base, 'GET', rcs, undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  expect(r.body.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers', 'Images', 'Selector']);
  expect(r.body.rows[0].cells.slice(0, 4)).toEqual(['t', 3, 0, 0]);
});
