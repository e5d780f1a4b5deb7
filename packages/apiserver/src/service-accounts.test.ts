// Service accounts end to end in one API server with authentication on: the ServiceAccount
// admission of pods, TokenRequest, and the authentication of the tokens it issues (and their
// rejection once expired or once what they are bound to is gone).
import crypto from 'crypto';
import { execFile } from 'child_process';
import fs from 'fs';
import https from 'https';
import os from 'os';
import path from 'path';
import { promisify } from 'util';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { createApiServer, ApiServer } from './server';
import { generatedKeyFile } from './pki/service-account-key';
import { bootstrapCluster, BootstrapResult } from './pki/bootstrap';
import { kubectlPath } from './testing/kubectl';

jest.setTimeout(60_000);

let adminToken: string;
let pki: BootstrapResult;
let ca: Buffer;
const issuer = 'https://kubernetes.default.svc.cluster.local';
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const ns = '/api/v1/namespaces/default';

let dir: string;
let api: ApiServer;
let base: string;

// HTTPS, because kubectl sends a bearer token only over TLS.
function start(dataDir: string): Promise<number> {
  api = createApiServer({
    dataDir,
    allowPrivileged: true,
    tokenAuthFile: pki.tokenFile,
    tls: { cert: fs.readFileSync(pki.certFile), key: fs.readFileSync(pki.keyFile) },
    logger: quiet,
  });
  return api.listen(0, '127.0.0.1');
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-sa-'));
  pki = bootstrapCluster({ dir: path.join(dir, 'pki'), server: 'https://127.0.0.1:1', hosts: ['127.0.0.1'], nodes: [] });
  ca = fs.readFileSync(pki.caFile);
  adminToken = fs.readFileSync(pki.tokenFile, 'utf8').split('\n').find((l) => l.split(',')[1] === 'admin')!.split(',')[0];
  base = `https://127.0.0.1:${await start(path.join(dir, 'data'))}`;
  for (const name of ['robot', 'quiet']) {
    await req('POST', `${ns}/serviceaccounts`, { metadata: { name }, ...(name === 'quiet' ? { automountServiceAccountToken: false } : {}) });
  }
});

afterAll(async () => {
  await api.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Replies are arbitrary JSON that assertions walk into.
function req(method: string, p: string, body?: unknown, token = adminToken): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  return new Promise((resolve, reject) => {
    const r = https.request(base + p, { method, headers, ca }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    r.on('error', reject);
    r.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function pod(name: string, spec: Record<string, unknown> = {}): unknown {
  return { metadata: { name }, spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }], ...spec } };
}

async function tokenFor(sa: string, spec: Record<string, unknown> = {}, query = ''): Promise<{ status: number; body: any }> {
  return req('POST', `${ns}/serviceaccounts/${sa}/token${query}`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });
}

/** kubectl run without blocking this process, which serves its requests. */
function kubectl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const home = path.join(dir, 'kubectl-home');
  fs.mkdirSync(home, { recursive: true });
  const env = { ...process.env, HOME: home, KUBECONFIG: path.join(home, 'none') };
  const all = ['--server', base, '--certificate-authority', pki.caFile, '--cache-dir', path.join(home, 'cache'), ...args];
  return new Promise((resolve) => execFile(kubectlPath, all, { env, timeout: 30_000 }, (_err, stdout, stderr) => resolve({ stdout, stderr })));
}

function claimsOf(token: string): any {
  return jwt.decode(token);
}

