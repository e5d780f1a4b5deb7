import { execFile } from 'child_process';
import path from 'path';
import { promisify } from 'util';
import { removeDir, startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { call } from './testing/http';
import { testsOnEtcd } from './testing/storage';

jest.setTimeout(60_000);

let server: RunningApiServer;
beforeAll(async () => {
  server = await startApiServer();
});
afterAll(async () => {
  await server.kill();
  removeDir(server.dataDir);
});

test('@kubernetes/client-node: CoreV1Api create/list/read/patch/delete and Watch', async () => {
  const script = path.join(__dirname, 'testing', 'client-node-scenario.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [script, server.url], { timeout: 30_000 });
  const result = JSON.parse(stdout);
  expect(result.createdUid).toMatch(/^[0-9a-f-]{36}$/);
  expect(result.listed).toEqual(['cn']);
  expect(result.readPhase).toBe('Pending');
  expect(result.afterDelete).toBe(404);
  expect(result.events).toEqual([
    ['ADDED', 'cn'],
    ['MODIFIED', 'cn'],
    ['DELETED', 'cn'],
  ]);
});

test("@kubernetes/client-node with dryRun 'All' on every writing call: the would-be objects, nothing stored", async () => {
  await call(server.url, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'cn', labels: { app: 'cn' } }, spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } });
  await call(server.url, 'POST', '/api/v1/namespaces/default/replicationcontrollers', {
    metadata: { name: 'rc' },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'rc' } }, spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } } },
  });
  const script = path.join(__dirname, 'testing', 'client-node-dry-run.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [script, server.url], { timeout: 30_000 });
  expect(JSON.parse(stdout)).toEqual({
    answers: {
      create: ['dry', 'Always', null],
      replace: { app: 'other' },
      mergePatch: { app: 'cn', extra: 'yes' },
      jsonPatch: null,
      status: 'Running',
      binding: 'ok',
      scale: 9,
      deleteRc: 'ok',
      deletePod: 'cn',
      deleteCollection: 'ok',
      unknownDryRun: 400,
    },
    unchanged: true,
    dryPodExists: false,
  });
});

test('@kubernetes/client-node: lists in pages are one snapshot, an expired token is 410 with one that goes on, and a Watch can be a streaming list', async () => {
  expect((await call(server.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'pages' } })).status).toBe(201);
  for (let i = 0; i < 5; i++) {
    expect((await call(server.url, 'POST', '/api/v1/namespaces/pages/configmaps', { metadata: { name: `cm-${i}` }, data: { v: '1' } })).status).toBe(201);
  }
  const script = path.join(__dirname, 'testing', 'client-node-lists.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [script, server.url], { timeout: 30_000 });
  expect(JSON.parse(stdout)).toEqual({
    pages: [
      ['cm-0', 'cm-1'],
      ['cm-2', 'cm-3'],
      ['cm-4'],
    ],
    oneResourceVersion: true,
    elsewhere: testsOnEtcd() ? ['cm-2', 'cm-3', 'cm-4'] : 410,
    expired: [410, 'Expired'],
    rest: ['cm-1a', 'cm-2', 'cm-3@2', 'cm-4'],
    events: [
      ['ADDED', 'cm-0'],
      ['ADDED', 'cm-1'],
      ['ADDED', 'cm-1a'],
      ['ADDED', 'cm-2'],
      ['ADDED', 'cm-3'],
      ['ADDED', 'cm-4'],
      ['BOOKMARK', 'true'],
      ['DELETED', 'cm-0'],
    ],
  });
});
