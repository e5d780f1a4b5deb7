import { execFile } from 'child_process';
import path from 'path';
import { promisify } from 'util';
import { removeDir, startApiServer } from '@peapod/client/dist/testing/processes';
import type { RunningApiServer } from '@peapod/client/dist/testing/processes';

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
