// Small HTTP(S) servers on a free loopback port, for tests.

import * as http from 'http';
import * as https from 'https';
import type { AddressInfo, Socket } from 'net';

export interface TestServer {
  url: string;
  port: number;
  server: http.Server | https.Server;
  close(): Promise<void>;
}

async function listen(server: http.Server | https.Server, scheme: 'http' | 'https'): Promise<TestServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function serveHttp(handler: http.RequestListener): Promise<TestServer> {
  return listen(http.createServer(handler), 'http');
}

export function serveHttps(tls: { cert: string; key: string }, handler: http.RequestListener): Promise<TestServer> {
  return listen(https.createServer(tls, handler), 'https');
}

/** A loopback port that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const s = await serveHttp(() => undefined);
  await s.close();
  return s.port;
}

/** Reads a request body as text. */
export function readRequestBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** GETs a path from a loopback port on a connection of its own; resolves with the whole body. */
export function getBody(port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

export interface FrontServer {
  url: string;
  /** METHOD and URL of each request, in order. */
  hits: string[];
  kill(): Promise<void>;
  /** From now on, answers nothing and closes nothing, as a host that vanished from the network. */
  freeze(): void;
}

/** An HTTP server in front of `backend` (an API server in front of shared storage): forwards every request, records it, and can be killed as a process would be, its connections cut. */
export async function frontServer(backend: string): Promise<FrontServer> {
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  let frozen = false;
  const front = http.createServer((req, res) => {
    hits.push(`${req.method ?? ''} ${req.url ?? ''}`);
    if (frozen) return;
    const up = http.request(`${backend}${req.url ?? ''}`, { method: req.method, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  front.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const { url } = await listen(front, 'http');
  return {
    url,
    hits,
    kill: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        front.close(() => resolve());
      }),
    freeze: () => {
      frozen = true;
    },
  };
}
