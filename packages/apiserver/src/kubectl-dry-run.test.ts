// The real kubectl's server-side dry runs and diff leave every object as it was: the stored
// JSON is byte-identical afterwards and the revision has not moved (on etcd, which other test
// files share: no object was written).

import fs from 'fs';
import path from 'path';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { call } from './testing/http';
import { kubectlFor } from './testing/kubectl';

jest.setTimeout(120_000);

let server: RunningApiServer;
let kubectl: ReturnType<typeof kubectlFor>;

function manifest(name: string, image: string, extra = ''): string {
  const file = path.join(kubectl.home, `${name}-${image.replace(/\W/g, '')}.yaml`);
  fs.writeFileSync(
    file,
    `apiVersion: v1
kind: ReplicationController
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: main
        image: ${image}
        command: [sleep, "3600"]
${extra}`,
  );
  return file;
}

const watched = ['/api/v1/namespaces/default/replicationcontrollers/web', '/api/v1/namespaces/default/pods/solo'];

async function state(): Promise<{ objects: string[]; revision: string }> {
  const objects = await Promise.all(watched.map(async (p) => (await call(server.url, 'GET', p)).text));
  if (process.env.PEAPOD_TEST_STORAGE === 'etcd') {
    // On etcd the revision also moves with other keys' changes (other test files share the
    // etcd): every object of the kinds a dry run could touch, at its resourceVersion, instead.
    const held = await Promise.all(
      ['pods', 'replicationcontrollers', 'events', 'namespaces'].map(async (r) =>
        ((await call(server.url, 'GET', `/api/v1/${r}`)).body.items as { metadata: { namespace?: string; name: string; resourceVersion: string } }[]).map(
          (o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}@${o.metadata.resourceVersion}`,
        ),
      ),
    );
    return { objects, revision: JSON.stringify(held) };
  }
  const revision = (await call(server.url, 'GET', '/api/v1/pods')).body.metadata.resourceVersion;
  return { objects, revision };
}

beforeAll(async () => {
  // No lease renewals: the tests check that the revision does not move.
  server = await startApiServer({ args: ['--endpoint-reconciler-type', 'none'] });
  kubectl = kubectlFor(server.url);
  expect(kubectl.run(['apply', '-f', manifest('web', 'peapod/busybox:1')]).code).toBe(0);
  expect(kubectl.run(['run', 'solo', '--image=peapod/busybox', '--labels=app=solo', '--', 'sleep', '3600']).code).toBe(0);
});

afterAll(async () => {
  await server?.stop();
  kubectl?.cleanup();
});

test('kubectl diff -f, run twice: the same diff both times, nothing changed', async () => {
  const before = await state();
  const changed = manifest('web', 'peapod/busybox:2');
  const first = kubectl.run(['diff', '-f', changed]);
  const second = kubectl.run(['diff', '-f', changed]);
  expect(first.code).toBe(1);
  expect(first.stderr).toBe('');
  expect(first.stdout).toMatch(/^-\s+image: peapod\/busybox:1$/m);
  expect(first.stdout).toMatch(/^\+\s+image: peapod\/busybox:2$/m);
  // The would-be object is shown at the stored resourceVersion, with its generation bumped.
  expect(first.stdout).toMatch(/^-\s+generation: 1$/m);
  expect(first.stdout).toMatch(/^\+\s+generation: 2$/m);
  expect(first.stdout).not.toMatch(/^[-+]\s+resourceVersion:/m);
  // Only the headers differ (temporary file names and times).
  const body = (out: string) => out.replace(/^(---|\+\+\+|diff) .*$/gm, '');
  expect(body(second.stdout)).toBe(body(first.stdout));
  const same = kubectl.run(['diff', '-f', manifest('web', 'peapod/busybox:1')]);
  expect(same).toMatchObject({ code: 0, stdout: '' });
  const created = kubectl.run(['diff', '-f', manifest('fresh', 'peapod/busybox:1')]);
  expect(created.code).toBe(1);
  expect(created.stdout).toMatch(/^\+\s+name: fresh$/m);
  expect(await state()).toEqual(before);
  expect((await call(server.url, 'GET', '/api/v1/namespaces/default/replicationcontrollers/fresh')).status).toBe(404);
});

test.each([
  ['apply', ['apply', '-f', '@changed', '--dry-run=server'], 'replicationcontroller/web configured (server dry run)'],
  ['create', ['create', '-f', '@fresh', '--dry-run=server'], 'replicationcontroller/fresh created (server dry run)'],
  ['replace', ['replace', '-f', '@changed', '--dry-run=server'], 'replicationcontroller/web replaced (server dry run)'],
  // kubectl patch does not say "(server dry run)".
  ['patch (strategic)', ['patch', 'rc', 'web', '-p', '{"spec":{"replicas":5}}', '--dry-run=server'], 'replicationcontroller/web patched'],
  ['patch (merge)', ['patch', 'pod', 'solo', '--type=merge', '-p', '{"metadata":{"labels":{"x":"y"}}}', '--dry-run=server'], 'pod/solo patched'],
  ['patch (json)', ['patch', 'pod', 'solo', '--type=json', '-p', '[{"op":"remove","path":"/metadata/labels/app"}]', '--dry-run=server'], 'pod/solo patched'],
  ['label', ['label', 'pod', 'solo', 'tier=db', '--dry-run=server'], 'pod/solo labeled (server dry run)'],
  ['label removal', ['label', 'pod', 'solo', 'app-', '--dry-run=server'], 'pod/solo unlabeled (server dry run)'],
  ['annotate', ['annotate', 'rc', 'web', 'note=x', '--dry-run=server'], 'replicationcontroller/web annotated (server dry run)'],
  ['scale', ['scale', 'rc', 'web', '--replicas=7', '--dry-run=server'], 'replicationcontroller/web scaled (server dry run)'],
  ['delete (background)', ['delete', 'rc', 'web', '--dry-run=server'], 'replicationcontroller "web" deleted (server dry run)'],
  ['delete (foreground)', ['delete', 'rc', 'web', '--cascade=foreground', '--dry-run=server'], 'replicationcontroller "web" deleted (server dry run)'],
  ['delete (orphan)', ['delete', 'rc', 'web', '--cascade=orphan', '--dry-run=server'], 'replicationcontroller "web" deleted (server dry run)'],
  ['delete (forced)', ['delete', 'pod', 'solo', '--grace-period=0', '--force', '--dry-run=server'], 'pod "solo" force deleted (server dry run)'],
  ['delete by label', ['delete', 'pods', '-l', 'app=solo', '--dry-run=server'], 'pod "solo" deleted (server dry run)'],
])('kubectl %s --dry-run=server leaves everything as it was', async (_what, args, said) => {
  const files: Record<string, string> = { '@changed': manifest('web', 'peapod/busybox:3'), '@fresh': manifest('fresh', 'peapod/busybox:1') };
  const before = await state();
  const r = kubectl.run(args.map((a) => files[a] ?? a));
  // kubectl warns about forced deletion (its own warning, not the server's).
  expect({ code: r.code, stderr: r.stderr.replace(/^Warning: Immediate deletion .*\n/m, '') }).toEqual({ code: 0, stderr: '' });
  expect(await state()).toEqual(before);
  expect(r.stdout.trim().split('\n').at(-1)).toBe(said);
});

test('kubectl create --dry-run=server -o yaml shows the defaults the server would fill', () => {
  const r = kubectl.run(['create', '-f', manifest('fresh', 'peapod/busybox:1'), '--dry-run=server', '-o', 'yaml']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^\s+restartPolicy: Always$/m);
  expect(r.stdout).toMatch(/^\s+uid: [0-9a-f-]{36}$/m);
  expect(r.stdout).not.toMatch(/resourceVersion/);
});
