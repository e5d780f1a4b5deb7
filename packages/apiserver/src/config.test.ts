// ConfigMaps, Secrets and ServiceAccounts: validation worded as Kubernetes', stringData,
// immutability, tables, watch, dry runs, and the real kubectl and @kubernetes/client-node.
import { execFile } from 'child_process';
import fs from 'fs';
import path from 'path';
import { promisify } from 'util';
import { removeDir, startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { call } from './testing/http';
import { kubectlFor } from './testing/kubectl';
import { watchHttp } from './testing/watch';

jest.setTimeout(120_000);

const ns = '/api/v1/namespaces/default';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let server: RunningApiServer;
let kubectl: ReturnType<typeof kubectlFor>;

beforeAll(async () => {
  server = await startApiServer();
  kubectl = kubectlFor(server.url);
});

afterAll(async () => {
  await server.kill();
  removeDir(server.dataDir);
  kubectl.cleanup();
});

describe('Secrets', () => {
  test('stringData is merged into data (winning over it) and never stored; type defaults to Opaque', async () => {
    const r = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'merged' }, data: { a: b64('from-data'), b: b64('kept') }, stringData: { a: 'from-string' } });
    expect(r.status).toBe(201);
    expect(r.body.type).toBe('Opaque');
    expect(r.body.stringData).toBeUndefined();
    expect(r.body.data).toEqual({ a: b64('from-string'), b: b64('kept') });
    const got = await call(server.url, 'GET', `${ns}/secrets/merged`);
    expect(got.text).not.toContain('from-string');
    // A patch with stringData lands in data too.
    const patched = await call(server.url, 'PATCH', `${ns}/secrets/merged`, { stringData: { c: 'new' } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.body.data.c).toBe(b64('new'));
    expect(patched.body.stringData).toBeUndefined();
  });

  test('data must be base64: 400 as the decoder says it, and line breaks are dropped', async () => {
    const bad = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'bad64' }, data: { k: 'abc' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0');
    const badChar = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'bad64' }, data: { k: 'ab!d' } });
    expect(badChar.body.message).toContain('illegal base64 data at input byte 2');
    const wrapped = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'wrapped' }, data: { k: 'aGVs\nbG8=' } });
    expect(wrapped.status).toBe(201);
    expect(wrapped.body.data.k).toBe(b64('hello'));
    expect((await call(server.url, 'GET', `${ns}/secrets/bad64`)).status).toBe(404);
  });

  test.each([
    ['kubernetes.io/tls', { 'tls.crt': b64('c') }, 'Secret "s" is invalid: data[tls.key]: Required value'],
    ['kubernetes.io/basic-auth', {}, 'Secret "s" is invalid: [data[username]: Required value, data[password]: Required value]'],
    ['kubernetes.io/dockerconfigjson', {}, 'Secret "s" is invalid: data[.dockerconfigjson]: Required value'],
    ['kubernetes.io/service-account-token', {}, 'Secret "s" is invalid: metadata.annotations[kubernetes.io/service-account.name]: Required value'],
  ])('type %s requires its keys', async (type, data, message) => {
    const r = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 's' }, type, data });
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(message);
    expect(r.body.details.causes[0].reason).toBe('FieldValueRequired');
  });

  test('a dockerconfigjson must be JSON; its contents never appear in the error; valid typed secrets are taken', async () => {
    const r = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'docker' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('hunter2-not-json') } });
    expect(r.status).toBe(422);
    expect(r.body.message).toContain('data[.dockerconfigjson]: Invalid value: "<secret contents redacted>"');
    expect(r.text).not.toContain('hunter2');
    const ok = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'docker' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{}}' } });
    expect(ok.status).toBe(201);
    const basic = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'basic' }, type: 'kubernetes.io/basic-auth', stringData: { password: '' } });
    expect(basic.status).toBe(201);
    const sat = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'sat', annotations: { 'kubernetes.io/service-account.name': 'default' } }, type: 'kubernetes.io/service-account-token' });
    expect(sat.status).toBe(201);
  });

  test('keys are checked, the data is at most 1 MiB, and the type cannot change', async () => {
    const keys = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'keys' }, stringData: { 'a b': 'x', '..x': 'y' } });
    expect(keys.status).toBe(422);
    expect(keys.body.details.causes.map((c: { field: string }) => c.field)).toEqual(['data[a b]', 'data[..x]']);
    expect(keys.body.message).toContain("data[..x]: Invalid value: \"..x\": must not start with '..'");
    const big = await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'big' }, data: { a: Buffer.alloc(1024 * 1024 + 1).toString('base64') } });
    expect(big.status).toBe(422);
    expect(big.body.message).toBe('Secret "big" is invalid: data: Too long: may not be more than 1048576 bytes');
    const retyped = await call(server.url, 'PATCH', `${ns}/secrets/merged`, { type: 'kubernetes.io/basic-auth' }, { 'Content-Type': 'application/merge-patch+json' });
    expect(retyped.status).toBe(422);
    // As in Kubernetes, the new type's own rules are checked too.
    expect(retyped.body.message).toBe(
      'Secret "merged" is invalid: [type: Invalid value: "kubernetes.io/basic-auth": field is immutable, data[username]: Required value, data[password]: Required value]',
    );
  });

  test('an immutable Secret keeps its data and stays immutable; its labels may change', async () => {
    await call(server.url, 'POST', `${ns}/secrets`, { metadata: { name: 'frozen' }, stringData: { k: 'v' }, immutable: true });
    const merge = { 'Content-Type': 'application/merge-patch+json' };
    const changed = await call(server.url, 'PATCH', `${ns}/secrets/frozen`, { stringData: { k: 'w' } }, merge);
    expect(changed.status).toBe(422);
    expect(changed.body.message).toBe('Secret "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set');
    const unset = await call(server.url, 'PATCH', `${ns}/secrets/frozen`, { immutable: false }, merge);
    expect(unset.body.message).toBe('Secret "frozen" is invalid: immutable: Forbidden: field is immutable when `immutable` is set');
    expect((await call(server.url, 'PATCH', `${ns}/secrets/frozen`, { metadata: { labels: { a: 'b' } } }, merge)).status).toBe(200);
    expect((await call(server.url, 'DELETE', `${ns}/secrets/frozen`)).status).toBe(200);
  });

  test('the type field selector, and dry runs that store nothing', async () => {
    const list = await call(server.url, 'GET', `${ns}/secrets?fieldSelector=type=kubernetes.io/basic-auth`);
    expect(list.body.items.map((s: { metadata: { name: string } }) => s.metadata.name)).toEqual(['basic']);
    const dry = await call(server.url, 'POST', `${ns}/secrets?dryRun=All`, { metadata: { name: 'dry' }, stringData: { a: 'b' } });
    expect(dry.status).toBe(201);
    expect(dry.body.data).toEqual({ a: b64('b') });
    expect((await call(server.url, 'GET', `${ns}/secrets/dry`)).status).toBe(404);
  });
});