describe('ServiceAccount admission', () => {
  test('a pod runs as default and gets the kube-api-access volume in every container, as Kubernetes adds it', async () => {
    const r = await req('POST', `${ns}/pods`, pod('plain', { initContainers: [{ name: 'init', image: 'peapod/busybox:latest' }] }));
    expect(r.status).toBe(201);
    const spec = r.body.spec;
    expect(spec.serviceAccountName).toBe('default');
    expect(spec.serviceAccount).toBe('default');
    const volume = spec.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
    expect(volume.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(volume.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    const mount = { name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
    expect(spec.containers[0].volumeMounts).toEqual([mount]);
    expect(spec.initContainers[0].volumeMounts).toEqual([mount]);
  });

  test('automountServiceAccountToken: the pod decides, else its account; a mount at the path is kept', async () => {
    const off = await req('POST', `${ns}/pods`, pod('off', { automountServiceAccountToken: false }));
    expect(off.body.spec.volumes).toBeUndefined();
    expect(off.body.spec.containers[0].volumeMounts).toBeUndefined();
    const quietSa = await req('POST', `${ns}/pods`, pod('quiet-sa', { serviceAccountName: 'quiet' }));
    expect(quietSa.body.spec.volumes).toBeUndefined();
    const podWins = await req('POST', `${ns}/pods`, pod('pod-wins', { serviceAccountName: 'quiet', automountServiceAccountToken: true }));
    expect(podWins.body.spec.volumes).toHaveLength(1);
    const own = await req(
      'POST',
      `${ns}/pods`,
      pod('own-mount', {
        volumes: [{ name: 'mine', emptyDir: {} }],
        containers: [
          { name: 'a', image: 'x:1', volumeMounts: [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] },
          { name: 'b', image: 'x:1' },
        ],
      }),
    );
    expect(own.body.spec.containers[0].volumeMounts.map((m: { name: string }) => m.name)).toEqual(['mine']);
    expect(own.body.spec.containers[1].volumeMounts[0].name).toMatch(/^kube-api-access-/);
    const legacy = await req('POST', `${ns}/pods`, pod('legacy', { serviceAccount: 'robot' }));
    expect(legacy.body.spec).toMatchObject({ serviceAccountName: 'robot', serviceAccount: 'robot' });
  });

  test('a named account that does not exist refuses the pod, as Kubernetes words it; dry runs are admitted too', async () => {
    const r = await req('POST', `${ns}/pods`, pod('ghost', { serviceAccountName: 'ghost' }));
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({
      reason: 'Forbidden',
      message: 'pods "ghost" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found',
    });
    const dry = await req('POST', `${ns}/pods?dryRun=All`, pod('dry'));
    expect(dry.status).toBe(201);
    expect(dry.body.spec.volumes[0].name).toMatch(/^kube-api-access-/);
    expect((await req('GET', `${ns}/pods/dry`)).status).toBe(404);
    expect((await req('POST', `${ns}/pods?dryRun=All`, pod('ghost', { serviceAccountName: 'ghost' }))).status).toBe(403);
  });
});

describe('TokenRequest', () => {
  test("defaults, Kubernetes' claims, and a signature checked with the server's key", async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await tokenFor('robot');
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: 'robot', namespace: 'default' },
      spec: { audiences: [issuer], expirationSeconds: 3600 },
    });
    const sa = (await req('GET', `${ns}/serviceaccounts/robot`)).body;
    const token = r.body.status.token as string;
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
    const key = crypto.createPrivateKey(fs.readFileSync(path.join(dir, 'data', generatedKeyFile)));
    const claims = jwt.verify(token, crypto.createPublicKey(key), { audience: issuer, issuer }) as any;
    expect(claims).toMatchObject({ sub: 'system:serviceaccount:default:robot', 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'robot', uid: sa.metadata.uid } } });
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.exp).toBe(claims.iat + 3600);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(r.body.status.expirationTimestamp) / 1000).toBeCloseTo(claims.exp, -1);
    const audiences = await tokenFor('robot', { audiences: ['vault', 'other'], expirationSeconds: 700 });
    expect(claimsOf(audiences.body.status.token)).toMatchObject({ aud: ['vault', 'other'] });
  });

  test('bad requests, worded as Kubernetes words them', async () => {
    const short = await tokenFor('robot', { expirationSeconds: 599 });
    expect(short.status).toBe(422);
    expect(short.body.message).toBe('TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes');
    expect(short.body.details).toMatchObject({ group: 'authentication.k8s.io', kind: 'TokenRequest' });
    const named = await req('POST', `${ns}/serviceaccounts/robot/token`, { metadata: { name: 'other' }, spec: {} });
    expect(named.body.message).toBe('TokenRequest.authentication.k8s.io "robot" is invalid: metadata.name: Invalid value: "other": must match the service account name if specified');
    expect((await tokenFor('ghost')).body).toMatchObject({ code: 404, message: 'serviceaccounts "ghost" not found' });
    const kind = await req('POST', `${ns}/serviceaccounts/robot/token`, { kind: 'Pod', spec: {} });
    expect(kind.status).toBe(400);
    expect((await req('GET', `${ns}/serviceaccounts/robot/token`)).status).toBe(405);
  });

  test('bound to a Pod (with its node), a Secret or a Node; the uid must match; other kinds are refused', async () => {
    await req('POST', '/api/v1/nodes', { metadata: { name: 'n1' } });
    await req('POST', `${ns}/pods`, pod('bound', { serviceAccountName: 'robot', nodeName: 'n1' }));
    const p = (await req('GET', `${ns}/pods/bound`)).body;
    const node = (await req('GET', '/api/v1/nodes/n1')).body;
    const r = await tokenFor('robot', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound' } });
    expect(claimsOf(r.body.status.token)['kubernetes.io']).toMatchObject({ pod: { name: 'bound', uid: p.metadata.uid }, node: { name: 'n1', uid: node.metadata.uid } });
    const other = await tokenFor('quiet', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound' } });
    expect(other.status).toBe(400);
    expect(other.body.message).toBe('cannot bind token for serviceaccount "quiet" to pod running with different serviceaccount name.');
    const stale = await tokenFor('robot', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound', uid: 'not-the-uid' } });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toContain('the UID in the bound object reference (not-the-uid) does not match the UID in record');
    await req('POST', `${ns}/secrets`, { metadata: { name: 'anchor' } });
    const secret = await tokenFor('robot', { boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'anchor' } });
    expect(claimsOf(secret.body.status.token)['kubernetes.io'].secret.name).toBe('anchor');
    const onNode = await tokenFor('robot', { boundObjectRef: { kind: 'Node', apiVersion: 'v1', name: 'n1' } });
    expect(claimsOf(onNode.body.status.token)['kubernetes.io'].node).toEqual({ name: 'n1', uid: node.metadata.uid });
    const rc = await tokenFor('robot', { boundObjectRef: { kind: 'ReplicationController', apiVersion: 'v1', name: 'x' } });
    expect(rc.status).toBe(400);
    expect(rc.body.message).toBe('cannot bind token to object of type /v1, Kind=ReplicationController');
    expect((await tokenFor('robot', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'nope' } })).body.message).toBe('pods "nope" not found');
  });

  test("the pods' own tokens (3607 s, bound to a pod) live a year and warn after the hour, as Kubernetes' do by default", async () => {
    const r = await tokenFor('robot', { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound' } });
    const claims = claimsOf(r.body.status.token);
    expect(claims.exp - claims.iat).toBe(365 * 24 * 3600);
    expect(claims['kubernetes.io'].warnafter).toBe(claims.iat + 3607);
    expect(Date.parse(r.body.status.expirationTimestamp) / 1000 - claims.iat).toBeCloseTo(3607, -1);
  });

  test('a dry run checks the request but mints no token', async () => {
    const r = await tokenFor('robot', {}, '?dryRun=All');
    expect(r.status).toBe(201);
    expect(r.body.spec.audiences).toEqual([issuer]);
    expect(r.body.status.token).toBe('');
    expect((await tokenFor('robot', { expirationSeconds: 1 }, '?dryRun=All')).status).toBe(422);
  });
});

