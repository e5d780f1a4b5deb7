import * as http from 'http';
import * as https from 'https';
import { randomInt } from 'crypto';
import { PassThrough, Readable } from 'stream';
import type WebSocket from 'ws';
import type { Dispatcher, Pool } from 'undici';
import { apiPrefix, findResource, microTime, rfc3339 } from '@peapod/api';
import type { Binding, DeleteOptions, Event, KubeObject, List, ListMeta, Status, TokenRequest } from '@peapod/api';
import type { Duplex } from 'stream';
import { ApiError, ConnectionError, isGone } from './errors';
import { isServerFailure, neverReachedServer, parseServerList, safeToRepeat, ServerRing } from './failover';
import { startWatch } from './watch';
import { portForward, remoteCommand } from './pod-streams';
import { RequestSlots } from './request-slots';
import { ConnectionHandover } from './connection-handover';
import { TokenBucket } from './token-bucket';
import type { RemoteCommandOptions } from './pod-streams';
import type { Watch, WatchEventHandler, WatchOptions } from './watch';

export { ApiError, ConnectionError } from './errors';

export interface ClientOptions {
  /**
   * Base URL of the API server, e.g. https://127.0.0.1:6443 (a path prefix is kept). Several
   * servers of one cluster, comma-separated: the client stays with the one that answers and
   * moves to the next when it cannot (failover.ts says which requests move).
   */
  server: string;
  /** Bearer token sent on every request. */
  token?: string;
  /** PEM CA bundle that signs the server's certificate. */
  ca?: string | Buffer;
  /** PEM client certificate and key, for client-certificate authentication. */
  cert?: string | Buffer;
  key?: string | Buffer;
  insecureSkipTLSVerify?: boolean;
  userAgent?: string;
  /** Deadline for one ordinary request, and for the response headers of a stream. Default 60 s; 0 disables. */
  timeoutMs?: number;
  /** Called with the text of each `Warning` response header (e.g. deprecations, Warn field validation). */
  onWarning?: (message: string) => void;
  /** Connections to each server at once (watches included); more requests wait for one. Default: no limit. */
  maxSockets?: number;
  /**
   * Requests per second once `burst` are spent (client-go's QPS and Burst, a component's
   * --kube-api-qps and --kube-api-burst): more wait their turn, so that a controller's burst
   * of writes does not take the API server from everyone else. Default: no limit.
   */
  qps?: number;
  /** Requests sent at once before `qps` applies; default: qps (at least 1). */
  burst?: number;
  /**
   * What carries ordinary requests (not watches, logs, streams): 'pool' (the default), undici's
   * connection pool, which spends about 20 µs less CPU a request than Node's http client; or
   * 'http', Node's, for a short-lived process such as one CLI command, which would spend more
   * on loading undici (about 60 ms) than it saves.
   */
  requestTransport?: 'pool' | 'http';
}

export interface ListOptions {
  /** Omitted: all namespaces (for a list) or 'default' (for a single object). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface PathOptions {
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface CreateOptions {
  namespace?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  dryRun?: boolean;
}

export interface UpdateOptions {
  namespace?: string;
  subresource?: string;
}

export type PatchType = 'merge' | 'json' | 'strategic';

export interface ApplyOptions {
  namespace?: string;
  /** who owns the applied fields */
  fieldManager: string;
  /** take fields other managers own instead of failing with a conflict */
  force?: boolean;
  dryRun?: boolean;
}

export interface DeleteRequestOptions {
  namespace?: string;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
}

export interface LogOptions {
  container?: string;
  follow?: boolean;
  tailLines?: number;
  timestamps?: boolean;
  previous?: boolean;
}

export interface RawResponse<T> {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON when the server sent JSON, the text otherwise. */
  body: T;
}

export type QueryValue = string | number | boolean | undefined;
export type Query = Record<string, QueryValue>;

interface ExchangeOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
}

interface OpenOptions extends ExchangeOptions {
  signal?: AbortSignal;
  /** Deadline for the whole exchange (true) or only until the response headers (false). */
  wholeExchange: boolean;
}

/** A whole request and response, the body read as text. */
interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

const defaultTimeoutMs = 60_000;
/** Objects per page of `listAll`, kubectl's default --chunk-size. */
export const defaultChunkSize = 500;
/** undici's own connect timeout. */
const undiciConnectTimeoutMs = 10_000;
/** client-go's limit on sending a request again as a server's Retry-After asks. */
export const maxRetryAfterRetries = 10;