describe('ConfigMaps', () => {
  test('data and binaryData, key rules, duplicates, size, immutability', async () => {
    const ok = await call(server.url, 'POST', `${ns}/configmaps`, { metadata: { name: 'cfg' }, data: { 'app.conf': 'x=1\n' }, binaryData: { blob: b64('\u0000\u0001') } });
    expect(ok.status).toBe(201);
    const badBinary = await call(server.url, 'POST', `${ns}/configmaps`, { metadata: { name: 'bb' }, binaryData: { blob: '%%%%' } });
    expect(badBinary.status).toBe(400);
    expect(badBinary.body.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte 0');
    const dup = await call(server.url, 'POST', `${ns}/configmaps`, { metadata: { name: 'dup' }, data: { k: 'a', 'bad/key': 'b' }, binaryData: { k: b64('b') } });
    expect(dup.status).toBe(422);
    expect(dup.body.details.causes.map((c: { field: string }) => c.field)).toEqual(['data[bad/key]', 'data[k]']);
    expect(dup.body.message).toContain('data[k]: Invalid value: "k": duplicate of key present in binaryData');
    expect(dup.body.message).toContain("data[bad/key]: Invalid value: \"bad/key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'");
    const big = await call(server.url, 'POST', `${ns}/configmaps`, { metadata: { name: 'big' }, data: { a: 'x'.repeat(600_000) }, binaryData: { b: Buffer.alloc(600_000).toString('base64') } });
    expect(big.status).toBe(422);
    expect(big.body.message).toBe('ConfigMap "big" is invalid: Too long: may not be more than 1048576 bytes');
    await call(server.url, 'POST', `${ns}/configmaps`, { metadata: { name: 'frozen' }, data: { a: '1' }, binaryData: { b: b64('2') }, immutable: true });
    const changed = await call(server.url, 'PUT', `${ns}/configmaps/frozen`, { metadata: { name: 'frozen' }, data: { a: '1' }, immutable: true });
    expect(changed.status).toBe(422);
    expect(changed.body.message).toBe('ConfigMap "frozen" is invalid: binaryData: Forbidden: field is immutable when `immutable` is set');
  });

  test('watch sees ConfigMap changes', async () => {
    const rv = (await call(server.url, 'GET', `${ns}/configmaps`)).body.metadata.resourceVersion;
    const w = await watchHttp(server.url, `${ns}/configmaps?watch=true&resourceVersion=${rv}`);
    try {
      await call(server.url, 'PATCH', `${ns}/configmaps/cfg`, { data: { extra: 'y' } }, { 'Content-Type': 'application/merge-patch+json' });
      await w.waitFor(1);
      expect(w.events[0]).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'cfg' }, data: { extra: 'y' } } });
    } finally {
      w.close();
    }
  });
});

