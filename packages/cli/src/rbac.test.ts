// peactl get and describe of roles, cluster roles and their bindings, beside the real kubectl
// on the same server.

import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { hasKubectl, kubectlFor, peactlFor } from './testing/process';

jest.setTimeout(60_000);

let server: RunningApiServer;
let run: ReturnType<typeof peactlFor>;
let kubectl: ReturnType<typeof kubectlFor>;
const withKubectl = hasKubectl() ? test : test.skip;

beforeAll(async () => {
  server = await startApiServer();
  run = peactlFor(server.url);
  kubectl = kubectlFor(server.url);
  for (const obj of [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pod-reader', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'], resourceNames: ['web'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'lease-and-logs' }, rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get'] }, { nonResourceURLs: ['/logs/*'], verbs: ['get'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'readers', namespace: 'default' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'bot', namespace: 'default' }] },
  ]) {
    expect(run(['create', '-f', '-'], { input: JSON.stringify(obj) }).code).toBe(0);
  }
});

afterAll(async () => {
  await server?.stop();
  kubectl?.cleanup();
});

test('get: kubectl\'s columns', () => {
  expect(run(['get', 'roles']).stdout).toMatch(/^NAME +CREATED AT\npod-reader +\S+Z\n$/);
  expect(run(['get', 'rolebindings', '-o', 'wide']).stdout).toMatch(/^NAME +ROLE +AGE +USERS +GROUPS +SERVICEACCOUNTS\nreaders +Role\/pod-reader +\S+ +alice +default\/bot\n$/);
  expect(run(['get', 'clusterrolebinding', 'cluster-admin']).stdout).toMatch(/^NAME +ROLE +AGE\ncluster-admin +ClusterRole\/cluster-admin +\S+\n$/);
});

withKubectl('describe: as kubectl describes them', () => {
  for (const args of [['role', 'pod-reader'], ['clusterrole', 'lease-and-logs'], ['rolebinding', 'readers'], ['clusterrolebinding', 'cluster-admin']]) {
    const ours = run(['describe', ...args]);
    expect(ours.stderr).toBe('');
    expect(ours.stdout.trimEnd()).toBe(kubectl.run(['describe', ...args]).stdout.trimEnd());
  }
});