/**
 * The seconds a server asked to wait before the request is sent again: a 429 or 5xx with a
 * Retry-After of whole seconds (as client-go reads it); undefined for any other answer.
 */
export function retryAfterSeconds(status: number, header: string | string[] | undefined): number | undefined {
  if (status !== 429 && status < 500) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/** One API server: its normalized URL and its pool of connections. */
interface Endpoint {
  server: string;
  https: boolean;
  /** scheme, host and port; and the path prefix, which every request's path starts with */
  origin: string;
  pathPrefix: string;
  agent: http.Agent;
  /** made at the first ordinary request with requestTransport 'pool' */
  pooled?: Pooled;
  /** with maxSockets: the requests in flight to this server, and those waiting for one to end */
  slots?: RequestSlots;
}

/** An endpoint's undici pool, and what hands its connections on between requests. */
interface Pooled {
  pool: Pool;
  handover: ConnectionHandover;
}

/** A Kubernetes core/v1 REST client. */
export class Client {
  /** Every API server this client may use, as normalized URLs. */
  readonly servers: readonly string[];
  private readonly ring: ServerRing<Endpoint>;
  private readonly opts: ClientOptions;
  private readonly limiter: TokenBucket | undefined;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    if (opts.qps !== undefined && opts.qps > 0) this.limiter = new TokenBucket(opts.qps, Math.max(1, opts.burst ?? Math.ceil(opts.qps)));
    const urls = parseServerList(opts.server);
    if (urls.length === 0) throw new Error('server URL must not be empty');
    this.ring = new ServerRing(urls.map((u) => this.endpoint(u)));
    this.servers = this.ring.members.map((e) => e.server);
  }

  /** The API server in use: the one that last answered. */
  get server(): string {
    return this.ring.active.server;
  }

  /** Releases pooled connections; the client must not be used afterwards. */
  close(): void {
    for (const e of this.ring.members) {
      e.agent.destroy();
      void e.pooled?.pool.destroy();
    }
  }

  /** A watch's stream or WebSocket to `server` failed outside a request's answer: the next request tries another server. */
  serverUnreachable(server: string): void {
    const index = this.servers.indexOf(server);
    if (index >= 0) this.ring.failed(index);
  }

  private endpoint(url: string): Endpoint {
    let base: URL;
    try {
      base = new URL(url);
    } catch {
      throw new Error(`couldn't parse server address ${JSON.stringify(url)}: not a URL (http://HOST:PORT or https://HOST:PORT)`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`server URL must start with http:// or https://, got ${url}`);
    }
    const pathPrefix = base.pathname.replace(/\/+$/, '');
    const server = `${base.origin}${pathPrefix}`;
    const secure = base.protocol === 'https:';
    const agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: this.opts.maxSockets, ...this.tlsOptions() })
      : new http.Agent({ keepAlive: true, maxSockets: this.opts.maxSockets });
    const slots = this.opts.maxSockets === undefined ? undefined : new RequestSlots(this.opts.maxSockets);
    return { server, https: secure, origin: base.origin, pathPrefix, agent, slots };
  }

  // --- paths ---

  /** The URL path of a collection, an object, or an object's subresource. */
  path(resource: string, opts: PathOptions = {}): string {
    const info = findResource(resource);
    const plural = info?.name ?? resource;
    const namespaced = info?.namespaced ?? true;
    let p = info ? apiPrefix(info) : '/api/v1';
    if (namespaced && opts.namespace !== undefined && opts.namespace !== '') {
      p += `/namespaces/${encodeURIComponent(opts.namespace)}`;
    }
    p += `/${plural}`;
    if (opts.name !== undefined) {
      p += `/${encodeURIComponent(opts.name)}`;
      if (opts.subresource !== undefined) p += `/${opts.subresource}`;
    } else if (opts.subresource !== undefined) {
      throw new Error(`subresource ${opts.subresource} needs an object name`);
    }
    return p;
  }

  /** The namespace to address a single object in: namespaced resources default to 'default'. */
  private objectNamespace(resource: string, namespace: string | undefined): string | undefined {
    const namespaced = findResource(resource)?.namespaced ?? true;
    if (!namespaced) return undefined;
    return namespace !== undefined && namespace !== '' ? namespace : 'default';
  }

  // --- verbs ---

  async get<T extends KubeObject = KubeObject>(resource: string, name: string, opts: { namespace?: string } = {}): Promise<T> {
    const namespace = this.objectNamespace(resource, opts.namespace);
    return this.send<T>('GET', this.path(resource, { namespace, name }));
  }

  async list<T extends KubeObject = KubeObject>(resource: string, opts: ListOptions = {}): Promise<List<T>> {
    const list = await this.send<List<T>>('GET', this.path(resource, { namespace: opts.namespace }), {
      query: listQuery(opts),
    });
    if (!Array.isArray(list.items)) list.items = [];
    // List items arrive without kind/apiVersion; filling them in lets callers treat a listed
    // object like a watched one (events about it need its kind, for instance).
    const itemKind = typeof list.kind === 'string' && list.kind.endsWith('List') ? list.kind.slice(0, -4) : undefined;
    const kind = itemKind ?? findResource(resource)?.kind;
    for (const item of list.items) {
      if (item.kind === undefined && kind !== undefined) item.kind = kind;
      if (item.apiVersion === undefined) item.apiVersion = list.apiVersion ?? 'v1';
    }
    return list;
  }

  /**
   * Every object of a list, asked for `chunkSize` at a time with limit and continue (kubectl's
   * --chunk-size, 500 by default): a big cluster's pods in one answer can be too long to read
   * as one string. 0 asks in one request. See readPages.
   */
  async listAll<T extends KubeObject = KubeObject>(resource: string, opts: Omit<ListOptions, 'limit' | 'continue'> = {}, chunkSize = defaultChunkSize): Promise<List<T>> {
    if (chunkSize <= 0) return this.list<T>(resource, opts);
    // A continue token carries its revision: Kubernetes refuses a resourceVersion beside it.
    return readPages(
      (token) => this.list<T>(resource, token ? { ...opts, resourceVersion: undefined, limit: chunkSize, continue: token } : { ...opts, limit: chunkSize }),
      (list, page) => {
        for (const item of page.items) list.items.push(item);
      },
    );
  }

  async create<T extends KubeObject = KubeObject>(resource: string, obj: T, opts: CreateOptions = {}): Promise<T> {
    const namespace = this.objectNamespace(resource, opts.namespace ?? obj.metadata?.namespace);
    return this.send<T>('POST', this.path(resource, { namespace }), {
      body: obj,
      query: { fieldValidation: opts.fieldValidation, dryRun: opts.dryRun ? 'All' : undefined },
    });
  }

  /** PUT: replaces the object; the server rejects it with 409 if metadata.resourceVersion is stale. */
  async update<T extends KubeObject = KubeObject>(resource: string, obj: T, opts: UpdateOptions = {}): Promise<T> {
    const name = obj.metadata?.name;
    if (name === undefined || name === '') throw new Error('update needs metadata.name');
    const namespace = this.objectNamespace(resource, opts.namespace ?? obj.metadata.namespace);
    return this.send<T>('PUT', this.path(resource, { namespace, name, subresource: opts.subresource }), { body: obj });
  }

  async updateStatus<T extends KubeObject = KubeObject>(resource: string, obj: T): Promise<T> {
    return this.update<T>(resource, obj, { subresource: 'status' });
  }

  async patch<T extends KubeObject = KubeObject>(
    resource: string,
    name: string,
    patch: unknown,
    type: PatchType,
    opts: UpdateOptions = {},
  ): Promise<T> {
    const namespace = this.objectNamespace(resource, opts.namespace);
    return this.send<T>('PATCH', this.path(resource, { namespace, name, subresource: opts.subresource }), {
      body: patch,
      headers: { 'Content-Type': patchContentTypes[type] },
    });
  }

  /** Server-side apply: `obj` is the manager's whole configuration of the object, created when it does not exist. */
  async apply<T extends KubeObject = KubeObject>(resource: string, obj: T, opts: ApplyOptions): Promise<T> {
    const name = obj.metadata?.name;
    if (name === undefined || name === '') throw new Error('apply needs metadata.name');
    const namespace = this.objectNamespace(resource, opts.namespace ?? obj.metadata.namespace);
    return this.send<T>('PATCH', this.path(resource, { namespace, name }), {
      // JSON is YAML: the body goes as the JSON it is.
      body: obj,
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
      query: { fieldManager: opts.fieldManager, force: opts.force ? true : undefined, fieldValidation: 'Strict', dryRun: opts.dryRun ? 'All' : undefined },
    });
  }

  /** Returns what the server returns: the object (e.g. a pod now carrying deletionTimestamp) or a Status. */
  async delete<T extends KubeObject = KubeObject>(
    resource: string,
    name: string,
    opts: DeleteRequestOptions = {},
  ): Promise<T | Status> {
    const namespace = this.objectNamespace(resource, opts.namespace);
    return this.send<T | Status>('DELETE', this.path(resource, { namespace, name }), { body: deleteOptions(opts) });
  }

  async deleteCollection<T extends KubeObject = KubeObject>(
    resource: string,
    opts: ListOptions & { gracePeriodSeconds?: number } = {},
  ): Promise<List<T> | Status> {
    const namespace = this.objectNamespace(resource, opts.namespace);
    return this.send<List<T> | Status>('DELETE', this.path(resource, { namespace }), {
      query: listQuery(opts),
      body: deleteOptions(opts),
    });
  }

  /**
   * Evicts a pod (POST pods/NAME/eviction, a policy/v1 Eviction): the pod is deleted
   * gracefully with these options, unless a disruption budget refuses it (429).
   */
  async evict(namespace: string, name: string, opts: Omit<DeleteRequestOptions, 'namespace'> & { dryRun?: boolean } = {}): Promise<Status> {
    const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace }, deleteOptions: deleteOptions(opts) };
    return this.send<Status>('POST', this.path('pods', { namespace, name, subresource: 'eviction' }), {
      body: eviction,
      query: { dryRun: opts.dryRun ? 'All' : undefined },
    });
  }

  /** Binds a pod to a node (what a scheduler does); 409 if the pod is already bound. */
  async bind(namespace: string, podName: string, nodeName: string, podUid?: string): Promise<Status | Binding> {
    const binding: Binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: podName, namespace, ...(podUid !== undefined ? { uid: podUid } : {}) },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    };
    return this.send<Status | Binding>('POST', this.path('pods', { namespace, name: podName, subresource: 'binding' }), {
      body: binding,
    });
  }

  /** A token for a service account (POST serviceaccounts/NAME/token): the TokenRequest back, with status.token. */
  async createToken(namespace: string, serviceAccount: string, request: TokenRequest, opts: { dryRun?: boolean } = {}): Promise<TokenRequest> {
    return this.send<TokenRequest>('POST', this.path('serviceaccounts', { namespace, name: serviceAccount, subresource: 'token' }), {
      body: request,
      query: { dryRun: opts.dryRun ? 'All' : undefined },
    });
  }

  /**
   * Records a core/v1 Event about `involved` (which should carry its kind) in the object's
   * namespace. With `at`, the event says when it happened to the microsecond as well
   * (`eventTime`, with `action` as the v1 API then asks), so that events within one second keep
   * their order.
   */
  async recordEvent(
    involved: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: { component: string; host?: string },
    at?: Date,
  ): Promise<Event> {
    const meta = involved.metadata;
    const namespace = meta.namespace !== undefined && meta.namespace !== '' ? meta.namespace : 'default';
    const now = rfc3339(at ?? new Date());
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${meta.name ?? 'unknown'}.${eventSuffix()}`, namespace },
      involvedObject: {
        kind: involved.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        apiVersion: involved.apiVersion ?? 'v1',
        resourceVersion: meta.resourceVersion,
      },
      reason,
      message,
      type,
      source: source.host !== undefined ? { component: source.component, host: source.host } : { component: source.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
      ...(at !== undefined ? { eventTime: microTime(at), action: reason } : {}),
    };
    return this.send<Event>('POST', this.path('events', { namespace }), { body: event });
  }

  /** Watches a collection; see watch.ts for the stream's contract. */
  watch<T extends KubeObject = KubeObject>(resource: string, opts: WatchOptions, onEvent: WatchEventHandler<T>): Watch {
    return startWatch<T>(this, resource, opts, onEvent);
  }

  /** Streams a container's log; errors (ApiError, ConnectionError) arrive as the stream's 'error'. */
  logs(namespace: string, pod: string, opts: LogOptions = {}): Readable {
    const out = new PassThrough();
    const abort = new AbortController();
    out.on('close', () => abort.abort());
    const query: Query = {
      container: opts.container,
      follow: opts.follow ? 'true' : undefined,
      tailLines: opts.tailLines,
      timestamps: opts.timestamps ? 'true' : undefined,
      previous: opts.previous ? 'true' : undefined,
    };
    this.openStream('GET', this.path('pods', { namespace, name: pod, subresource: 'log' }), query, abort.signal).then(
      async (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          out.destroy(await this.errorFrom(res));
          return;
        }
        res.on('error', (err) => out.destroy(new ConnectionError(this.server, err)));
        res.pipe(out);
      },
      (err: unknown) => {
        if (!abort.signal.aborted) out.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
    return out;
  }

  /** Runs a command in a container (pods/exec); resolves with the Status it ended with (see exitCodeOf). */
  exec(namespace: string, pod: string, command: string[], opts: RemoteCommandOptions): Promise<Status> {
    return remoteCommand(this, namespace, pod, command, opts);
  }

  /** Attaches to a running container's stdio (pods/attach). */
  attach(namespace: string, pod: string, opts: RemoteCommandOptions): Promise<Status> {
    return remoteCommand(this, namespace, pod, undefined, opts);
  }

  /** Opens one connection to a port inside a pod (pods/portforward). */
  portForward(namespace: string, pod: string, port: number): Promise<Duplex> {
    return portForward(this, namespace, pod, port);
  }

  /**
   * The raw escape hatch: any method and path (a query string may be included). HTTP error
   * statuses are returned, not thrown; only failures to reach the server throw.
   */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<RawResponse<T>> {
    const res = await this.exchange(method, path, { body, headers });
    return { status: res.status, headers: res.headers, body: decodeBody(res.headers, res.body) as T };
  }

  // --- transport, shared with watch.ts ---

  /** Opens a request whose response is read as a stream (watch, logs): only the headers have a deadline. */
  async openStream(method: string, path: string, query: Query, signal?: AbortSignal): Promise<http.IncomingMessage> {
    await this.throttle();
    return this.open(method, path, { query, signal, wholeExchange: false });
  }

  /**
   * Sends a request as another program asked for it (a path with its query string, the body's
   * bytes, the Accept and Content-Type it chose) with this client's credentials, and returns
   * the response unread, whatever its status: what a local proxy to the API server needs.
   */
  forward(method: string, pathAndQuery: string, opts: { body?: Buffer; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<http.IncomingMessage> {
    return this.open(method, pathAndQuery, { body: opts.body, headers: opts.headers, signal: opts.signal, wholeExchange: false });
  }

  /** Opens a WebSocket to the same URL an HTTP request would use, with the same credentials. */
  openWebSocket(path: string, query: Query, protocols?: string[]): WebSocket {
    const url = this.url(path, query).replace(/^http/, 'ws');
    const timeoutMs = this.opts.timeoutMs ?? defaultTimeoutMs;
    // Loaded when first needed: most commands never open a WebSocket.
    const WebSocketClass = require('ws') as typeof import('ws');
    return new WebSocketClass(url, protocols ?? [], {
      headers: this.headers(),
      handshakeTimeout: timeoutMs > 0 ? timeoutMs : undefined,
      ...this.tlsOptions(),
    });
  }

  /** Turns an error response into an ApiError (reading and parsing its body). */
  async errorFrom(res: http.IncomingMessage): Promise<ApiError> {
    let body: unknown;
    try {
      body = decodeBody(res.headers, (await this.readBody(res)).toString('utf8'));
    } catch {
      body = undefined;
    }
    return ApiError.fromResponse(res.statusCode ?? 500, body);
  }

  // --- internals ---

  /** Waits for the rate limiter's token, if this client has a limit. */
  private async throttle(): Promise<void> {
    const waitMs = this.limiter?.reserve() ?? 0;
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  private tlsOptions(): https.AgentOptions {
    const tls: https.AgentOptions = {};
    if (this.opts.ca !== undefined) tls.ca = this.opts.ca;
    if (this.opts.cert !== undefined) tls.cert = this.opts.cert;
    if (this.opts.key !== undefined) tls.key = this.opts.key;
    if (this.opts.insecureSkipTLSVerify) tls.rejectUnauthorized = false;
    return tls;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'peapod-client/0.1.0' };
    if (this.opts.token !== undefined && this.opts.token !== '') h.Authorization = `Bearer ${this.opts.token}`;
    return h;
  }

  private url(path: string, query?: Query, server = this.server): string {
    return `${server}${withQuery(path, query)}`;
  }

  private async send<T>(method: string, path: string, opts: ExchangeOptions = {}): Promise<T> {
    const res = await this.exchange(method, path, opts);
    const body = decodeBody(res.headers, res.body);
    if (res.status >= 400) throw ApiError.fromResponse(res.status, body);
    return body as T;
  }

  /**
   * An ordinary request, its response read whole within the deadline, over the transport the
   * options chose. A 429 or 5xx with Retry-After (a server that did not take the request on:
   * API Priority and Fairness' queues were full) is sent again after that many seconds, up to
   * maxRetryAfterRetries times, each time through the rate limiter, as client-go does.
   */
  private async exchange(method: string, path: string, opts: ExchangeOptions): Promise<Exchange> {
    for (let retries = 0; ; retries++) {
      await this.throttle();
      const res = await this.exchangeOnce(method, path, opts);
      const waitSeconds = retries < maxRetryAfterRetries ? retryAfterSeconds(res.status, res.headers['retry-after']) : undefined;
      if (waitSeconds === undefined) return res;
      await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
    }
  }

  private async exchangeOnce(method: string, path: string, opts: ExchangeOptions): Promise<Exchange> {
    if (this.opts.requestTransport === 'http') {
      const res = await this.open(method, path, { ...opts, wholeExchange: true });
      return { status: res.statusCode ?? 0, headers: res.headers, body: bodyText(await this.readBody(res), method, path) };
    }
    return this.failover(method, opts.body, undefined, (endpoint) => this.exchangeOn(endpoint, method, path, opts), (res) => res.status, () => undefined);
  }

  /** A request over Node's http, its response unread, on the servers as failover() moves. */
  private open(method: string, path: string, opts: OpenOptions): Promise<http.IncomingMessage> {
    return this.failover(method, opts.body, opts.signal, (endpoint) => this.openOn(endpoint, method, path, opts), (res) => res.statusCode ?? 0, (res) => res.resume());
  }

  /**
   * Makes an attempt on the server in use; when that server cannot answer (no connection, a
   * 5xx) and the request may go elsewhere, on the next one, until each was tried once. The last
   * server's answer or error is the result; an answer passed over is discarded.
   */
  private async failover<R>(
    method: string,
    body: unknown,
    signal: AbortSignal | undefined,
    attempt: (endpoint: Endpoint) => Promise<R>,
    statusOf: (res: R) => number,
    discard: (res: R) => void,
  ): Promise<R> {
    const repeatable = safeToRepeat(method, body);
    const tried = new Set<number>();
    for (let index = this.ring.activeIndex; ; ) {
      tried.add(index);
      let res: R;
      try {
        res = await attempt(this.ring.members[index]);
      } catch (err) {
        if (signal?.aborted || !(err instanceof ConnectionError)) throw err;
        this.ring.failed(index);
        const then = this.ring.next(tried);
        if (then === undefined || !(repeatable || neverReachedServer(err.cause))) throw err;
        index = then;
        continue;
      }
      if (repeatable && isServerFailure(statusOf(res))) {
        this.ring.failed(index);
        const then = this.ring.next(tried);
        if (then !== undefined) {
          discard(res);
          index = then;
          continue;
        }
      }
      return res;
    }
  }

  /** The headers and body bytes of a request. */
  private outgoing(opts: ExchangeOptions): { headers: Record<string, string>; payload: Buffer | string | undefined } {
    const headers: Record<string, string> = { Accept: 'application/json', ...this.headers() };
    let payload: Buffer | string | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.isBuffer(opts.body) || typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    Object.assign(headers, opts.headers);
    return { headers, payload };
  }

  /**
   * One attempt of an ordinary request through the endpoint's undici pool; the deadline covers
   * reading the body. Dispatched with a handler that collects the body's chunks: undici's
   * request() makes a stream of each answer, which cost a component about 7 µs of CPU a
   * request (a merge patch 45 to 50 µs against 38 to 43).
   */
  private exchangeOn(endpoint: Endpoint, method: string, path: string, opts: ExchangeOptions): Promise<Exchange> {
    const { headers, payload } = this.outgoing(opts);
    const timeoutMs = this.opts.timeoutMs ?? defaultTimeoutMs;
    const pathAndQuery = endpoint.pathPrefix + escapedPath(withQuery(path, opts.query));
    return new Promise<Exchange>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let timedOut: Error | undefined;
      let controller: Dispatcher.DispatchController | undefined;
      let settled = false;
      let status = 0;
      let responseHeaders: http.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      const settle = (): void => {
        settled = true;
        if (timer) clearTimeout(timer);
        endpoint.slots?.release();
      };
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (c) => {
          controller = c;
          // The deadline passed while the request waited for a connection.
          if (timedOut) c.abort(timedOut);
        },
        onResponseStart: (_c, statusCode, h) => {
          if (statusCode < 200) return;
          status = statusCode;
          responseHeaders = h as http.IncomingHttpHeaders;
          this.reportWarnings(headerValues(responseHeaders.warning));
        },
        onResponseData: (_c, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          endpoint.pooled?.handover.answered();
          if (settled) return;
          settle();
          const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          // Thrown here, undici would swallow it and the request would never settle.
          try {
            resolve({ status, headers: responseHeaders, body: bodyText(body, method, path) });
          } catch (err) {
            reject(err);
          }
        },
        onResponseError: (_c, err) => {
          if (settled) return;
          settle();
          reject(new ConnectionError(endpoint.server, timedOut ?? err));
        },
      };
      const send = (): void => {
        const { pool, handover } = this.poolOf(endpoint);
        handover.send(() => pool.dispatch({ path: pathAndQuery, method: method as Dispatcher.HttpMethod, headers, body: payload }, handler));
      };
      const withdraw = endpoint.slots ? endpoint.slots.take(send) : (send(), () => false);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = timeoutError(timeoutMs);
          if (withdraw()) {
            settled = true;
            reject(new ConnectionError(endpoint.server, timedOut));
          } else if (controller) {
            controller.abort(timedOut);
          } else {
            // Still connecting, which undici cannot abort: answer now; its connect timeout (this
            // same deadline) ends the attempt, and a connection made late aborts it at once.
            settle();
            reject(new ConnectionError(endpoint.server, timedOut));
          }
        }, timeoutMs);
      }
    });
  }

  private poolOf(endpoint: Endpoint): Pooled {
    if (endpoint.pooled) return endpoint.pooled;
    // Loaded when first needed, so that a client on Node's http never loads it.
    const { Pool: PoolClass } = require('undici') as typeof import('undici');
    // The deadline is this client's own (timeoutMs), over the whole exchange; connecting (TCP
    // and TLS) gets no longer, so that a server gone without a word is given up in time.
    const timeoutMs = this.opts.timeoutMs ?? defaultTimeoutMs;
    const connectTimeout = timeoutMs > 0 ? Math.min(timeoutMs, undiciConnectTimeoutMs) : undiciConnectTimeoutMs;
    const pool = new PoolClass(endpoint.origin, { headersTimeout: 0, bodyTimeout: 0, connect: { ...this.tlsOptions(), timeout: connectTimeout } });
    endpoint.pooled = { pool, handover: new ConnectionHandover() };
    return endpoint.pooled;
  }

  private openOn(endpoint: Endpoint, method: string, path: string, opts: OpenOptions, retried = false): Promise<http.IncomingMessage> {
    const { headers, payload } = this.outgoing(opts);
    const url = this.url(path, opts.query, endpoint.server);
    const mod = endpoint.https ? https : http;
    const timeoutMs = this.opts.timeoutMs ?? defaultTimeoutMs;

    return new Promise<http.IncomingMessage>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let req: http.ClientRequest | undefined;
      let response: http.IncomingMessage | undefined;
      let settled = false;
      const fail = (err: unknown): void => {
        if (timer) clearTimeout(timer);
        if (settled) return;
        settled = true;
        if (opts.signal?.aborted) reject(err);
        else reject(new ConnectionError(endpoint.server, err));
      };
      // Destroyed without an error on purpose: Node reports an error passed to destroy() on a
      // kept-alive socket as an uncaught exception once the response has begun.
      const onAbort = (): void => {
        if (response) response.destroy();
        else if (req) req.destroy();
        else if (withdraw()) fail(new Error('request aborted'));
      };
      const send = (): void => {
        const sent = mod.request(url, { method, headers, agent: endpoint.agent }, (res) => {
          response = res;
          this.reportWarnings(rawHeaderValues(res.rawHeaders, 'warning'));
          if (opts.wholeExchange) {
            // The deadline keeps running while the body is read; readBody sees the destroy.
            res.on('close', () => timer && clearTimeout(timer));
          } else if (timer) {
            clearTimeout(timer);
          }
          settled = true;
          resolve(res);
        });
        req = sent;
        const slots = endpoint.slots;
        if (slots) sent.once('close', () => slots.release());
        sent.on('error', (err) => {
          // A pooled socket the server closed while idle fails at once; Node's documented remedy
          // is to retry on a fresh one.
          if (!settled && !retried && sent.reusedSocket && (err as { code?: string }).code === 'ECONNRESET') {
            settled = true;
            if (timer) clearTimeout(timer);
            this.openOn(endpoint, method, path, opts, true).then(resolve, reject);
            return;
          }
          fail(err);
        });
        sent.on('close', () => opts.signal?.removeEventListener('abort', onAbort));
        sent.end(payload);
      };
      const withdraw = endpoint.slots ? endpoint.slots.take(send) : (send(), () => false);
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          const err = timeoutError(timeoutMs);
          // Past the headers, the body reader must see this error rather than a bare reset.
          if (response) response.destroy(err);
          else if (req) req.destroy(err);
          else if (withdraw()) fail(err);
        }, timeoutMs);
      }
    });
  }

  private readBody(res: http.IncomingMessage): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', (err) => reject(new ConnectionError(this.server, err)));
      res.on('close', () => {
        if (!res.complete) reject(new ConnectionError(this.server, new Error('connection closed before the response was complete')));
      });
    });
  }

  private reportWarnings(values: string[]): void {
    const onWarning = this.opts.onWarning;
    if (!onWarning) return;
    for (const value of values) onWarning(warningText(value));
  }
}

/** Every value of one header, as sent (Node joins repeated headers in `headers`, but not in `rawHeaders`). */
function rawHeaderValues(rawHeaders: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === name) values.push(rawHeaders[i + 1]);
  }
  return values;
}

/** An undici header's values: repeated headers arrive as an array. */
function headerValues(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Extracts the text of an RFC 7234 warning value: `299 - "text"` → `text`. */
export function warningText(value: string): string {
  const m = /^\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/.exec(value);
  return m ? m[1].replace(/\\(.)/g, '$1') : value;
}

export function encodeQuery(query: Query): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === '') continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.join('&');
}

/** What a request that ran past its deadline fails with, as a socket's own timeout would. */
function timeoutError(timeoutMs: number): Error {
  return Object.assign(new Error(`request timed out after ${timeoutMs}ms`), { code: 'ETIMEDOUT' });
}

/** A path with the query appended (to any the path has). */
function withQuery(path: string, query?: Query): string {
  const qs = query ? encodeQuery(query) : '';
  if (qs === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${qs}`;
}

