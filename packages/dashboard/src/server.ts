// The dashboard's local server: it serves the built page and proxies the page's API
// requests (and its watches, as WebSockets) to the API server with the user's credentials.
//
// Invariants a reader must keep:
// - The credentials live in the Client of this process. Nothing sent to the browser carries
//   them: the proxy sends only the status, Content-Type, Warning and the body back.
// - Every request needs the per-run token: the printed URL carries it once (?token=...),
//   the server trades it for an HttpOnly, SameSite=Strict cookie and redirects to a URL
//   without it, so the token is never in the page, its script or its history.
// - Only this origin may talk to it: the Host header must name this server (no DNS
//   rebinding), a request with an Origin must come from this origin, no CORS headers are
//   ever sent, and the proxy forwards only what proxy-policy.ts allows (never secrets).

import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { randomBytes, timingSafeEqual } from 'crypto';
import { StringDecoder } from 'string_decoder';
import type WebSocket from 'ws';
import { failureStatus, requestUrl } from '@peapod/api';
import type { Status } from '@peapod/api';
import { ApiError, createLogger } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { refusal } from './proxy-policy';

export interface DashboardOptions {
  /** Talks to the API server; its credentials never leave this process. */
  client: Client;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  address?: string;
  /** The per-run token; random by default (tests pass their own). */
  token?: string;
  log?: Logger;
  /** Where the built page is; default this package's dist/public. */
  assetsDir?: string;
}

export interface RunningDashboard {
  /** The link to open: the origin with the token. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

const maxBodyBytes = 3 << 20;
/** A browser that stops reading its watch is cut off (it rewatches from its last resourceVersion). */
const maxWatchBacklogBytes = 16 << 20;
// src/ (under ts-jest) and dist/ sit at the same depth: both find the built page.
const defaultAssetsDir = path.resolve(__dirname, '../dist/public');

interface Asset {
  body: Buffer;
  type: string;
}

const assetTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function loadAssets(dir: string): Map<string, Asset> {
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    throw new Error(`the dashboard's page is not built (no ${path.join(dir, 'index.html')}): run npm run build`);
  }
  const assets = new Map<string, Asset>();
  for (const file of fs.readdirSync(dir)) {
    const type = assetTypes[path.extname(file)];
    if (type !== undefined) assets.set(`/${file}`, { body: fs.readFileSync(path.join(dir, file)), type });
  }
  return assets;
}

const securityHeaders: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sendStatus(res: http.ServerResponse, status: Status): void {
  res.writeHead(status.code ?? 500, { ...securityHeaders, 'Content-Type': 'application/json' });
  res.end(JSON.stringify(status));
}

function isApiPath(p: string): boolean {
  return p === '/version' || p === '/api' || p.startsWith('/api/') || p === '/apis' || p.startsWith('/apis/');
}

