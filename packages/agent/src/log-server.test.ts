import type http from 'http';
import type { AddressInfo } from 'net';
import { Readable } from 'stream';
import { createLogger } from '@peapod/client';
import { createLogServer, listen } from './log-server';
import type { LogOptions, RuntimeContainer } from './runtime';

const container: RuntimeContainer = {
  id: 'c1',
  podNamespace: 'default',
  podName: 'web',
  podUid: 'uid-1',
  node: 'n1',
  containerName: 'app',
  isInfra: false,
  state: 'running',
  createdAt: '2026-01-01T00:00:00Z',
  restartCount: 0,
  image: 'busybox',
  imageId: 'sha256:1',
  oomKilled: false,
};

let server: http.Server;
let base: string;
const asked: LogOptions[] = [];
let allowed = true;

beforeAll(async () => {
  const app = createLogServer({
    runtime: {
      listPodContainers: async () => [container],
      logs: async (_id: string, options: LogOptions) => {
        asked.push(options);
        return Readable.from(['line 1\n', 'line 2\n']);
      },
    },
    uidOf: () => 'uid-1',
    log: createLogger('test', { level: 'error' }),
    callers: async (authorization) => allowed && authorization === 'Bearer apiserver',
  });
  server = await listen(app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function get(path: string): Promise<{ status: number; type: string | null; text: string }> {
  const r = await fetch(`${base}${path}`, { headers: { Authorization: 'Bearer apiserver' } });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

test("serves a container's log with the options asked for", async () => {
  const r = await get('/containerLogs/default/web/app?tailLines=5&timestamps=true');
  expect(r).toMatchObject({ status: 200, text: 'line 1\nline 2\n' });
  expect(asked.at(-1)).toEqual({ follow: false, timestamps: true, tailLines: 5 });
});

test.each([
  ['a malformed percent-encoding', '/containerLogs/%zz/web/app', 400, 'malformed percent-encoding in the path "/containerLogs/%zz/web/app"'],
  ['a bad tailLines', '/containerLogs/default/web/app?tailLines=x', 400, 'tailLines must be a non-negative integer'],
  ['an unknown container', '/containerLogs/default/web/nope', 404, 'container "nope" in pod "web" not found'],
  ['an unknown path', '/nope', 404, 'the server could not find the requested resource'],
])('%s is answered with a Status, never a stack trace', async (_what, path, code, message) => {
  const r = await get(path);
  expect(r.status).toBe(code);
  expect(r.type).toMatch(/^application\/json/);
  expect(JSON.parse(r.text)).toMatchObject({ kind: 'Status', status: 'Failure', code, message });
});

test('a caller the check refuses gets 401', async () => {
  allowed = false;
  try {
    const r = await get('/containerLogs/default/web/app');
    expect(r.status).toBe(401);
    expect(JSON.parse(r.text)).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
  } finally {
    allowed = true;
  }
});
