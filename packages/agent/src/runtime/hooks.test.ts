import http from 'http';
import type { AddressInfo } from 'net';
import type { Container } from '@peapod/api';
import { NO_HOOK_TIMEOUT_MS, runHandler, type HookContext } from './hooks';
import type { ExecResult } from './types';

let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/slow') {
      const timer = setTimeout(() => res.end('late'), 2000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    res.statusCode = req.url === '/ok' && req.headers['x-hook'] === 'yes' ? 200 : 500;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function ctx(exec?: (cmd: string[]) => ExecResult): HookContext {
  const container: Container = { name: 'c', image: 'i', ports: [{ name: 'http', containerPort: port }] };
  return {
    container,
    containerId: 'id',
    podIP: '127.0.0.1',
    exec: async (_id, cmd) => (exec ? exec(cmd) : { exitCode: 0, timedOut: false, output: '', durationMs: 0 }),
  };
}

describe('lifecycle handlers', () => {
  it('judges httpGet by status, resolving named ports and sending headers', async () => {
    const headers = [{ name: 'X-Hook', value: 'yes' }];
    expect(await runHandler({ httpGet: { port: 'http', path: '/ok', httpHeaders: headers } }, ctx(), 1000)).toMatchObject({ handler: 'httpGet', status: 'ok' });
    expect(await runHandler({ httpGet: { port, path: 'ok' } }, ctx(), 1000)).toMatchObject({ status: 'failed', message: expect.stringMatching(/HTTP 500/) });
    expect(await runHandler({ httpGet: { port: 'nope' } }, ctx(), 1000)).toMatchObject({ status: 'failed', message: expect.stringMatching(/not a named port/) });
    const slow = await runHandler({ httpGet: { port, path: '/slow' } }, ctx(), 200);
    expect(slow.status).toBe('timed-out');
    expect(slow.durationMs).toBeLessThan(1000);
  });

  it('reports exec exit codes and timeouts', async () => {
    const failing = await runHandler({ exec: { command: ['false'] } }, ctx(() => ({ exitCode: 1, timedOut: false, output: 'boom\n', durationMs: 1 })), 1000);
    expect(failing).toMatchObject({ handler: 'exec', status: 'failed', message: expect.stringMatching(/exited with 1: boom/) });
    const late = await runHandler({ exec: { command: ['sleep', '9'] } }, ctx(() => ({ exitCode: null, timedOut: true, output: '', durationMs: 1 })), 1000);
    expect(late.status).toBe('timed-out');
  });

  it('stops waiting for a hook when aborted (the pod is being deleted)', async () => {
    const deleted = new AbortController();
    const hanging: HookContext = { ...ctx(), exec: () => new Promise<ExecResult>(() => undefined) };
    const pending = runHandler({ exec: { command: ['sleep', '600'] } }, hanging, NO_HOOK_TIMEOUT_MS, deleted.signal);
    setTimeout(() => deleted.abort(), 50);
    const result = await pending;
    expect(result).toMatchObject({ handler: 'exec', status: 'aborted' });
    expect(result.durationMs).toBeLessThan(1000);
    expect((await runHandler({ sleep: { seconds: 1 } }, ctx(), 5000, deleted.signal)).status).toBe('aborted');
  });

  it('sleeps, bounded by the time left', async () => {
    expect(await runHandler({ sleep: { seconds: 0 } }, ctx(), 1000)).toMatchObject({ handler: 'sleep', status: 'ok' });
    const cut = await runHandler({ sleep: { seconds: 30 } }, ctx(), 100);
    expect(cut.status).toBe('timed-out');
    expect(cut.durationMs).toBeLessThan(1000);
    expect(await runHandler({}, ctx(), 100)).toMatchObject({ handler: 'invalid', status: 'failed' });
  });
});
