// A pod as a client of the API: a @kubernetes/client-node 1.4 script with loadFromCluster()
// (the pod's projected service account token, ca.crt and namespace) lists pods. Its account
// gets 403 until a RoleBinding grants it `view` (whose rules the controller manager
// aggregates), and 403 in another namespace after that; its token is refused once the pod
// is deleted. API server with authentication and TLS, bound to the test network's gateway so
// that the pod reaches it; agent, controller manager, Docker.
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Pod } from '@peapod/api';
import { ApiError, Client } from '@peapod/client';
import { startComponent } from '@peapod/client/testing';
import type { RunningProcess } from '@peapod/client/testing';
import { TestCluster, bootstrapPki, cooperative, makePod, waitFor } from '../testing/cluster';

jest.setTimeout(180_000);

const cluster = new TestCluster('in-cluster');
const node = cluster.node('n1');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-in-cluster-'));
const pki = path.join(dir, 'pki');
let file: (name: string) => string;
/** The repository's node_modules, where client-node and its dependencies are. */
const nodeModules = path.resolve(__dirname, '../../../../node_modules');
let admin: Client;
let controllerManager: RunningProcess | undefined;

// Lists the pods of its own namespace and of kube-system every second; one line per attempt.
const script = `
import * as k8s from '@kubernetes/client-node';
const kc = new k8s.KubeConfig();
kc.loadFromCluster();
const core = kc.makeApiClient(k8s.CoreV1Api);
const own = (await import('fs')).readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8');
for (;;) {
  const line = [];
  for (const namespace of [own, 'kube-system']) {
    try {
      const list = await core.listNamespacedPod({ namespace });
      line.push(namespace + '=ok:' + list.items.length);
    } catch (err) {
      line.push(namespace + '=' + (err.code ?? err.message));
    }
  }
  console.log(line.join(' '));
  await new Promise((r) => setTimeout(r, 1000));
}
`;

beforeAll(async () => {
  const gateway = await cluster.createNetwork();
  const credentials = bootstrapPki(pki, [node], ['127.0.0.1', gateway]);
  file = credentials.file;
  admin = await cluster.startSecure(credentials, ['--bind', gateway]);
  const url = cluster.server!.url;
  await cluster.startAgent(node, { args: ['--kubeconfig', file(`node-${node}.kubeconfig`)] });
  // It aggregates view's rules and publishes the CA as kube-root-ca.crt (the pod's ca.crt).
  controllerManager = startComponent('controller-manager', ['--kubeconfig', file('controller-manager.kubeconfig'), '--server', url]);
  await waitFor('view aggregated', async () => ((await admin.get<{ rules?: unknown[] }>('clusterroles', 'view')).rules?.length ?? 0) > 0, 60_000);
  const ca = fs.readFileSync(file('ca.crt'), 'utf8');
  await waitFor('kube-root-ca.crt published', async () => (await admin.get<{ data?: Record<string, string> }>('configmaps', 'kube-root-ca.crt')).data?.['ca.crt'] === ca, 60_000);
  await admin.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lister', namespace: 'default' }, data: { 'list.mjs': script } });
  await admin.create(
    'pods',
    makePod(
      'lister',
      node,
      [
        {
          name: 'c',
          image: 'peapod/peapod:latest',
          imagePullPolicy: 'Never',
          command: ['sh', '-c', `node /w/script/list.mjs; ${cooperative()}`],
          // No service proxy runs here: the kubernetes service's cluster IP leads nowhere, so the
          // address client-node reads is the API server's own.
          env: [
            { name: 'KUBERNETES_SERVICE_HOST', value: gateway },
            { name: 'KUBERNETES_SERVICE_PORT', value: String(cluster.server!.port) },
          ],
          volumeMounts: [
            { name: 'modules', mountPath: '/w/node_modules', readOnly: true },
            { name: 'script', mountPath: '/w/script' },
          ],
        },
      ],
      { volumes: [{ name: 'modules', hostPath: { path: nodeModules } }, { name: 'script', configMap: { name: 'lister' } }] },
    ),
  );
  await waitFor('pod lister Running', async () => (await admin.get<Pod>('pods', 'lister')).status?.phase === 'Running', 90_000);
});

afterAll(async () => {
  await controllerManager?.kill('SIGKILL');
  await cluster.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function podLog(): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const stream = admin.logs('default', 'lister', { container: 'c' });
    stream.on('data', (c: Buffer) => (out += c.toString()));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
}

/** The last line the script printed, once it matches. */
async function lastLine(pattern: RegExp, what: string): Promise<string> {
  return waitFor(what, async () => {
    const line = (await podLog()).trim().split('\n').pop() ?? '';
    return pattern.test(line) ? line : undefined;
  }, 90_000, 1000);
}

test('403 until a RoleBinding grants view; then its namespace only; the token dies with the pod', async () => {
  expect(await lastLine(/^default=\d+ /, 'a first answer')).toBe('default=403 kube-system=403');
  await admin.create('rolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'default-view', namespace: 'default' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'default' }],
  });
  expect(await lastLine(/^default=ok/, 'a list allowed by the binding')).toMatch(/^default=ok:1 kube-system=403$/);

  const r = await cluster.exec(node, 'lister', 'c', ['cat', '/var/run/secrets/kubernetes.io/serviceaccount/token']);
  expect(r.code).toBe(0);
  const asPod = new Client({ server: cluster.server!.url, token: r.out, ca: fs.readFileSync(file('ca.crt')) });
  try {
    expect((await asPod.list('pods', { namespace: 'default' })).items).toHaveLength(1);
    await admin.delete('pods', 'lister', { namespace: 'default', gracePeriodSeconds: 0 });
    await waitFor('pod lister gone', async () => (await admin.get('pods', 'lister').then(() => false, (e: unknown) => e instanceof ApiError && e.code === 404)), 60_000);
    const err = await asPod.list('pods', { namespace: 'default' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(401);
  } finally {
    asPod.close();
  }
});