describe('authentication with service account tokens', () => {
  test('the token is the service account; the authorizer gives it what it gives unknown users (nothing)', async () => {
    const token = (await tokenFor('robot')).body.status.token;
    const review = await req('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token } });
    const sa = (await req('GET', `${ns}/serviceaccounts/robot`)).body;
    expect(review.body.status).toMatchObject({
      authenticated: true,
      user: { username: 'system:serviceaccount:default:robot', uid: sa.metadata.uid, groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'] },
    });
    const listed = await req('GET', `${ns}/pods`, undefined, token);
    expect(listed.status).toBe(403);
    expect(listed.body.message).toBe('pods is forbidden: User "system:serviceaccount:default:robot" cannot list resource "pods" in API group "" in the namespace "default"');
  });

  test('the real kubectl with a service account token', async () => {
    const token = (await tokenFor('robot')).body.status.token;
    const r = await kubectl(['--token', token, 'get', 'pods']);
    expect(r.stderr).toContain('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:default:robot" cannot list resource "pods"');
    expect((await kubectl(['--token', 'x.y.z', 'get', 'pods'])).stderr).toContain('You must be logged in to the server');
  });

  test('refused once the account is gone, even when one of the same name is made again', async () => {
    await req('POST', `${ns}/serviceaccounts`, { metadata: { name: 'short-lived' } });
    const token = (await tokenFor('short-lived')).body.status.token;
    expect((await req('GET', `${ns}/pods`, undefined, token)).status).toBe(403);
    await req('DELETE', `${ns}/serviceaccounts/short-lived`);
    expect((await req('GET', `${ns}/pods`, undefined, token)).status).toBe(401);
    await req('POST', `${ns}/serviceaccounts`, { metadata: { name: 'short-lived' } });
    expect((await req('GET', `${ns}/pods`, undefined, token)).status).toBe(401);
    const review = await req('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token } });
    expect(review.body.status).toEqual({ authenticated: false });
  });

  test('refused once the pod or secret it is bound to is deleted', async () => {
    await req('POST', `${ns}/pods`, pod('ephemeral', { serviceAccountName: 'robot' }));
    await req('POST', `${ns}/secrets`, { metadata: { name: 'ephemeral' } });
    const podToken = (await tokenFor('robot', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'ephemeral' } })).body.status.token;
    const secretToken = (await tokenFor('robot', { boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'ephemeral' } })).body.status.token;
    for (const t of [podToken, secretToken]) expect((await req('GET', `${ns}/pods`, undefined, t)).status).toBe(403);
    await req('DELETE', `${ns}/pods/ephemeral`);
    await req('DELETE', `${ns}/secrets/ephemeral`);
    for (const t of [podToken, secretToken]) expect((await req('GET', `${ns}/pods`, undefined, t)).status).toBe(401);
  });

  test('refused when expired (past the minute of leeway), of another issuer or audience, or altered', async () => {
    const sa = (await req('GET', `${ns}/serviceaccounts/robot`)).body;
    const key = crypto.createPrivateKey(fs.readFileSync(path.join(dir, 'data', generatedKeyFile)));
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer, sub: 'system:serviceaccount:default:robot', aud: [issuer], 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'robot', uid: sa.metadata.uid } } };
    const sign = (c: object, exp: number) => jwt.sign({ ...c, iat: exp - 600, nbf: exp - 600, exp }, key, { algorithm: 'RS256' });
    expect((await req('GET', `${ns}/pods`, undefined, sign(claims, now + 600))).status).toBe(403);
    expect((await req('GET', `${ns}/pods`, undefined, sign(claims, now - 30))).status).toBe(403);
    expect((await req('GET', `${ns}/pods`, undefined, sign(claims, now - 120))).status).toBe(401);
    expect((await req('GET', `${ns}/pods`, undefined, sign({ ...claims, iss: 'https://elsewhere' }, now + 600))).status).toBe(401);
    expect((await req('GET', `${ns}/pods`, undefined, sign({ ...claims, aud: ['vault'] }, now + 600))).status).toBe(401);
    const foreign = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect((await req('GET', `${ns}/pods`, undefined, jwt.sign({ ...claims, exp: now + 600 }, foreign, { algorithm: 'RS256' }))).status).toBe(401);
    const good = (await tokenFor('robot')).body.status.token as string;
    const [h, , s] = good.split('.');
    const altered = Buffer.from(JSON.stringify({ ...claimsOf(good), sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
    expect((await req('GET', `${ns}/pods`, undefined, `${h}.${altered}.${s}`)).status).toBe(401);
  });

  test('a watch over a WebSocket authenticates the token too', async () => {
    const token = (await tokenFor('robot')).body.status.token;
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base.replace('https', 'wss')}${ns}/pods?watch=true`, { headers: { Authorization: `Bearer ${token}` }, ca });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(status).toBe(403);
  });
});

test('the generated signing key is private (0600) and kept: tokens outlive a restart', async () => {
  const keyFile = path.join(dir, 'data', generatedKeyFile);
  expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
  const token = (await tokenFor('robot')).body.status.token;
  await api.close();
  base = `https://127.0.0.1:${await start(path.join(dir, 'data'))}`;
  expect((await req('GET', `${ns}/pods`, undefined, token)).status).toBe(403);
});

test('@kubernetes/client-node: a token for a service account, and a client that uses it', async () => {
  const script = path.join(__dirname, 'testing', 'client-node-token.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [script, base, adminToken], { timeout: 30_000 });
  expect(JSON.parse(stdout)).toEqual({ audiences: [issuer], hasToken: true, asServiceAccount: 403 });
});

// kubectl create token sends its TokenRequest as protobuf, which the API server reads once
// branch h8 (the protobuf codec) is merged.
test.skip('kubectl create token (needs protobuf request bodies: branch h8)', async () => {
  const r = await kubectl(['--token', adminToken, 'create', 'token', 'robot', '--duration', '15m']);
  expect(r.stderr).toBe('');
  expect(claimsOf(r.stdout)).toMatchObject({ sub: 'system:serviceaccount:default:robot' });
  const bound = await kubectl(['--token', adminToken, 'create', 'token', 'robot', '--bound-object-kind', 'Pod', '--bound-object-name', 'bound']);
  expect(claimsOf(bound.stdout)['kubernetes.io'].pod.name).toBe('bound');
});
