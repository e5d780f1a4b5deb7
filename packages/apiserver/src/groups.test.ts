// Named API groups (/apis/{group}/{version}): discovery, CRUD, watch and OpenAPI, with the
// real kubectl and over plain HTTP, using coordination.k8s.io/v1 Leases.
import fs from 'fs';
import path from 'path';
import { Client } from '@peapod/client';
import { call } from './testing/http';
import { serverWithKubectl } from './testing/kubectl';
import { watchHttp, watchWs } from './testing/watch';

jest.setTimeout(120_000);

const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';

describe('named API groups', () => {
  const env = serverWithKubectl();

  test('discovery lists the group, its version and its resources', async () => {
    const groups = await call(env.server.url, 'GET', '/apis');
    const coordination = groups.body.groups.find((g: { name: string }) => g.name === 'coordination.k8s.io');
    expect(coordination.preferredVersion).toEqual({ groupVersion: 'coordination.k8s.io/v1', version: 'v1' });
    const list = await call(env.server.url, 'GET', '/apis/coordination.k8s.io/v1');
    expect(list.body.groupVersion).toBe('coordination.k8s.io/v1');
    expect(list.body.resources.map((r: { name: string }) => r.name)).toEqual(['leases']);
    const core = await call(env.server.url, 'GET', '/api/v1');
    expect(core.body.resources.map((r: { name: string }) => r.name)).not.toContain('leases');
    const api = env.kubectl.run(['api-resources', '--api-group=coordination.k8s.io']);
    expect(api.code).toBe(0);
    expect(api.stdout).toMatch(/leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease/);
  });

  test('create, get, list, update and delete a Lease with its group in apiVersion', async () => {
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40 } };
    const created = await call(env.server.url, 'POST', leasePath, lease);
    expect(created.status).toBe(201);
    expect(created.body.apiVersion).toBe('coordination.k8s.io/v1');
    const wrong = await call(env.server.url, 'POST', leasePath, { ...lease, apiVersion: 'v1', metadata: { name: 'n2' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toContain('expected API version (coordination.k8s.io/v1)');
    const list = await call(env.server.url, 'GET', leasePath);
    expect(list.body).toMatchObject({ kind: 'LeaseList', apiVersion: 'coordination.k8s.io/v1' });
    expect(list.body.items).toHaveLength(1);
    const renewed = await call(env.server.url, 'PATCH', `${leasePath}/n1`, { spec: { renewTime: '2026-01-01T00:00:00.000000Z' } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(renewed.status).toBe(200);
    expect(renewed.body.spec.renewTime).toBe('2026-01-01T00:00:00.000000Z');
    // The core group does not serve leases, nor does the group serve core resources.
    expect((await call(env.server.url, 'GET', '/api/v1/namespaces/kube-node-lease/leases')).status).toBe(404);
    expect((await call(env.server.url, 'GET', '/apis/coordination.k8s.io/v1/namespaces/default/pods')).status).toBe(404);
    expect((await call(env.server.url, 'GET', '/apis/coordination.k8s.io/v2/namespaces/default/leases')).status).toBe(404);
    expect((await call(env.server.url, 'DELETE', `${leasePath}/n1`)).status).toBe(200);
    expect((await call(env.server.url, 'GET', `${leasePath}/n1`)).status).toBe(404);
  });

  test('the client library addresses group resources and watches them', async () => {
    const client = new Client({ server: env.server.url });
    const rv = (await call(env.server.url, 'GET', leasePath)).body.metadata.resourceVersion;
    const http = await watchHttp(env.server.url, `${leasePath}?watch=true&resourceVersion=${rv}`);
    const ws = await watchWs(env.server.url, `${leasePath}?watch=true&resourceVersion=${rv}`);
    try {
      await client.create('leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'from-client', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'x' } });
      const got = await client.get('leases', 'from-client', { namespace: 'kube-node-lease' });
      expect(got.metadata.uid).toBeDefined();
      const list = await client.list('leases', { namespace: 'kube-node-lease' });
      expect(list.items.map((l) => l.metadata.name)).toContain('from-client');
      expect(list.items[0].apiVersion).toBe('coordination.k8s.io/v1');
      for (const w of [http, ws]) {
        await w.waitFor(1);
        expect(w.events[0]).toMatchObject({ type: 'ADDED', object: { apiVersion: 'coordination.k8s.io/v1', metadata: { name: 'from-client' } } });
      }
    } finally {
      http.close();
      ws.close();
      client.close();
    }
  });

  test('kubectl create, get (table), get -o yaml and delete', () => {
    const file = path.join(env.kubectl.home, 'lease.yaml');
    fs.writeFileSync(file, 'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: node-a\n  namespace: kube-node-lease\nspec:\n  holderIdentity: node-a\n  leaseDurationSeconds: 40\n');
    const created = env.kubectl.run(['create', '-f', file, '--validate=strict']);
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('lease.coordination.k8s.io/node-a created');
    const table = env.kubectl.run(['get', 'leases', '-n', 'kube-node-lease']);
    expect(table.stdout).toMatch(/^NAME\s+HOLDER\s+AGE\n/);
    expect(table.stdout).toMatch(/node-a\s+node-a\s+\d+s/);
    const yaml = env.kubectl.run(['get', 'lease.coordination.k8s.io/node-a', '-n', 'kube-node-lease', '-o', 'yaml']);
    expect(yaml.stdout).toContain('apiVersion: coordination.k8s.io/v1');
    const bad = env.kubectl.run(['create', '-f', '-', '--validate=strict'], 'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: bad\n  namespace: kube-node-lease\nspec:\n  holder: x\n');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown field "spec.holder"');
    expect(env.kubectl.run(['delete', 'lease', 'node-a', '-n', 'kube-node-lease']).stdout).toContain('deleted');
  });

  test('OpenAPI v3 has a document per group-version', async () => {
    const root = await call(env.server.url, 'GET', '/openapi/v3');
    const url = root.body.paths['apis/coordination.k8s.io/v1'].serverRelativeURL as string;
    const doc = await call(env.server.url, 'GET', url);
    expect(Object.keys(doc.body.paths)).toContain('/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases');
    expect((await call(env.server.url, 'GET', '/openapi/v3/apis/example.com/v1')).status).toBe(404);
  });
});