function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBodyBytes) {
        reject(new ApiError(failureStatus(413, `request body over ${maxBodyBytes} bytes`)));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(size > 0 ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

/** The Status to show for a failure to reach the API server, or anything else unexpected. */
function statusOf(err: unknown): Status {
  if (err instanceof ApiError) return err.status;
  return failureStatus(503, err instanceof Error ? err.message : String(err), { reason: 'ServiceUnavailable' });
}

export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const client = opts.client;
  const address = opts.address ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const log = opts.log ?? createLogger('dashboard');
  const assets = loadAssets(opts.assetsDir ?? defaultAssetsDir);
  let port = 0;
  // Cookies are not kept apart by port: the name is, so two dashboards on one host never mix.
  const cookieName = (): string => `peapod-dashboard-${port}`;
  const hostName = address.includes(':') ? `[${address}]` : address;
  const origins = (): Set<string> => {
    const names = new Set([hostName]);
    if (address === '127.0.0.1' || address === '::1') names.add('localhost');
    return new Set([...names].map((n) => `${n}:${port}`));
  };

  /** Why a request may not go further (401/403), or undefined when it may. */
  const guard = (req: http.IncomingMessage, url: URL): Status | undefined => {
    const allowed = origins();
    if (!allowed.has(req.headers.host ?? '')) return failureStatus(403, `the dashboard answers only to ${[...allowed].join(' or ')}`, { reason: 'Forbidden' });
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(origin.replace(/^http:\/\//, ''))) {
      return failureStatus(403, 'requests from other origins are refused', { reason: 'Forbidden' });
    }
    if (sameToken(cookieValue(req.headers.cookie, cookieName()), token)) return undefined;
    if (url.pathname === '/' && sameToken(url.searchParams.get('token') ?? undefined, token)) return undefined;
    return failureStatus(401, 'open the link that peactl dashboard printed: it carries this run\'s token', { reason: 'Unauthorized' });
  };

  const proxy = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const refused = refusal({ method: req.method ?? 'GET', path: url.pathname, watch: url.searchParams.get('watch') === 'true' });
    if (refused) return sendStatus(res, refused);
    const body = await readBody(req);
    const headers: Record<string, string> = { Accept: req.headers.accept ?? 'application/json' };
    const contentType = req.headers['content-type'];
    if (contentType !== undefined) headers['Content-Type'] = contentType;
    const abort = new AbortController();
    // The page went away mid-response (a log it stopped following): stop reading upstream too.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const upstream = await client.forward(req.method ?? 'GET', url.pathname + url.search, { body, headers, signal: abort.signal });
    const out: Record<string, string | string[]> = { ...securityHeaders };
    if (upstream.headers['content-type'] !== undefined) out['Content-Type'] = upstream.headers['content-type'];
    if (upstream.headers.warning !== undefined) out.Warning = upstream.headers.warning;
    res.writeHead(upstream.statusCode ?? 502, out);
    upstream.on('error', () => res.destroy());
    upstream.pipe(res);
  };

  const server = http.createServer((req, res) => {
    const url = requestUrl(req.url);
    const denied = guard(req, url);
    if (denied) {
      log.info('refused', { method: req.method, path: url.pathname, code: denied.code });
      if (isApiPath(url.pathname)) return sendStatus(res, denied);
      res.writeHead(denied.code ?? 403, { ...securityHeaders, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${denied.message}\n`);
      return;
    }
    if (url.searchParams.has('token')) {
      // Trade the token in the link for a cookie the page's script cannot read, and drop it from the address bar.
      res.writeHead(303, {
        ...securityHeaders,
        'Set-Cookie': `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: '/',
      });
      res.end();
      return;
    }
    if (isApiPath(url.pathname)) {
      proxy(req, res, url).catch((err: unknown) => {
        if (res.headersSent) res.destroy();
        else sendStatus(res, statusOf(err));
      });
      return;
    }
    const asset = assets.get(url.pathname === '/' ? '/index.html' : url.pathname);
    if (asset === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { ...securityHeaders, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { ...securityHeaders, 'Content-Type': asset.type, 'Content-Length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 0;

  const sockets = new Set<WebSocket>();
  // Loaded here and not at the top: a peactl command other than dashboard never pays for ws.
  const { WebSocketServer } = require('ws') as typeof import('ws');
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 16 });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const url = requestUrl(req.url);
    const denied =
      guard(req, url) ??
      (url.searchParams.get('watch') === 'true' ? undefined : failureStatus(400, 'only watches are served over WebSockets', { reason: 'BadRequest' })) ??
      refusal({ method: 'GET', path: url.pathname, watch: true });
    if (denied) {
      socket.end(`HTTP/1.1 ${denied.code} ${http.STATUS_CODES[denied.code ?? 403]}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(denied)}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      bridgeWatch(client, url.pathname + url.search, ws, log);
      ws.on('close', () => sockets.delete(ws));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, address, () => resolve());
  });
  port = (server.address() as net.AddressInfo).port;
  const origin = `http://${hostName}:${port}`;
  log.info('listening', { address: origin });
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * One watch: the API server's chunked stream, one event per WebSocket message to the page.
 * A refusal (404 for a resource this cluster does not serve, 403, 410) reaches the page as
 * an ERROR event carrying the Status, as the API server's own WebSocket watch sends it.
 */
function bridgeWatch(client: Client, pathAndQuery: string, ws: WebSocket, log: Logger): void {
  const abort = new AbortController();
  const sendError = (status: Status): void => {
    ws.send(JSON.stringify({ type: 'ERROR', object: status }));
    ws.close(1000);
  };
  ws.on('close', () => abort.abort());
  ws.on('error', () => abort.abort());
  client.forward('GET', pathAndQuery, { signal: abort.signal }).then(
    async (res) => {
      if ((res.statusCode ?? 0) >= 400) {
        sendError((await client.errorFrom(res)).status);
        return;
      }
      const decoder = new StringDecoder('utf8');
      let pending = '';
      res.on('data', (chunk: Buffer) => {
        pending += decoder.write(chunk);
        let nl = pending.indexOf('\n');
        while (nl >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line !== '') ws.send(line);
          nl = pending.indexOf('\n');
        }
        if (ws.bufferedAmount > maxWatchBacklogBytes) {
          log.warn('a page stopped reading its watch; cutting it off', { path: pathAndQuery });
          ws.terminate();
        }
      });
      res.on('end', () => ws.close(1000));
      res.on('error', () => ws.close(1011));
    },
    (err: unknown) => {
      if (!abort.signal.aborted) sendError(statusOf(err));
    },
  );
}
