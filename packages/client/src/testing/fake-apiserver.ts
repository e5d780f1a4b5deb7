// An in-memory stand-in for the API server, for tests of clients, informers and
// controllers: objects, one global resourceVersion, list, get, create, update, delete,
// and watch over chunked HTTP and WebSocket with history that can be compacted (→ 410).
// Tests drive it directly (set/remove/compact/closeWatches/stop/start) to stage failures.

import * as http from 'http';
import type { AddressInfo, Socket } from 'net';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { failureStatus, initialEventsEndAnnotation } from '@peapod/api';
import type { KubeObject, Status, WatchEventType } from '@peapod/api';

interface StoredEvent {
  rv: number;
  resource: string;
  type: WatchEventType;
  object: KubeObject;
}

interface Watcher {
  resource: string;
  namespace: string | undefined;
  send(line: string): void;
  end(): void;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

interface Route {
  resource: string;
  namespace?: string;
  name?: string;
}

function parseRoute(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  // Core resources under /api/v1, those of named groups under /apis/GROUP/VERSION.
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length >= 4) rest = parts.slice(3);
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 2) return undefined;
  return { resource: rest[0], namespace, name: rest[1] };
}

function storeKey(resource: string, namespace: string | undefined, name: string): string {
  return `${resource}|${namespace ?? ''}|${name}`;
}

export class FakeApiServer {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  private readonly objects = new Map<string, { resource: string; obj: KubeObject }>();
  private readonly history: StoredEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private server: http.Server | undefined;
  private rv = 0;
  private compactedRv = 0;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Listens on `port` (0: a free one; pass the old port to come back after stop()). */
  async start(port = this.port): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Goes down hard: the listener closes and every connection (watches included) is cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.watchers.clear();
    for (const ws of this.wss.clients) ws.terminate();
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // --- staging ---