/** A path as a URL parser leaves it (spaces, non-ASCII escaped): a raw path may come as it was typed. */
function escapedPath(path: string): string {
  if (!/[^\x21-\x7e]/.test(path)) return path;
  const url = new URL(path, 'http://localhost');
  return url.pathname + url.search;
}

function listQuery(opts: ListOptions): Query {
  return {
    labelSelector: opts.labelSelector,
    fieldSelector: opts.fieldSelector,
    limit: opts.limit,
    continue: opts.continue,
    resourceVersion: opts.resourceVersion,
  };
}

function deleteOptions(opts: { gracePeriodSeconds?: number; preconditions?: DeleteOptions['preconditions']; propagationPolicy?: DeleteOptions['propagationPolicy'] }): DeleteOptions {
  const body: DeleteOptions = { kind: 'DeleteOptions', apiVersion: 'v1' };
  if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
  if (opts.preconditions !== undefined) body.preconditions = opts.preconditions;
  if (opts.propagationPolicy !== undefined) body.propagationPolicy = opts.propagationPolicy;
  return body;
}

/**
 * A list read page by page (a List or a Table: `page` asks for the first page without a token,
 * the next ones with the continue token before them; `add` joins a page to the first). The
 * server reads every page at the first one's revision, so the pages are one snapshot; when it
 * no longer keeps that snapshot (410: the list took too long, or another API server took
 * over), the list starts again once, as client-go's pager does.
 */
