// Configuration in pods: environment from ConfigMaps, Secrets and the downward API,
// CreateContainerConfigError until a missing reference appears, configMap, secret,
// downwardAPI and projected volumes (updates seen in the running pod, but not through subPath
// mounts, the service account token the API server accepts). Real API server, agent, Docker.
import { randomBytes } from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { ConfigMap, Event, Pod, Secret } from '@peapod/api';
import { ApiError, Client } from '@peapod/client';
import { TestCluster, cooperative, makePod, shContainer, waitFor } from '../testing/cluster';

jest.setTimeout(90_000);

const cluster = new TestCluster('config');
const n1 = cluster.node('n1');
const n2 = cluster.node('n2');
const b64 = (s: string) => Buffer.from(s).toString('base64');
const tokens = { admin: randomBytes(16).toString('hex'), n1: randomBytes(16).toString('hex'), n2: randomBytes(16).toString('hex') };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-config-'));

beforeAll(async () => {
  // Authentication on, so that the agent acts as its node and service account tokens are checked.
  const tokenFile = path.join(dir, 'tokens.csv');
  fs.writeFileSync(
    tokenFile,
    `${tokens.admin},admin,1,system:masters\n${tokens.n1},system:node:${n1},2,system:nodes\n${tokens.n2},system:node:${n2},3,system:nodes\n`,
  );
  // The API server presents the admin token to the agent for logs.
  const agentClientTokenFile = path.join(dir, 'agent-client.token');
  fs.writeFileSync(agentClientTokenFile, tokens.admin);
  await cluster.start(['--token-auth-file', tokenFile, '--agent-client-token-file', agentClientTokenFile], tokens.admin);
  await cluster.startAgent(n1, { args: ['--token', tokens.n1, '--volume-resync-period', '2'] });
});

afterAll(async () => {
  await cluster.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function configMap(name: string, data: Record<string, string>): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data };
}

function secret(name: string, data: Record<string, string>): Secret {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data: encoded };
}

/** The container's log through the API's pods/log. */
function podLog(name: string, container: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const stream = cluster.api.logs('default', name, { container });
    stream.on('data', (c: Buffer) => (out += c.toString()));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
}

async function logContains(name: string, container: string, text: string, timeoutMs = 30_000): Promise<string> {
  return waitFor(`"${text}" in the log of ${name}/${container}`, async () => {
    const log = await podLog(name, container);
    return log.includes(text) ? log : undefined;
  }, timeoutMs, 500);
}

