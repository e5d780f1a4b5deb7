import { createApiServer, ApiServer } from './server';
import { testStorage, testsOnEtcd } from './testing/storage';
import { call, podManifest } from './testing/http';

let api: ApiServer;
let base: string;

beforeEach(async () => {
  api = createApiServer({ dataDir: ':memory:', ...testStorage(), allowPrivileged: false, logger: { info() {}, warn() {}, error() {}, debug() {} } });
  base = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
});
afterEach(() => api.close());

const pods = '/api/v1/namespaces/default/pods';

async function bound(name: string, extra: Record<string, unknown> = {}) {
  const created = await call(base, 'POST', pods, podManifest(name, extra));
  expect(created.status).toBe(201);
  const b = await call(base, 'POST', `${pods}/${name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'n1' } });
  expect(b.status).toBe(201);
  return (await call(base, 'GET', `${pods}/${name}`)).body;
}

describe('create and defaults', () => {
  test('fills Kubernetes defaults and server metadata', async () => {
    const r = await call(base, 'POST', pods, podManifest('a'));
    expect(r.status).toBe(201);
    const p = r.body;
    expect(p.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(p.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(p.metadata.namespace).toBe('default');
    expect(p.metadata.generation).toBe(1);
    expect(p.spec.restartPolicy).toBe('Always');
    expect(p.spec.terminationGracePeriodSeconds).toBe(30);
    expect(p.spec.dnsPolicy).toBe('ClusterFirst');
    expect(p.spec.schedulerName).toBe('default-scheduler');
    expect(p.spec.containers[0].imagePullPolicy).toBe('Always');
    expect(p.status.phase).toBe('Pending');
  });

  test('image pull policy by tag', async () => {
    const r = await call(base, 'POST', pods, {
      metadata: { name: 'tagged' },
      spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
    });
    expect(r.body.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
  });

  test('probe and hook defaults; a liveness probe that must succeed twice is a 422 naming the field', async () => {
    const container = {
      name: 'c',
      image: 'busybox:1.36',
      readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 2 },
      livenessProbe: { exec: { command: ['true'] }, timeoutSeconds: 0 },
      lifecycle: { postStart: { httpGet: { port: 8080 } } },
    };
    const r = await call(base, 'POST', pods, { metadata: { name: 'probed' }, spec: { containers: [container] } });
    expect(r.status).toBe(201);
    const c = r.body.spec.containers[0];
    expect(c.readinessProbe).toEqual({ httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, periodSeconds: 2, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
    expect(c.livenessProbe).toEqual({ exec: { command: ['true'] }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
    expect(c.lifecycle.postStart.httpGet).toEqual({ port: 8080, path: '/', scheme: 'HTTP' });
    const bad = await call(base, 'POST', pods, {
      metadata: { name: 'bad-probe' },
      spec: { containers: [{ ...container, livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.containers[0].livenessProbe.successThreshold', message: 'Invalid value: 2: must be 1' },
    ]);
  });

  test('generateName makes a unique name', async () => {
    const a = await call(base, 'POST', pods, { ...podManifest(''), metadata: { generateName: 'web-' } });
    const b = await call(base, 'POST', pods, { ...podManifest(''), metadata: { generateName: 'web-' } });
    expect(a.status).toBe(201);
    expect(a.body.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(b.body.metadata.name).not.toBe(a.body.metadata.name);
  });

  test('a pod in a missing namespace is refused', async () => {
    const r = await call(base, 'POST', '/api/v1/namespaces/nope/pods', podManifest('a'));
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
    expect(r.body.message).toBe('namespaces "nope" not found');
  });

  test('default namespaces exist from the start', async () => {
    const r = await call(base, 'GET', '/api/v1/namespaces');
    expect(r.body.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual(
      expect.arrayContaining(['default', 'kube-system', 'kube-public']),
    );
    expect(r.body.items[0].status.phase).toBe('Active');
  });

  test('dry run stores nothing', async () => {
    const r = await call(base, 'POST', `${pods}?dryRun=All`, podManifest('dry'));
    expect(r.status).toBe(201);
    expect((await call(base, 'GET', `${pods}/dry`)).status).toBe(404);
  });
});

describe('bad input changes nothing', () => {
  /** What a write would move: the revision; on etcd, which other test files share, the pods held, each at its resourceVersion. */
  async function revision() {
    const list = (await call(base, 'GET', pods)).body;
    if (!testsOnEtcd()) return list.metadata.resourceVersion;
    return (list.items as { metadata: { name: string; resourceVersion: string } }[]).map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`).join(' ');
  }

  test.each([
    ['malformed JSON', 'POST', pods, '{"metadata": {', 'application/json', 400, 'BadRequest'],
    ['wrong content type', 'POST', pods, JSON.stringify(podManifest('x')), 'text/plain', 415, 'UnsupportedMediaType'],
    ['unknown resource', 'GET', '/api/v1/namespaces/default/widgets', undefined, undefined, 404, 'NotFound'],
    ['malformed percent-encoding in the path', 'GET', '/api/v1/namespaces/%zz/pods', undefined, undefined, 400, 'BadRequest'],
    ['malformed percent-encoding in a path that express routes', 'GET', '/openapi/v3/api/%zz', undefined, undefined, 400, 'BadRequest'],
    ['bad label selector', 'GET', `${pods}?labelSelector=a%20in%20(`, undefined, undefined, 400, 'BadRequest'],
    ['unsupported field selector', 'GET', `${pods}?fieldSelector=spec.bogus%3Dx`, undefined, undefined, 400, 'BadRequest'],
    ['array body', 'POST', pods, '[]', 'application/json', 400, 'BadRequest'],
    ['wrong kind', 'POST', pods, JSON.stringify({ ...podManifest('x'), kind: 'Node' }), 'application/json', 400, 'BadRequest'],
    ['bad patch type', 'PATCH', `${pods}/x`, '{}', 'application/x-yaml-patch', 415, 'UnsupportedMediaType'],
  ])('%s', async (_what, method, path, body, type, code, reason) => {
    const before = await revision();
    const r = await call(base, method, path, body, type ? { 'Content-Type': type } : {});
    expect(r.status).toBe(code);
    expect(r.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code });
    expect(await revision()).toBe(before);
  });

  test('schema violations: 422 naming every bad field', async () => {
    const before = await revision();
    const r = await call(base, 'POST', pods, {
      metadata: { name: 'Bad_Name' },
      spec: { containers: [{ name: 'c' }, { name: 'c', image: 'x', ports: [{ containerPort: 70000 }] }] },
    });
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    const fields = r.body.details.causes.map((c: { field: string }) => c.field);
    expect(fields).toEqual(
      expect.arrayContaining(['metadata.name', 'spec.containers[0].image', 'spec.containers[1].name', 'spec.containers[1].ports[0].containerPort']),
    );
    expect(r.body.message).toContain('Pod "Bad_Name" is invalid');
    expect(await revision()).toBe(before);
  });

  test('unknown fields: 422 when strict, a Warning header otherwise', async () => {
    const bad = podManifest('strict');
    (bad.spec as { containers: Record<string, unknown>[] }).containers[0].imagePullPolice = 'Always';
    const strict = await call(base, 'POST', `${pods}?fieldValidation=Strict`, bad);
    expect(strict.status).toBe(422);
    expect(strict.body.message).toContain('unknown field "spec.containers[0].imagePullPolice"');
    expect((await call(base, 'GET', `${pods}/strict`)).status).toBe(404);
    const warn = await call(base, 'POST', pods, bad);
    expect(warn.status).toBe(201);
    expect(warn.headers.get('warning')).toContain('unknown field \\"spec.containers[0].imagePullPolice\\"');
    expect(warn.body.spec.containers[0].imagePullPolice).toBeUndefined();
  });

  test('no Content-Type on a PUT is read as JSON', async () => {
    const p = (await call(base, 'POST', pods, podManifest('noct'))).body;
    p.metadata.labels.x = 'y';
    // A byte body: fetch adds no Content-Type for it (it would for a string).
    const r = await fetch(`${base}${pods}/noct`, { method: 'PUT', body: Buffer.from(JSON.stringify(p)) });
    expect(r.status).toBe(200);
  });

  test('a body over 3 MiB gets 413', async () => {
    const before = await revision();
    const big = podManifest('big', { metadata: { name: 'big', annotations: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } } });
    const r = await call(base, 'POST', pods, big);
    expect(r.status).toBe(413);
    expect(r.body.reason).toBe('RequestEntityTooLarge');
    expect(await revision()).toBe(before);
  });

  test('duplicate name: 409 AlreadyExists', async () => {
    await call(base, 'POST', pods, podManifest('dup'));
    const before = await revision();
    const r = await call(base, 'POST', pods, podManifest('dup'));
    expect(r.status).toBe(409);
    expect(r.body.reason).toBe('AlreadyExists');
    expect(r.body.message).toBe('pods "dup" already exists');
    expect(await revision()).toBe(before);
  });

  test('privileged containers refused with --allow-privileged=false', async () => {
    const p = podManifest('priv');
    (p.spec as { containers: Record<string, unknown>[] }).containers[0].securityContext = { privileged: true };
    const r = await call(base, 'POST', pods, p);
    expect(r.status).toBe(422);
    expect(r.body.details.causes).toContainEqual(
      expect.objectContaining({ field: 'spec.containers[0].securityContext.privileged', reason: 'FieldValueForbidden' }),
    );
  });
});

