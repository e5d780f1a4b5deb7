import http from 'http';
import net from 'net';
import type { AddressInfo } from 'net';
import { listenOnCopies } from './listener-copies';

/** Connects `count` clients while the thread is held, then counts the connections server accepted in the first turn of the loop that accepted any. */
async function acceptedInOneTurn(server: http.Server, count: number): Promise<{ accepted: number; sockets: net.Socket[] }> {
  const { port } = server.address() as AddressInfo;
  // Turns of the loop, counted by an immediate each (they run once a turn, after its poll).
  let turn = 0;
  let counting = true;
  const tick = (): void => {
    turn++;
    if (counting) setImmediate(tick);
  };
  const turns: number[] = [];
  const seen = (): void => {
    turns.push(turn);
  };
  server.on('connection', seen);
  const sockets = Array.from({ length: count }, () => net.connect(port, '127.0.0.1').on('error', () => undefined));
  // Node starts each connect on the next tick; the kernel completes the handshakes while the thread is held.
  await new Promise((resolve) => process.nextTick(resolve));
  const heldUntil = Date.now() + 100;
  while (Date.now() < heldUntil);
  setImmediate(tick);
  const deadline = Date.now() + 2000;
  while (turns.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  counting = false;
  server.off('connection', seen);
  return { accepted: turns.filter((t) => t === turns[0]).length, sockets };
}

describe('listenOnCopies', () => {
  let server: http.Server;
  let copies: net.Server[] = [];
  let sockets: net.Socket[] = [];

  beforeEach(async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    for (const c of copies) c.close();
    await new Promise((resolve) => server.close(resolve));
    copies = [];
    sockets = [];
  });

  it('a lone listener accepts one connection a turn of the loop (libuv 1.45 and later)', async () => {
    const r = await acceptedInOneTurn(server, 8);
    sockets = r.sockets;
    expect(r.accepted).toBe(1);
  });

  it('with 15 copies of its socket, 16 connections are accepted in one turn, and served as the server own', async () => {
    copies = await listenOnCopies(server, 15, 511);
    expect(copies).toHaveLength(15);
    const r = await acceptedInOneTurn(server, 16);
    sockets = r.sockets;
    expect(r.accepted).toBe(16);
    // Requests on connections the copies accepted are answered by the server's listener.
    const { port } = server.address() as AddressInfo;
    const agent = new http.Agent({ keepAlive: false });
    const bodies = await Promise.all(
      Array.from(
        { length: 32 },
        () =>
          new Promise<string>((resolve, reject) => {
            http
              .get({ host: '127.0.0.1', port, agent }, (res) => {
                let body = '';
                res.setEncoding('utf8');
                res.on('data', (c: string) => (body += c));
                res.on('end', () => resolve(body));
              })
              .on('error', reject);
          }),
      ),
    );
    expect(bodies).toEqual(Array(32).fill('ok'));
  });

  it('closing the server and its copies stops the socket listening', async () => {
    copies = await listenOnCopies(server, 3, 511);
    const { port } = server.address() as AddressInfo;
    await Promise.all(copies.map((c) => new Promise((resolve) => c.close(resolve))));
    copies = [];
    await new Promise((resolve) => server.close(resolve));
    const refused = await new Promise<string>((resolve) => net.connect(port, '127.0.0.1').on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? '')).on('connect', () => resolve('connected')));
    expect(refused).toBe('ECONNREFUSED');
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
});
