import http from 'http';
import net from 'net';
import type { AddressInfo } from 'net';
import type { Container } from '@peapod/api';
import type { ExecResult } from '../../runtime';
import type { ProbeTarget } from '../types';
import { runProbe } from './index';

let server: http.Server;
let port: number;
let closedPort: number;
const seenHeaders: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seenHeaders.push(req.headers);
    if (req.url === '/slow') {
      const timer = setTimeout(() => res.end('late'), 3000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    res.statusCode = req.url === '/healthz' ? 200 : req.url === '/moved' ? 302 : 500;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  // A port nothing listens on: bind one, note it, close it.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function target(exec?: (cmd: string[], timeoutMs: number) => ExecResult): ProbeTarget {
  const container: Container = { name: 'app', image: 'i', ports: [{ name: 'http', containerPort: port }] };
  return {
    container,
    containerId: 'cid',
    podIP: '127.0.0.1',
    exec: async (_id, cmd, timeoutMs) => (exec ? exec(cmd, timeoutMs) : { exitCode: 0, timedOut: false, output: '', durationMs: 0 }),
  };
}

describe('probe handlers', () => {
  it('httpGet: 2xx and 3xx pass, others fail with the status, on the pod IP and named ports, with kube-probe headers', async () => {
    expect(await runProbe({ httpGet: { port: 'http', path: '/healthz', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } }, target())).toEqual({
      result: 'success',
      output: '',
    });
    expect(seenHeaders.at(-1)).toMatchObject({ 'user-agent': 'kube-probe/1.32', accept: '*/*', 'x-probe': 'yes' });
    expect((await runProbe({ httpGet: { port, path: '/moved' } }, target())).result).toBe('success');
    expect(await runProbe({ httpGet: { port, path: '/broken' } }, target())).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
  });

  it('httpGet: refused and late answers fail with what the kubelet would say', async () => {
    expect(await runProbe({ httpGet: { port: closedPort, path: '/' } }, target())).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${closedPort}/": dial tcp 127.0.0.1:${closedPort}: connect: connection refused`,
    });
    const started = Date.now();
    const late = await runProbe({ httpGet: { port, path: '/slow' }, timeoutSeconds: 1 }, target());
    expect(late.result).toBe('failure');
    expect(late.output).toMatch(/context deadline exceeded/);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('tcpSocket: an open port passes, a closed one fails', async () => {
    expect(await runProbe({ tcpSocket: { port: 'http' } }, target())).toEqual({ result: 'success', output: '' });
    expect(await runProbe({ tcpSocket: { port: closedPort } }, target())).toEqual({
      result: 'failure',
      output: `dial tcp 127.0.0.1:${closedPort}: connect: connection refused`,
    });
  });

  it('exec: exit 0 passes; other codes fail with the output; a timeout fails; the probe timeout is passed on', async () => {
    const timeouts: number[] = [];
    const ok = target((_cmd, t) => {
      timeouts.push(t);
      return { exitCode: 0, timedOut: false, output: '', durationMs: 1 };
    });
    expect(await runProbe({ exec: { command: ['true'] }, timeoutSeconds: 3 }, ok)).toEqual({ result: 'success', output: '' });
    expect(timeouts).toEqual([3000]);
    const failing = target(() => ({ exitCode: 1, timedOut: false, output: 'not yet\n', durationMs: 1 }));
    expect(await runProbe({ exec: { command: ['test', '-f', '/tmp/ready'] } }, failing)).toEqual({ result: 'failure', output: 'not yet\n' });
    const late = target(() => ({ exitCode: null, timedOut: true, output: '', durationMs: 1 }));
    expect(await runProbe({ exec: { command: ['sleep', '9'] } }, late)).toEqual({ result: 'failure', output: 'command "sleep 9" timed out' });
  });

  it('a probe that cannot run (unknown port, runtime error, no handler) errors rather than fails', async () => {
    expect(await runProbe({ httpGet: { port: 'nope' } }, target())).toEqual({ result: 'error', output: 'port "nope" is not a named port of container "app"' });
    const broken = target(() => {
      throw new Error('container is not running');
    });
    expect(await runProbe({ exec: { command: ['true'] } }, broken)).toEqual({ result: 'error', output: 'container is not running' });
    expect((await runProbe({}, target())).result).toBe('error');
  });
});