describe('ServiceAccounts', () => {
  test('created, listed and named with a DNS subdomain', async () => {
    expect((await call(server.url, 'POST', `${ns}/serviceaccounts`, { metadata: { name: 'robot' }, automountServiceAccountToken: false })).status).toBe(201);
    const bad = await call(server.url, 'POST', `${ns}/serviceaccounts`, { metadata: { name: 'Bad_Name' } });
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes[0].field).toBe('metadata.name');
    const discovery = await call(server.url, 'GET', '/api/v1');
    const token = discovery.body.resources.find((r: { name: string }) => r.name === 'serviceaccounts/token');
    expect(token).toEqual({ name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
  });
});

describe('kubectl', () => {
  test('apply -f and create -f of YAML, then get (kubectl\'s columns) and describe', () => {
    const file = path.join(kubectl.home, 'config.yaml');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: app-config}',
        'data: {mode: fast, app.conf: "a=1"}',
        'binaryData: {logo: AAEC}',
        '---',
        'apiVersion: v1',
        'kind: Secret',
        'metadata: {name: app-secret}',
        'type: kubernetes.io/basic-auth',
        'stringData: {username: admin, password: s3cr3t-value}',
        '---',
        'apiVersion: v1',
        'kind: ServiceAccount',
        'metadata: {name: app}',
        '',
      ].join('\n'),
    );
    const applied = kubectl.run(['apply', '-f', file]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toBe('configmap/app-config created\nsecret/app-secret created\nserviceaccount/app created\n');
    // stringData is never stored, so the Secret always differs from what is applied: "configured", as in Kubernetes.
    expect(kubectl.run(['apply', '-f', file]).stdout).toBe('configmap/app-config unchanged\nsecret/app-secret configured\nserviceaccount/app unchanged\n');
    const created = kubectl.run(['create', '-f', '-', '--validate=strict'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-create}\ndata: {k: v}\n');
    expect(created.stdout).toBe('configmap/from-create created\n');
    expect(kubectl.run(['get', 'configmap', 'app-config']).stdout).toMatch(/^NAME\s+DATA\s+AGE\napp-config\s+3\s+\d+s\n$/);
    expect(kubectl.run(['get', 'secret', 'app-secret']).stdout).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\napp-secret\s+kubernetes\.io\/basic-auth\s+2\s+\d+s\n$/);
    expect(kubectl.run(['get', 'sa', 'app']).stdout).toMatch(/^NAME\s+SECRETS\s+AGE\napp\s+0\s+\d+s\n$/);
    const describeSecret = kubectl.run(['describe', 'secret', 'app-secret']).stdout;
    expect(describeSecret).toContain('Type:  kubernetes.io/basic-auth');
    expect(describeSecret).toMatch(/password:\s+12 bytes/);
    expect(kubectl.run(['get', 'secret', 'app-secret', '-o', 'jsonpath={.data.password}']).stdout).toBe(b64('s3cr3t-value'));
    const describeCm = kubectl.run(['describe', 'cm', 'app-config']).stdout;
    expect(describeCm).toContain('mode:\n----\nfast\n');
    expect(describeCm).toContain('logo: 3 bytes');
    const bad = kubectl.run(['create', '-f', '-'], 'apiVersion: v1\nkind: Secret\nmetadata: {name: t}\ntype: kubernetes.io/tls\ndata: {tls.crt: YQ==}\n');
    expect(bad.stderr).toBe('The Secret "t" is invalid: data[tls.key]: Required value\n');
    const dry = kubectl.run(['apply', '-f', '-', '--dry-run=server'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\ndata: {k: v}\n');
    expect(dry.stdout).toBe('configmap/dry created (server dry run)\n');
    expect(kubectl.run(['get', 'cm', 'dry']).stderr).toContain('NotFound');
    expect(kubectl.run(['delete', 'secret', 'app-secret']).stdout).toBe('secret "app-secret" deleted\n');
  });

  // kubectl's typed create commands send protobuf bodies (Content-Type application/vnd.kubernetes.protobuf).
  test('create configmap|secret generic --from-* (protobuf request bodies)', () => {
    const dir = path.join(kubectl.home, 'files');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'a.txt'), 'alpha\n');
    fs.writeFileSync(path.join(kubectl.home, 'app.env'), '# comment\nMODE=fast\nLEVEL=3\n');
    expect(kubectl.run(['create', 'configmap', 'typed', `--from-file=${dir}`, '--from-literal=k=v']).stdout).toBe('configmap/typed created\n');
    expect(kubectl.run(['get', 'cm', 'typed', '-o', 'jsonpath={.data.a\\.txt}']).stdout).toBe('alpha\n');
    expect(kubectl.run(['create', 'configmap', 'typed-env', `--from-env-file=${path.join(kubectl.home, 'app.env')}`]).stdout).toBe('configmap/typed-env created\n');
    expect(kubectl.run(['create', 'secret', 'generic', 'typed', '--from-literal=user=admin']).stdout).toBe('secret/typed created\n');
    expect(kubectl.run(['get', 'secret', 'typed', '-o', 'jsonpath={.data.user}']).stdout).toBe(b64('admin'));
  });
});

test('@kubernetes/client-node: ConfigMaps, Secrets and ServiceAccounts', async () => {
  const script = path.join(__dirname, 'testing', 'client-node-configmaps.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [script, server.url], { timeout: 30_000 });
  const result = JSON.parse(stdout);
  expect(result).toEqual({
    configMap: { data: { greeting: 'hello' }, binaryData: { raw: 'AQID' } },
    secret: { type: 'Opaque', data: { password: b64('pw') }, stringData: null },
    listedSecrets: expect.arrayContaining(['cn-secret']),
    serviceAccount: 'cn-robot',
    replaced: { greeting: 'bye' },
    deleted: 404,
  });
});
