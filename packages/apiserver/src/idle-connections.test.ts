// Idle keep-alive connections are kept long (clients over HTTP/1.1 hold one per request in
// flight, and a pool that shrinks reopens them in a burst when the server is busiest), and
// TCP keep-alive probes watch them, so that those of vanished peers end.
import fs from 'fs';
import http from 'http';
import type net from 'net';
import { createApiServer, idleConnectionTimeoutMs } from './server';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** The kernel's timer on the server's end of a connection (/proc/net/tcp's `tr`: 2 is keep-alive). */
function serverSideTimer(serverPort: number, clientPort: number): number | undefined {
  const hex = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const [local, remote, , , timer] = fields.slice(1, 6);
    if (local.endsWith(`:${hex(serverPort)}`) && remote.endsWith(`:${hex(clientPort)}`)) return Number(timer.split(':')[0]);
  }
  return undefined;
}

test('an idle connection is kept 10 minutes, as the server tells its clients, and probed by TCP keep-alive', async () => {
  const api = createApiServer({ dataDir: ':memory:', logger: quiet, listenerCopies: 3 });
  const port = await api.listen(0, '127.0.0.1');
  const agent = new http.Agent({ keepAlive: true });
  try {
    // Several connections at once, so that some come through the socket's copies.
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        new Promise<{ res: http.IncomingMessage; socket: net.Socket }>((resolve, reject) =>
          http.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
            const socket = res.socket as net.Socket;
            res.resume().on('end', () => resolve({ res, socket }));
          }).on('error', reject),
        ),
      ),
    );
    expect(idleConnectionTimeoutMs).toBe(600_000);
    for (const { res, socket } of answers) {
      expect(res.headers['keep-alive']).toBe('timeout=600');
      expect(serverSideTimer(port, socket.localPort ?? 0)).toBe(2);
    }
  } finally {
    agent.destroy();
    await api.close();
  }
});