export async function readPages<P extends { metadata?: ListMeta }>(page: (token?: string) => Promise<P>, add: (first: P, next: P) => void): Promise<P> {
  for (let attempt = 1; ; attempt++) {
    const first = await page();
    try {
      for (let token = first.metadata?.continue; token; ) {
        const next = await page(token);
        add(first, next);
        token = next.metadata?.continue;
      }
      first.metadata = { resourceVersion: first.metadata?.resourceVersion };
      return first;
    } catch (err) {
      if (attempt > 1 || !isGone(err)) throw err;
    }
  }
}

/** A response body as text; one past V8's longest string (a LIST of 150,000 pods) fails saying so. */
function bodyText(body: Buffer, method: string, path: string): string {
  try {
    return body.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STRING_TOO_LONG') throw err;
    throw new Error(`the answer to ${method} ${path} (${body.length} bytes) is too long to read as one string; ask for it in pages (limit and continue)`);
  }
}

function decodeBody(headers: http.IncomingHttpHeaders, text: string): unknown {
  const type = headers['content-type'] ?? '';
  if (type.includes('json') && text.trim() !== '') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

// Event names are `<object>.<hex>`; time-ordered hex (ns resolution padded with random
// low digits) keeps them unique across processes and sortable like Kubernetes'.
function eventSuffix(): string {
  return (BigInt(Date.now()) * 1_000_000n + BigInt(randomInt(1_000_000))).toString(16);
}