  /** Creates or replaces an object, as a write through the API would. */
  set(resource: string, obj: KubeObject): KubeObject {
    const name = obj.metadata.name ?? '';
    const key = storeKey(resource, obj.metadata.namespace, name);
    const existed = this.objects.has(key);
    const stored: KubeObject = JSON.parse(JSON.stringify(obj)) as KubeObject;
    stored.metadata.resourceVersion = String(++this.rv);
    stored.metadata.uid = stored.metadata.uid ?? `uid-${name}-${this.rv}`;
    this.objects.set(key, { resource, obj: stored });
    this.record(resource, existed ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  }

  remove(resource: string, namespace: string | undefined, name: string): void {
    const key = storeKey(resource, namespace, name);
    const entry = this.objects.get(key);
    if (!entry) return;
    this.objects.delete(key);
    const final = JSON.parse(JSON.stringify(entry.obj)) as KubeObject;
    final.metadata.resourceVersion = String(++this.rv);
    this.record(resource, 'DELETED', final);
  }

  /** Forgets history: watches from a resourceVersion before now get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }

  /** Ends every watch stream normally, as a server does when timeoutSeconds runs out. */
  closeWatches(): void {
    for (const w of [...this.watchers]) w.end();
    this.watchers.clear();
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watcher. */
  bookmark(kind: string): void {
    const line = JSON.stringify({ type: 'BOOKMARK', object: { kind, apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } });
    for (const w of this.watchers) w.send(line);
  }

  /** Decides for each opening line of a watch whether it is sent or the stream ends there instead. */
  onWatchLine: (line: string) => 'send' | 'end' = () => 'send';

  /** The opening lines that go out before the stream ends early (onWatchLine), if it does. */
  private opening(lines: string[]): { lines: string[]; cut: boolean } {
    const at = lines.findIndex((l) => this.onWatchLine(l) === 'end');
    return at < 0 ? { lines, cut: false } : { lines: lines.slice(0, at), cut: true };
  }

  watcherCount(): number {
    return this.watchers.size;
  }

  // --- serving ---

  private record(resource: string, type: WatchEventType, object: KubeObject): void {
    const event: StoredEvent = { rv: this.rv, resource, type, object };
    this.history.push(event);
    const line = JSON.stringify({ type, object });
    for (const w of this.watchers) {
      if (w.resource === resource && this.inNamespace(object, w.namespace)) w.send(line);
    }
  }

  private inNamespace(obj: KubeObject, namespace: string | undefined): boolean {
    return namespace === undefined || obj.metadata.namespace === namespace;
  }

  private items(resource: string, namespace: string | undefined): KubeObject[] {
    const out: KubeObject[] = [];
    for (const e of this.objects.values()) {
      if (e.resource === resource && this.inNamespace(e.obj, namespace)) out.push(e.obj);
    }
    return out;
  }

  /**
   * The watch's opening lines: with sendInitialEvents, the current objects as ADDED and the
   * bookmark that ends them; else the history after its resourceVersion, or a 410 ERROR line
   * when that was compacted away.
   */
  private backlog(route: Route, params: URLSearchParams): { lines: string[]; gone: boolean } {
    if (params.get('sendInitialEvents') === 'true') {
      const lines = this.items(route.resource, route.namespace).map((object) => JSON.stringify({ type: 'ADDED', object }));
      const metadata = { resourceVersion: String(this.rv), annotations: { [initialEventsEndAnnotation]: 'true' } };
      lines.push(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Bookmark', apiVersion: 'v1', metadata } }));
      return { lines, gone: false };
    }
    const since = params.get('resourceVersion');
    if (since === null || since === '') return { lines: [], gone: false };
    const from = Number(since);
    if (from < this.compactedRv) {
      const status = failureStatus(410, `too old resource version: ${from} (${this.compactedRv})`, { reason: 'Expired' });
      return { lines: [JSON.stringify({ type: 'ERROR', object: status })], gone: true };
    }
    const lines = this.history
      .filter((e) => e.rv > from && e.resource === route.resource && this.inNamespace(e.object, route.namespace))
      .map((e) => JSON.stringify({ type: e.type, object: e.object }));
    return { lines, gone: false };
  }

  private upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    this.requests.push({ method: 'WATCH-WS', url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://x');
    const route = parseRoute(url.pathname);
    if (!route || url.searchParams.get('watch') !== 'true') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const backlog = this.backlog(route, url.searchParams);
      const { lines, cut } = this.opening(backlog.lines);
      for (const l of lines) ws.send(l);
      if (backlog.gone || cut) {
        ws.close(1000);
        return;
      }
      const watcher: Watcher = {
        resource: route.resource,
        namespace: route.namespace,
        send: (line) => ws.send(line),
        end: () => ws.close(1000),
      };
      this.watchers.add(watcher);
      ws.on('close', () => this.watchers.delete(watcher));
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        this.serve(req, res, body);
      } catch (err) {
        this.fail(res, failureStatus(500, (err as Error).message));
      }
    });
  }

  private send(res: http.ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private fail(res: http.ServerResponse, status: Status): void {
    this.send(res, status.code, status);
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const route = parseRoute(url.pathname);
    if (!route) {
      this.fail(res, failureStatus(404, 'the server could not find the requested resource'));
      return;
    }
    const method = req.method ?? 'GET';
    if (method === 'GET' && route.name === undefined && url.searchParams.get('watch') === 'true') {
      this.serveWatch(route, url, res);
      return;
    }
    if (method === 'GET' && route.name === undefined) {
      this.send(res, 200, {
        kind: 'List',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items: this.items(route.resource, route.namespace),
      });
      return;
    }
    if (method === 'POST' && route.name === undefined) {
      const obj = JSON.parse(body) as KubeObject;
      obj.metadata.namespace = obj.metadata.namespace ?? route.namespace;
      if (this.objects.has(storeKey(route.resource, obj.metadata.namespace, obj.metadata.name ?? ''))) {
        this.fail(res, failureStatus(409, `${route.resource} "${obj.metadata.name}" already exists`, { reason: 'AlreadyExists' }));
        return;
      }
      this.send(res, 201, this.set(route.resource, obj));
      return;
    }
    const name = route.name ?? '';
    const entry = this.objects.get(storeKey(route.resource, route.namespace, name));
    if (!entry) {
      this.fail(res, failureStatus(404, `${route.resource} "${name}" not found`, { name }));
      return;
    }
    if (method === 'GET') {
      this.send(res, 200, entry.obj);
    } else if (method === 'PUT') {
      const obj = JSON.parse(body) as KubeObject;
      if (obj.metadata.resourceVersion !== entry.obj.metadata.resourceVersion) {
        this.fail(res, failureStatus(409, `Operation cannot be fulfilled on ${route.resource} "${name}": the object has been modified`));
        return;
      }
      this.send(res, 200, this.set(route.resource, obj));
    } else if (method === 'DELETE') {
      this.remove(route.resource, route.namespace, name);
      this.send(res, 200, entry.obj);
    } else {
      this.fail(res, failureStatus(405, `${method} is not supported here`));
    }
  }

  private serveWatch(route: Route, url: URL, res: http.ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const backlog = this.backlog(route, url.searchParams);
    const { lines, cut } = this.opening(backlog.lines);
    for (const l of lines) res.write(l + '\n');
    if (backlog.gone || cut) {
      res.end();
      return;
    }
    const watcher: Watcher = {
      resource: route.resource,
      namespace: route.namespace,
      send: (line) => res.write(line + '\n'),
      end: () => res.end(),
    };
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '0');
    if (timeout > 0) {
      const timer = setTimeout(() => {
        this.watchers.delete(watcher);
        res.end();
      }, timeout * 1000);
      res.on('close', () => clearTimeout(timer));
    }
  }
}
