import fs from 'fs';
import path from 'path';
import { serverWithKubectl } from './testing/kubectl';
import { call } from './testing/http';

jest.setTimeout(120_000);

const env = serverWithKubectl();

function manifest(name: string, fields: { replicas?: number; labels: Record<string, string> }): string {
  const file = path.join(env.kubectl.home, `${name}-${Object.keys(fields.labels).join('-')}-${fields.replicas ?? 'none'}.yaml`);
  const lines = ['apiVersion: v1', 'kind: ReplicationController', 'metadata:', `  name: ${name}`, '  labels:', ...Object.entries(fields.labels).map(([k, v]) => `    ${k}: "${v}"`), 'spec:'];
  if (fields.replicas !== undefined) lines.push(`  replicas: ${fields.replicas}`);
  lines.push('  selector: {app: web}', '  template:', '    metadata: {labels: {app: web}}', '    spec:', '      containers: [{name: c, image: "peapod/busybox:latest"}]');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const get = async (name: string) => (await call(env.server.url, 'GET', `/api/v1/namespaces/default/replicationcontrollers/${name}`)).body;
const managers = (obj: any) => obj.metadata.managedFields.map((e: any) => `${e.manager}/${e.operation}`).sort();

test('apply --server-side by two field managers: the conflict as kubectl words it, --force-conflicts, then a field removed', async () => {
  const alice = env.kubectl.run(['apply', '--server-side', '--field-manager=alice', '-f', manifest('web', { replicas: 2, labels: { app: 'web', team: 'a' } })]);
  expect(alice.stderr).toBe('');
  expect(alice.stdout.trim()).toBe('replicationcontroller/web serverside-applied');

  const bobFile = manifest('web', { replicas: 5, labels: { app: 'web', owner: 'bob' } });
  const conflict = env.kubectl.run(['apply', '--server-side', '--field-manager=bob', '-f', bobFile]);
  expect(conflict.code).not.toBe(0);
  expect(conflict.stderr).toContain('error: Apply failed with 1 conflict: conflict with "alice": .spec.replicas');
  expect(conflict.stderr).toContain('--force-conflicts');
  expect((await get('web')).spec.replicas).toBe(2);

  const forced = env.kubectl.run(['apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', bobFile]);
  expect(forced.stdout.trim()).toBe('replicationcontroller/web serverside-applied');
  let rc = await get('web');
  expect(rc.spec.replicas).toBe(5);
  expect(rc.metadata.labels).toEqual({ app: 'web', team: 'a', owner: 'bob' });
  expect(managers(rc)).toEqual(['alice/Apply', 'bob/Apply']);

  // alice drops her team label (only hers: it goes) and replicas (bob's now: it stays)
  const dropped = env.kubectl.run(['apply', '--server-side', '--field-manager=alice', '-f', manifest('web', { labels: { app: 'web' } })]);
  expect(dropped.stderr).toBe('');
  rc = await get('web');
  expect(rc.metadata.labels).toEqual({ app: 'web', owner: 'bob' });
  expect(rc.spec.replicas).toBe(5);
});

test('apply --server-side --dry-run=server checks without storing', async () => {
  const r = env.kubectl.run(['apply', '--server-side', '--field-manager=carol', '--dry-run=server', '-f', manifest('dry', { replicas: 1, labels: { app: 'web' } })]);
  expect(r.stdout.trim()).toBe('replicationcontroller/dry serverside-applied (server dry run)');
  expect((await call(env.server.url, 'GET', '/api/v1/namespaces/default/replicationcontrollers/dry')).status).toBe(404);
});

test('client-side apply, then server-side apply: kubectl moves the fields to its apply manager, and a removed field goes', async () => {
  const file = manifest('csa', { replicas: 1, labels: { app: 'web', tier: 'front' } });
  expect(env.kubectl.run(['apply', '-f', file]).stdout.trim()).toBe('replicationcontroller/csa created');
  expect(managers(await get('csa'))).toEqual(['kubectl-client-side-apply/Update']);

  const upgraded = env.kubectl.run(['apply', '--server-side', '-f', file]);
  expect(upgraded.stderr).toBe('');
  expect(upgraded.stdout.trim()).toBe('replicationcontroller/csa serverside-applied');
  const rc = await get('csa');
  expect(managers(rc)).toEqual(['kubectl-last-applied/Apply', 'kubectl/Apply']);

  const removed = env.kubectl.run(['apply', '--server-side', '-f', manifest('csa', { replicas: 1, labels: { app: 'web' } })]);
  expect(removed.stderr).toBe('');
  expect((await get('csa')).metadata.labels).toEqual({ app: 'web' });
});

test('get -o yaml hides managedFields unless asked; kubectl create records its Update', async () => {
  const created = env.kubectl.run(['create', '-f', manifest('made', { replicas: 1, labels: { app: 'web' } })]);
  expect(created.stdout.trim()).toBe('replicationcontroller/made created');
  expect(managers(await get('made'))).toEqual(['kubectl-create/Update']);
  expect(env.kubectl.run(['get', 'rc', 'made', '-o', 'yaml']).stdout).not.toContain('managedFields');
  const shown = env.kubectl.run(['get', 'rc', 'made', '-o', 'yaml', '--show-managed-fields']).stdout;
  expect(shown).toContain('manager: kubectl-create');
  expect(shown).toContain('operation: Update');
});