describe('update, patch, status', () => {
  test('stale resourceVersion: 409 Conflict', async () => {
    const p = (await call(base, 'POST', pods, podManifest('u'))).body;
    p.metadata.labels.v = '1';
    expect((await call(base, 'PUT', `${pods}/u`, p)).status).toBe(200);
    p.metadata.labels.v = '2';
    const r = await call(base, 'PUT', `${pods}/u`, p);
    expect(r.status).toBe(409);
    expect(r.body.reason).toBe('Conflict');
    expect((await call(base, 'GET', `${pods}/u`)).body.metadata.labels.v).toBe('1');
  });

  test('spec updates cannot change status, status updates cannot change spec', async () => {
    const p = (await call(base, 'POST', pods, podManifest('s'))).body;
    p.status = { phase: 'Running' };
    p.metadata.labels.x = 'y';
    const u = await call(base, 'PUT', `${pods}/s`, p);
    expect(u.body.status.phase).toBe('Pending');
    expect(u.body.metadata.labels.x).toBe('y');
    const s = u.body;
    s.status.phase = 'Running';
    s.spec.containers[0].image = 'other:1';
    const su = await call(base, 'PUT', `${pods}/s/status`, s);
    expect(su.status).toBe(200);
    expect(su.body.status.phase).toBe('Running');
    expect(su.body.spec.containers[0].image).toBe('peapod/busybox:latest');
  });

  test('pod spec is immutable but for images', async () => {
    const p = (await call(base, 'POST', pods, podManifest('im'))).body;
    p.spec.restartPolicy = 'Never';
    const r = await call(base, 'PUT', `${pods}/im`, p);
    expect(r.status).toBe(422);
    expect(r.body.message).toContain('pod updates may not change fields');
    const ok = await call(base, 'PATCH', `${pods}/im`, { spec: { containers: [{ name: 'c', image: 'peapod/busybox:2' }] } }, {
      'Content-Type': 'application/strategic-merge-patch+json',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.spec.containers[0].image).toBe('peapod/busybox:2');
    expect(ok.body.spec.containers[0].command).toEqual(['sleep', '3600']);
    expect(ok.body.metadata.generation).toBe(2);
  });

  test('merge patch and JSON patch', async () => {
    await call(base, 'POST', pods, podManifest('pt'));
    const m = await call(base, 'PATCH', `${pods}/pt`, { metadata: { labels: { tier: 'a', app: null } } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(m.body.metadata.labels).toEqual({ tier: 'a' });
    const j = await call(base, 'PATCH', `${pods}/pt`, [{ op: 'add', path: '/metadata/annotations', value: { n: '1' } }], {
      'Content-Type': 'application/json-patch+json',
    });
    expect(j.body.metadata.annotations).toEqual({ n: '1' });
    const bad = await call(base, 'PATCH', `${pods}/pt`, [{ op: 'test', path: '/metadata/name', value: 'zzz' }], {
      'Content-Type': 'application/json-patch+json',
    });
    expect(bad.status).toBe(422);
  });

  test('50 concurrent updates from the same read: one wins, the rest get 409', async () => {
    const p = (await call(base, 'POST', pods, podManifest('race'))).body;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call(base, 'PUT', `${pods}/race`, { ...p, metadata: { ...p.metadata, labels: { i: String(i) } } })),
    );
    const codes = results.map((r) => r.status);
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(49);
  });

  test('read-modify-write loops lose no update', async () => {
    await call(base, 'POST', pods, podManifest('counter'));
    const worker = async (n: number) => {
      for (let done = 0; done < 5; ) {
        const cur = (await call(base, 'GET', `${pods}/counter`)).body;
        const count = Number(cur.metadata.annotations?.count ?? 0);
        cur.metadata.annotations = { ...cur.metadata.annotations, count: String(count + 1), [`w${n}`]: String(done + 1) };
        const r = await call(base, 'PUT', `${pods}/counter`, cur);
        if (r.status === 200) done++;
        else expect(r.status).toBe(409);
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, i) => worker(i)));
    const final = (await call(base, 'GET', `${pods}/counter`)).body;
    expect(final.metadata.annotations.count).toBe('50');
    // some 250 contended writes: generous for a loaded 2-core machine
  }, 60_000);
});

