// A burst of new connections while the server's thread is busy (a cluster's agents opening
// connections as their requests pile up) must all wait in the listen queue. Past its end the
// kernel drops the handshake, and the client, which may believe itself connected, waits a
// second or more for a retransmission before its request is even read.
import fs from 'fs';
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
