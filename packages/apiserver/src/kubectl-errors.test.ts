// What the real kubectl makes of our errors: clear messages and exit codes, never a crash.

import fs from 'fs';
import path from 'path';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { call, podManifest } from './testing/http';
import { kubectlFor } from './testing/kubectl';

jest.setTimeout(120_000);

let server: RunningApiServer;
let kubectl: ReturnType<typeof kubectlFor>;

beforeAll(async () => {
  server = await startApiServer();
  kubectl = kubectlFor(server.url);
  expect(kubectl.run(['run', 'web', '--image=peapod/busybox', '--labels=app=web', '--', 'sleep', '3600']).code).toBe(0);
});

afterAll(async () => {
  await server?.stop();
  kubectl?.cleanup();
});

test('kubectl debug adds an ephemeral container through pods/ephemeralcontainers; a bad target is refused with the field', async () => {
  const r = kubectl.run(['debug', 'web', '--image=peapod/busybox', '--profile=general', '--container=dbg']);
  expect(r.code).toBe(0);
  expect(r.stderr).not.toMatch(/panic|goroutine/);
  const pod = await call(server.url, 'GET', '/api/v1/namespaces/default/pods/web');
  expect(pod.body.spec.ephemeralContainers).toEqual([expect.objectContaining({ name: 'dbg', image: 'peapod/busybox' })]);
  const bad = kubectl.run(['debug', 'web', '--image=peapod/busybox', '--profile=general', '--container=dbg2', '--target=nope']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('spec.ephemeralContainers[1].targetContainerName: Not found: "nope"');
});

test('kubectl label x- and annotate x- remove the last one without leaving an empty map', async () => {
  expect(kubectl.run(['annotate', 'pod', 'web', 'note=x']).code).toBe(0);
  expect(kubectl.run(['label', 'pod', 'web', 'app-']).stdout).toBe('pod/web unlabeled\n');
  expect(kubectl.run(['annotate', 'pod', 'web', 'note-']).stdout).toBe('pod/web annotated\n');
  const meta = (await call(server.url, 'GET', '/api/v1/namespaces/default/pods/web')).body.metadata;
  expect(meta).not.toHaveProperty('labels');
  expect(meta).not.toHaveProperty('annotations');
});

test('kubectl get in a namespace that does not exist', async () => {
  // The server answers pods "x" not found; kubectl then asks for the namespace and names it, as it does with Kubernetes.
  expect((await call(server.url, 'GET', '/api/v1/namespaces/nowhere/pods/x')).body.message).toBe('pods "x" not found');
  expect(kubectl.run(['get', 'pod', 'x', '-n', 'nowhere'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): namespaces "nowhere" not found\n' });
  expect(kubectl.run(['get', 'pod', 'x'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "x" not found\n' });
});

test('kubectl create in a Terminating namespace: Forbidden, with the reason', async () => {
  expect((await call(server.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'going' } })).status).toBe(201);
  // A finalizer nobody removes keeps the namespace Terminating.
  await call(server.url, 'POST', '/api/v1/namespaces/going/pods', podManifest('held', { metadata: { name: 'held', finalizers: ['example.com/hold'] } }));
  expect(kubectl.run(['delete', 'namespace', 'going', '--wait=false']).code).toBe(0);
  const file = path.join(kubectl.home, 'p.yaml');
  fs.writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: peapod/busybox}]\n');
  const r = kubectl.run(['create', '-n', 'going', '-f', file]);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    `Error from server (Forbidden): error when creating "${file}": pods "p" is forbidden: unable to create new content in namespace going because it is being terminated\n`,
  );
  await call(server.url, 'PATCH', '/api/v1/namespaces/going/pods/held', { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
});

test('kubectl patch --type=json whose test fails: invalid, nothing changed', async () => {
  const before = (await call(server.url, 'GET', '/api/v1/namespaces/default/pods/web')).text;
  const r = kubectl.run(['patch', 'pod', 'web', '--type=json', '-p', '[{"op":"test","path":"/spec/nodeName","value":"elsewhere"}]']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^The request is invalid: .*test operation failed/);
  expect((await call(server.url, 'GET', '/api/v1/namespaces/default/pods/web')).text).toBe(before);
});