describe('lists', () => {
  beforeEach(async () => {
    for (let i = 0; i < 7; i++) {
      await call(base, 'POST', pods, { ...podManifest(`p${i}`), metadata: { name: `p${i}`, labels: { app: i % 2 ? 'odd' : 'even', n: String(i) } } });
    }
  });

  test('label and field selectors', async () => {
    const odd = await call(base, 'GET', `${pods}?labelSelector=${encodeURIComponent('app=odd,n notin (5)')}`);
    expect(odd.body.kind).toBe('PodList');
    expect(odd.body.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['p1', 'p3']);
    const byName = await call(base, 'GET', `/api/v1/pods?fieldSelector=${encodeURIComponent('metadata.name=p4')}`);
    expect(byName.body.items).toHaveLength(1);
    const unbound = await call(base, 'GET', `${pods}?fieldSelector=${encodeURIComponent('spec.nodeName=')}`);
    expect(unbound.body.items).toHaveLength(7);
  });

  test('limit and continue walk the whole list once', async () => {
    const names: string[] = [];
    let cont = '';
    for (let i = 0; i < 10; i++) {
      const r = await call(base, 'GET', `${pods}?limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      names.push(...r.body.items.map((p: { metadata: { name: string } }) => p.metadata.name));
      cont = r.body.metadata.continue;
      if (!cont) break;
    }
    expect(names).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect((await call(base, 'GET', `${pods}?limit=3&continue=garbage`)).status).toBe(400);
  });

  test('the pages after the first show the objects as they were at its resourceVersion, also from a snapshot this server does not keep (on etcd); one no longer readable is 410 with a token that goes on inconsistently', async () => {
    const names = (r: { body: { items: { metadata: { name: string } }[] } }) => r.body.items.map((p) => p.metadata.name);
    const first = await call(base, 'GET', `${pods}?limit=3`);
    const rv = first.body.metadata.resourceVersion;
    expect((await call(base, 'POST', pods, podManifest('p2x'))).status).toBe(201);
    expect((await call(base, 'DELETE', `${pods}/p5?gracePeriodSeconds=0`)).status).toBe(200);
    const next = await call(base, 'GET', `${pods}?limit=10&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    expect(next.status).toBe(200);
    expect(next.body.metadata.resourceVersion).toBe(rv);
    expect(names(next)).toEqual(['p3', 'p4', 'p5', 'p6']);
    const token = JSON.parse(Buffer.from(first.body.metadata.continue, 'base64url').toString()) as { s: number; rv: number };
    const forged = (change: Partial<typeof token>) => Buffer.from(JSON.stringify({ ...token, ...change })).toString('base64url');
    // A snapshot this server does not keep (another server's, or one gone idle): etcd still has its revision, SQLite has none.
    const elsewhere = await call(base, 'GET', `${pods}?limit=10&continue=${forged({ s: token.s + 1000 })}`);
    if (api.store.backend === 'etcd') {
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.body.metadata.resourceVersion).toBe(rv);
      expect(names(elsewhere)).toEqual(['p3', 'p4', 'p5', 'p6']);
    } else {
      expect(elsewhere.status).toBe(410);
    }
    // A revision no backend holds.
    const expired = await call(base, 'GET', `${pods}?limit=10&continue=${forged({ s: token.s + 1000, rv: token.rv + 1_000_000_000 })}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
    expect(expired.body.message).toMatch(/^The provided continue parameter is too old to display a consistent list result/);
    const rest = await call(base, 'GET', `${pods}?limit=10&continue=${encodeURIComponent(expired.body.metadata.continue)}`);
    expect(rest.status).toBe(200);
    expect(names(rest)).toEqual(['p2x', 'p3', 'p4', 'p6']);
    expect(Number(rest.body.metadata.resourceVersion)).toBeGreaterThan(Number(rv));
    expect((await call(base, 'DELETE', `${pods}/p2x?gracePeriodSeconds=0`)).status).toBe(200);
  });

  test('a list longer than one chunk (250 objects) arrives whole, in order, with its metadata', async () => {
    const names = Array.from({ length: 2500 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
    for (const n of names) await api.registry.create('pods', 'default', podManifest(n), 'Strict');
    const r = await call(base, 'GET', `${pods}?labelSelector=app%3Dweb`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });
    expect(r.body.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(names);
  }, 30_000);

  test('deletecollection by label', async () => {
    const r = await call(base, 'DELETE', `${pods}?labelSelector=app%3Deven`);
    expect(r.status).toBe(200);
    expect((await call(base, 'GET', pods)).body.items).toHaveLength(3);
  });

  test('Table for kubectl', async () => {
    const r = await call(base, 'GET', pods, undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    expect(r.body.kind).toBe('Table');
    expect(r.body.columnDefinitions.map((c: { name: string }) => c.name).slice(0, 5)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(r.body.rows[0].cells.slice(0, 4)).toEqual(['p0', '0/1', 'Pending', '0']);
    expect(r.body.rows[0].object.kind).toBe('PartialObjectMetadata');
  });
});

describe('binding and graceful deletion', () => {
  test('binding sets the node and PodScheduled; a second binding is a conflict', async () => {
    const p = await bound('b');
    expect(p.spec.nodeName).toBe('n1');
    expect(p.status.conditions).toContainEqual(expect.objectContaining({ type: 'PodScheduled', status: 'True' }));
    const again = await call(base, 'POST', `${pods}/b/binding`, { metadata: { name: 'b' }, target: { name: 'n2' } });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('Conflict');
  });

  test('an unbound pod is removed at once', async () => {
    await call(base, 'POST', pods, podManifest('free'));
    const r = await call(base, 'DELETE', `${pods}/free`);
    expect(r.status).toBe(200);
    expect((await call(base, 'GET', `${pods}/free`)).status).toBe(404);
  });

  test('a bound pod gets deletionTimestamp and grace, shortened but never lengthened', async () => {
    await bound('g', { spec: { terminationGracePeriodSeconds: 45, containers: [{ name: 'c', image: 'x:1' }] } });
    const t0 = Date.now();
    const d = await call(base, 'DELETE', `${pods}/g`);
    expect(d.status).toBe(200);
    expect(d.body.metadata.deletionGracePeriodSeconds).toBe(45);
    const deadline = Date.parse(d.body.metadata.deletionTimestamp);
    expect(Math.abs(deadline - (t0 + 45_000))).toBeLessThan(2000);
    const longer = await call(base, 'DELETE', `${pods}/g`, { gracePeriodSeconds: 100 });
    expect(longer.body.metadata.deletionGracePeriodSeconds).toBe(45);
    const shorter = await call(base, 'DELETE', `${pods}/g`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 5 });
    expect(shorter.body.metadata.deletionGracePeriodSeconds).toBe(5);
    const table = await call(base, 'GET', `${pods}/g`, undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    expect(table.body.rows[0].cells[2]).toBe('Terminating');
    const zero = await call(base, 'DELETE', `${pods}/g?gracePeriodSeconds=0`);
    expect(zero.status).toBe(200);
    expect((await call(base, 'GET', `${pods}/g`)).status).toBe(404);
    expect((await call(base, 'POST', pods, podManifest('g'))).status).toBe(201);
  });

  test('a finished pod is removed at once; preconditions are checked', async () => {
    const p = await bound('done');
    p.status.phase = 'Succeeded';
    await call(base, 'PUT', `${pods}/done/status`, p);
    const wrong = await call(base, 'DELETE', `${pods}/done`, { preconditions: { uid: 'not-it' } });
    expect(wrong.status).toBe(409);
    const ok = await call(base, 'DELETE', `${pods}/done`, { preconditions: { uid: p.metadata.uid } });
    expect(ok.status).toBe(200);
    expect((await call(base, 'GET', `${pods}/done`)).status).toBe(404);
  });
});

describe('discovery and health', () => {
  test('version, api, resources, openapi, health, metrics', async () => {
    expect((await call(base, 'GET', '/version')).body.major).toBe('1');
    expect((await call(base, 'GET', '/api')).body.versions).toEqual(['v1']);
    const res = (await call(base, 'GET', '/api/v1')).body;
    expect(res.kind).toBe('APIResourceList');
    expect(res.resources.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/status', 'pods/binding', 'nodes', 'events']));
    expect((await call(base, 'GET', '/apis')).body.kind).toBe('APIGroupList');
    expect((await call(base, 'GET', '/openapi/v3')).body.paths['api/v1'].serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1/);
    expect((await call(base, 'GET', '/openapi/v2')).body.swagger).toBe('2.0');
    for (const p of ['/healthz', '/livez', '/readyz']) expect((await call(base, 'GET', p)).text).toBe('ok');
    expect((await call(base, 'GET', '/readyz?verbose')).text).toBe(`[+]ping ok\n[+]${api.store.backend} ok\n[+]shutdown ok\nreadyz check passed\n`);
    await call(base, 'GET', pods);
    const metrics = (await call(base, 'GET', '/metrics')).text;
    expect(metrics).toContain('apiserver_request_total{verb="list",resource="pods",subresource="",code="200"}');
    expect(metrics).toContain('apiserver_storage_duration_seconds');
  });

  test('closing with a shutdown delay: not ready at once, yet serving until the delay is over', async () => {
    const delayed = createApiServer({ dataDir: ':memory:', ...testStorage(), allowPrivileged: false, shutdownDelayMs: 1500, logger: { info() {}, warn() {}, error() {}, debug() {} } });
    const url = `http://127.0.0.1:${await delayed.listen(0, '127.0.0.1')}`;
    expect((await call(url, 'GET', '/readyz')).status).toBe(200);
    const started = Date.now();
    const closed = delayed.close();
    expect(await call(url, 'GET', '/readyz')).toMatchObject({ status: 500, text: '[+]ping ok\n[+]' + delayed.store.backend + ' ok\n[-]shutdown failed: reason withheld\nreadyz check failed\n' });
    expect((await call(url, 'GET', '/readyz/shutdown')).text).toBe('internal server error: the server is shutting down\n');
    expect((await call(url, 'GET', '/livez')).status).toBe(200);
    expect((await call(url, 'POST', pods, podManifest('late'))).status).toBe(201);
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await expect(fetch(`${url}/livez`)).rejects.toThrow();
  });
});