describe('environment', () => {
  beforeAll(async () => {
    await cluster.api.create('configmaps', configMap('settings', { mode: 'fast', level: '3' }));
    await cluster.api.create('secrets', secret('creds', { password: 'hunter2' }));
  });

  test('env from a ConfigMap, a Secret, the downward API and the kubernetes service', async () => {
    await cluster.api.create(
      'pods',
      makePod('env', n1, [
        shContainer('c', `env | sort; echo "args: $0"; ${cooperative()}`, {
          args: ['$(MODE)-$(PASSWORD)'],
          envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
          env: [
            { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
            { name: 'GREETING', value: 'mode is $(MODE)' },
          ],
          resources: { limits: { memory: '32Mi' } },
        }),
      ]),
    );
    const log = await logContains('env', 'c', 'args:');
    expect(log).toContain('CFG_mode=fast\n');
    expect(log).toContain('CFG_level=3\n');
    expect(log).toContain('MODE=fast\n');
    expect(log).toContain('PASSWORD=hunter2\n');
    expect(log).toContain('POD_NAME=env\n');
    expect(log).toContain(`NODE=${n1}\n`);
    expect(log).toContain('MEM=32\n');
    expect(log).toContain('GREETING=mode is fast\n');
    expect(log).toContain('args: fast-hunter2\n');
    expect(log).toMatch(/KUBERNETES_SERVICE_HOST=\d+\.\d+\.\d+\.\d+\n/);
    expect(log).toMatch(/KUBERNETES_SERVICE_PORT=\d+\n/);
  });

  test('a missing ConfigMap holds the container in CreateContainerConfigError until it is created', async () => {
    await cluster.api.create(
      'pods',
      makePod('late', n1, [
        shContainer('c', `echo "value=$LATE"; ${cooperative()}`, {
          env: [{ name: 'LATE', valueFrom: { configMapKeyRef: { name: 'later', key: 'k' } } }],
        }),
      ]),
    );
    const waiting = await waitFor('CreateContainerConfigError', async () => {
      const pod = await cluster.api.get<Pod>('pods', 'late');
      const w = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    }, 30_000, 250);
    expect(waiting.message).toBe('configmap "later" not found');
    const failed = await waitFor('a Failed event', async () => {
      const events = await cluster.api.list<Event>('events', { namespace: 'default' });
      return events.items.find((e) => e.involvedObject.name === 'late' && e.reason === 'Failed');
    });
    expect(failed.message).toBe('Error: configmap "later" not found');
    await cluster.api.create('configmaps', configMap('later', { k: 'arrived' }));
    await logContains('late', 'c', 'value=arrived', 60_000);
  });
});

describe('volumes', () => {
  beforeAll(async () => {
    await cluster.api.create('configmaps', configMap('site', { 'index.html': 'v1', other: 'x' }));
    await cluster.api.create('secrets', secret('tls', { 'tls.key': 'private-bits' }));
    await cluster.api.create(
      'pods',
      makePod(
        'files',
        n1,
        [
          shContainer('c', cooperative(), {
            volumeMounts: [
              { name: 'site', mountPath: '/site' },
              { name: 'tls', mountPath: '/tls' },
              { name: 'info', mountPath: '/info' },
              // subPath mounts: the version the volume held when the container was created
              { name: 'site', mountPath: '/pinned/index.html', subPath: 'html/index.html' },
              { name: 'tls', mountPath: '/etc/app/key.pem', subPath: 'tls.key' },
            ],
          }),
        ],
        {
          volumes: [
            { name: 'site', configMap: { name: 'site', items: [{ key: 'index.html', path: 'html/index.html' }] } },
            { name: 'tls', secret: { secretName: 'tls', defaultMode: 0o400 } },
            {
              name: 'info',
              downwardAPI: {
                items: [
                  { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
                  { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                ],
              },
            },
          ],
        },
      ),
    );
    await waitFor('pod files Running', async () => (await cluster.api.get<Pod>('pods', 'files')).status?.phase === 'Running', 60_000, 250);
  });

  const sh = async (script: string) => {
    const r = await cluster.exec(n1, 'files', 'c', ['sh', '-c', script]);
    if (r.code !== 0) throw new Error(`${script}: ${r.code}: ${r.out}`);
    return r.out;
  };

  test('configMap (items), secret (mode) and downwardAPI files in the atomic writer layout', async () => {
    expect(await sh('cat /site/html/index.html')).toBe('v1');
    expect(await sh('ls /site')).toBe('html\n');
    expect(await sh('readlink /site/html')).toBe('..data/html\n');
    expect(await sh('readlink /site/..data')).toMatch(/^\.\.\d{4}_/);
    expect(await sh('cat /tls/tls.key')).toBe('private-bits');
    expect(await sh('stat -L -c %a /tls/tls.key')).toBe('400\n');
    expect(await sh('cat /info/name')).toBe('files');
    expect(await sh('grep -c . /info/labels || true')).toBe('0\n');
    const mounts = await sh('grep -E " /(tls|site|info) " /proc/mounts');
    for (const line of mounts.trim().split('\n')) expect(line).toMatch(/ tmpfs ro[, ]/);
  });

  test('subPath mounts of configMap and secret volumes: their file, read-only, in memory', async () => {
    expect(await sh('cat /pinned/index.html')).toBe('v1');
    expect(await sh('cat /etc/app/key.pem')).toBe('private-bits');
    expect(await sh('stat -L -c %a /etc/app/key.pem')).toBe('400\n');
    const mounts = await sh('grep -E " /(pinned/index.html|etc/app/key.pem) " /proc/mounts');
    expect(mounts.trim().split('\n')).toHaveLength(2);
    for (const line of mounts.trim().split('\n')) expect(line).toMatch(/ tmpfs ro[, ]/);
  });

  test('a ConfigMap update is seen inside the running pod', async () => {
    const cm = await cluster.api.get<ConfigMap>('configmaps', 'site');
    await cluster.api.update('configmaps', { ...cm, data: { 'index.html': 'v2', other: 'x' } });
    await waitFor('v2 in the pod', async () => (await sh('cat /site/html/index.html')) === 'v2', 60_000, 500);
    // A subPath mount keeps the version it was made from, as in Kubernetes.
    expect(await sh('cat /pinned/index.html')).toBe('v1');
  });

  test('the service account volume: a token the API server accepts, ca.crt and namespace', async () => {
    const pod = await cluster.api.get<Pod>('pods', 'files');
    const access = pod.spec.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
    expect(access).toBeDefined();
    const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
    expect(await sh(`cat ${dir}/namespace`)).toBe('default');
    expect(await sh(`test -f ${dir}/ca.crt && echo ok`)).toBe('ok\n');
    const token = await sh(`cat ${dir}/token`);
    expect(token.split('.')).toHaveLength(3);
    const review = await cluster.api.request<{ status?: { authenticated?: boolean; user?: { username?: string } } }>(
      'POST',
      '/apis/authentication.k8s.io/v1/tokenreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    );
    expect(review.body.status?.authenticated).toBe(true);
    expect(review.body.status?.user?.username).toBe('system:serviceaccount:default:default');
  });
});

test("a node reads the Secrets of its own pods and gets 403 for another node's", async () => {
  const asNode = (token: string) => new Client({ server: cluster.server?.url ?? '', token });
  const mine = asNode(tokens.n1);
  const other = asNode(tokens.n2);
  try {
    expect((await mine.get<Secret>('secrets', 'tls')).data?.['tls.key']).toBe(b64('private-bits'));
    const err = await other.get<Secret>('secrets', 'tls').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(403);
    const token = await other.createToken('default', 'default', { metadata: {}, spec: {} }).catch((e: unknown) => e);
    expect((token as ApiError).code).toBe(403);
    expect((await mine.createToken('default', 'default', { metadata: {}, spec: {} })).status?.token).toBeTruthy();
  } finally {
    mine.close();
    other.close();
  }
});
