// A burst of new connections while the server's thread is busy (a cluster's agents opening
// connections as their requests pile up) must all wait in the listen queue. Past its end the
// kernel drops the handshake, and the client, which may believe itself connected, waits a
// second or more for a retransmission before its request is even read.
import fs from 'fs';
import http from 'http';
import net from 'net';
import { createApiServer } from './server';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
// More than Node's default queue (511); the kernel's own maximum bounds what any server gets.
const clients = Math.min(1000, Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8')));

test(`${clients} connections made while the server's thread is held are all accepted once it is free`, async () => {
  const api = createApiServer({ dataDir: ':memory:', logger: quiet });
  const port = await api.listen(0, '127.0.0.1');
  let accepted = 0;
  api.server.on('connection', () => accepted++);
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < clients; i++) sockets.push(net.connect(port, '127.0.0.1').on('error', () => undefined));
    // Node starts each connect on the next tick; then the thread is held while the kernel completes the handshakes.
    await new Promise((resolve) => process.nextTick(resolve));
    const heldUntil = Date.now() + 200;
    while (Date.now() < heldUntil);
    // One turn of the loop accepts the whole queue; a connection dropped from it comes back only
    // with the kernel's retransmission, a second later.
    const deadline = Date.now() + 500;
    while (accepted < clients && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(accepted).toBe(clients);
  } finally {
    for (const s of sockets) s.destroy();
    await api.close();
  }
});

test('a server accepting from copies of its socket stops at once, its clients still connected', async () => {
  const api = createApiServer({ dataDir: ':memory:', logger: quiet, listenerCopies: 3 });
  const port = await api.listen(0, '127.0.0.1');
  // Keep-alive connections, some of them accepted through the copies.
  const agent = new http.Agent({ keepAlive: true });
  try {
    const codes = await Promise.all(
      Array.from({ length: 8 }, () => new Promise<number>((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0))).on('error', reject))),
    );
    expect(codes).toEqual(Array(8).fill(200));
    const started = Date.now();
    await api.close();
    expect(Date.now() - started).toBeLessThan(2000);
    const refused = await new Promise<string>((resolve) => net.connect(port, '127.0.0.1').on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? '')).on('connect', () => resolve('connected')));
    expect(refused).toBe('ECONNREFUSED');
  } finally {
    agent.destroy();
    await api.close();
  }
});
