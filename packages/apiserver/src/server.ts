import fs from 'fs';
import http from 'http';
import https from 'https';
import path from 'path';
import type net from 'net';
import express, { NextFunction, Request, Response } from 'express';
import { WebSocketServer, WebSocket } from 'ws';
import { failureStatus, fieldGetter, podSelectorView, requestUrl, Service } from '@peapod/api';
import { SqliteStore } from './storage/sqlite-store';
import { EtcdStore } from './storage/etcd-store';
import { Compression, etcdTransformer } from './storage/compression';
import type { Store } from './storage/types';
import { Registry } from './registry/registry';
import { makeStrategies, systemNamespaces } from './registry/strategies';
import { configStrategies } from './registry/config-strategies';
import { rbacStrategies } from './registry/rbac-strategies';
import { ServiceAllocator } from './registry/service-allocator';
import { parsePortRange, parseServiceCIDR } from './registry/service-ranges';
import { reconcileKubernetesService } from './registry/kubernetes-service';
import { ApiServerLease, renewIntervalMs } from './registry/apiserver-leases';
import { Housekeeping } from './registry/housekeeping';
import { notFoundPath, StatusError } from './errors';
import { discoveryRouter } from './http/discovery';
import { healthRouter, HealthCheck } from './http/health';
import { Metrics } from './http/metrics';
import { isDryRun, isResourcePath, isWatch, parseResourcePath, resourceHandler, watchRequest } from './http/resources';
import { isStreamSubresource, podStreams } from './http/pod-streams';
import type { AgentRequest } from './http/pod-streams';
import { tableRequested } from './http/tables';
import { listenOnCopies } from './http/listener-copies';
import { defaultWatchBacklogBytes, runWatch, socketDrained } from './http/watch';
import { watchEncoding } from './http/negotiation';
import { afterBody, answerFailure, dispatcher, isRead, sendStatus } from './http/dispatch';
import { createLogger, hostIPv4, Logger } from '@peapod/client';
import { authenticate, loadTokenFile, UserInfo } from './auth/tokens';
import { encryptionTransformer, EncryptionConfig } from './storage/encryption';
import { loadServiceAccountKeys } from './pki/service-account-key';
import { ServiceAccountTokens } from './auth/service-account-tokens';
import { TokenRequests } from './registry/token-request';
import { Authorizer, storePodLookup } from './auth/authorizer';
import { reviewRouter } from './auth/reviews';
import { followStore, RbacPolicy } from './auth/rbac-policy';
import { reconcileBootstrapPolicy } from './auth/rbac-bootstrap';
import { EscalationGuard } from './auth/rbac-escalation';
import { impersonatedUser } from './auth/impersonation';
import { FlowControl } from './flowcontrol/flow-control';

export interface ApiServerOptions {
  /** directory of the SQLite database (and of generated keys); ':memory:' keeps nothing */
  dataDir: string;
  /** --storage-backend etcd3: the objects in etcd instead of SQLite */
  etcd?: EtcdOptions;
  allowPrivileged: boolean;
  eventTtlSeconds?: number;
  historyRevisions?: number;
  /** the shortest server-chosen watch timeout (a random one up to twice this is used) */
  minWatchTimeoutSeconds?: number;
  logger?: Logger;
  /** --token-auth-file: with it every request but health and version needs a known bearer token */
  tokenAuthFile?: string;
  /** PEM certificate and key: serve HTTPS */
  tls?: { cert: Buffer; key: Buffer };
  maxWatchesPerClient?: number;
  /** bytes queued for a watcher before it is dropped as not reading (default 16 MiB) */
  maxWatchBacklogBytes?: number;
  /** the token the API server presents to node agents (for logs) */
  agentClientToken?: string;
  /** IPv4 CIDR services' cluster IPs come from (default 10.96.0.0/16); its first address is the `kubernetes` service's */
  serviceClusterIPRange?: string;
  /** node ports of NodePort services (default 30000-32767) */
  serviceNodePortRange?: string;
  /** the address the `kubernetes` service's endpoints give for this server (default: the address it listens on) */
  advertiseAddress?: string;
  /**
   * --endpoint-reconciler-type: `lease` (default): this server holds a lease and the
   * `kubernetes` service's endpoints are the API servers with a fresh one; `none`: neither
   */
  endpointReconcilerType?: 'lease' | 'none';
  /** --encryption-provider-config: which resources are encrypted in the database, and how */
  encryption?: EncryptionConfig;
  serviceAccounts?: ServiceAccountOptions;
  /**
   * --shutdown-delay-duration: on close, /readyz fails at once but everything is served this
   * long before the server stops, so that load balancers and clients move to another API
   * server first (default 0)
   */
  shutdownDelayMs?: number;
  /** how requests are let in when authentication is on (default: API Priority and Fairness, 400 + 200 seats) */
  flowControl?: FlowControlFlags;
  /** more descriptors of the listening socket to accept from, each one more connection accepted a turn (see listener-copies.ts; default 0) */
  listenerCopies?: number;
}

/** --enable-priority-and-fairness, --max-requests-inflight, --max-mutating-requests-inflight */
export interface FlowControlFlags {
  priorityAndFairness: boolean;
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
}

export const defaultFlowControl: FlowControlFlags = { priorityAndFairness: true, maxRequestsInflight: 400, maxMutatingRequestsInflight: 200 };

/** Where in etcd the objects are (--etcd-servers, --etcd-prefix and the client TLS files, read). */
export interface EtcdOptions {
  servers: string[];
  prefix?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** how long a request waits for etcd before it fails with 504 (default 10 s) */
  requestTimeoutMs?: number;
  /** --etcd-compression: how values are kept (default gzip) */
  compression?: Compression;
}

/** How service account tokens are signed, issued and accepted. */
export interface ServiceAccountOptions {
  /** PEM private key (RSA or EC P-256) that signs tokens; default: one generated into the data directory */
  signingKeyFile?: string;
  /** more PEM keys that tokens may be verified with */
  keyFiles?: string[];
  /** the `iss` of tokens (default https://kubernetes.default.svc.cluster.local) */
  issuer?: string;
  /** the audiences the API accepts tokens for (default: the issuer) */
  apiAudiences?: string[];
  /** mounted pod tokens (3607 s) live a year and warn after the hour, as Kubernetes does by default */
  extendTokenExpiration?: boolean;
}

export const defaultServiceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';

/**
 * The listen queue asked for: the kernel caps it at net.core.somaxconn, which is what Go's
 * listeners (Kubernetes' API server) ask for. Node's default, 511, overflows when hundreds of
 * clients connect while the server's thread is busy: the kernel then drops the handshake's
 * last ACK, and the client, which believes itself connected, waits out retransmissions (a
 * second or more) before its request is read.
 */
export const listenBacklog = 65535;

/** What peapod-apiserver listens with: 16 connections accepted a turn of its event loop. */
export const defaultListenerCopies = 15;

/**
 * How long an idle keep-alive connection is kept (clients read it in `Keep-Alive: timeout=`):
 * the longest undici's pools keep one by default. Kubernetes' API server closes idle ones
 * after 90 s, but its clients speak HTTP/2, one connection carrying all their requests and
 * watches, never idle. Over HTTP/1.1 a client holds a connection per request in flight: a
 * pool left to shrink between bursts (most of a hollow process's heartbeat connections, idle
 * a minute after the last pile-up) opens hundreds again at the next one, when the server is
 * busiest, and each waits its turn to be accepted.
 */
export const idleConnectionTimeoutMs = 600_000;

/** Idle time before a connection's first TCP keep-alive probe: Kubernetes' API server's. */
const tcpKeepAliveDelayMs = 180_000;

export interface ApiServer {
  server: http.Server | https.Server;
  registry: Registry;
  store: Store;
  metrics: Metrics;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Requests to a node's agent (container logs, exec, attach, port-forward), at the node's
 * InternalIP and agent port, carrying the API server's own token so the agent can tell them
 * from anyone else's.
 */
function agentRequester(token: string | undefined): AgentRequest {
  return (node, agentPath, init = {}) => {
    const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
    const headers = { ...init.headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) };
    return http.request({ host: address, port, path: agentPath, method: init.method ?? 'GET', headers });
  };
}

/** The address a listening host is reached at: itself, or for a wildcard the host's own address. */
function advertisedHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? hostIPv4() : host;
}

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const log = opts.logger ?? createLogger('apiserver');
  const metrics = new Metrics();
  if (opts.dataDir !== ':memory:') fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const encryption = opts.encryption ? encryptionTransformer(opts.encryption) : undefined;
  const storeOptions = {
    historyRevisions: opts.historyRevisions,
    observe: (op: string, seconds: number) => metrics.storage.observe({ operation: op }, seconds),
    // About two per pod, written once and seldom read: kept as text, which the garbage collector's marking does not walk.
    jsonOnly: new Set(['events']),
    // The most numerous objects that are read whole: kept as their JSON, parsed when read.
    parseOnRead: new Map([['pods', podSelectorView]]),
    // Each node agent lists its own pods (spec.nodeName=NODE) when it starts and relists.
    listIndexes: new Map([['pods', new Map([['spec.nodeName', fieldGetter('pods', 'spec.nodeName')!]])]]),
  };
  const store: Store = opts.etcd
    ? new EtcdStore({ ...storeOptions, ...opts.etcd, transformer: etcdTransformer(opts.etcd.compression ?? 'gzip', encryption), log })
    : new SqliteStore({ ...storeOptions, transformer: encryption, path: opts.dataDir === ':memory:' ? ':memory:' : path.join(opts.dataDir, 'peapod.db'), log });
  const serviceAllocator = new ServiceAllocator(
    store,
    parseServiceCIDR(opts.serviceClusterIPRange ?? '10.96.0.0/16'),
    parsePortRange(opts.serviceNodePortRange ?? '30000-32767'),
  );
  // Admission looks related objects up as this server last heard of them, as Kubernetes' admission plugins do through informers.
  const lookup = (resource: string, namespace: string, name: string) => store.cache.get(`/${resource}/${namespace}/${name}`)?.object;
  const eventTtlSeconds = opts.eventTtlSeconds ?? 3600;
  const strategyOptions = { allowPrivileged: opts.allowPrivileged, serviceAllocator, lookup, eventTtlSeconds };
  const users = opts.tokenAuthFile ? loadTokenFile(opts.tokenAuthFile) : undefined;
  const rbac = new RbacPolicy();
  // Without authentication nothing is authorized: every request is allowed.
  const authorizer = users ? new Authorizer(rbac, storePodLookup(store)) : undefined;
  const guard = new EscalationGuard(() => authorizer);
  const registry = new Registry(store, new Map([...makeStrategies(strategyOptions), ...configStrategies(strategyOptions), ...rbacStrategies(strategyOptions, guard)]));
  let stopFollowingRbac = (): void => undefined;
  const repairAllocations = async () => {
    const result = await serviceAllocator.repair((await registry.list('services', undefined, {})).items.map((e) => e.object as Service));
    if (result.removed || result.added) log.info('service allocations repaired', result);
  };
  /** What must be in storage before the first request: the system namespaces, and allocations that agree with the services. */
  const prepare = async () => {
    for (const name of systemNamespaces) {
      try {
        await registry.create('namespaces', undefined, { metadata: { name } }, 'Strict');
      } catch (err) {
        // Another API server (or an earlier run) made it.
        if (!(err instanceof StatusError) || err.code !== 409) throw err;
      }
    }
    stopFollowingRbac = await followStore(rbac, store);
    await reconcileBootstrapPolicy(registry, log);
    await repairAllocations();
  };
  const housekeeping = new Housekeeping(registry, store, log, { eventTtlSeconds });
  housekeeping.every('service allocations', 60_000, repairAllocations);
  const minWatchTimeoutSeconds = opts.minWatchTimeoutSeconds ?? 1800;
  const maxWatchBacklogBytes = opts.maxWatchBacklogBytes ?? defaultWatchBacklogBytes;

  const sa = opts.serviceAccounts ?? {};
  const issuer = sa.issuer ?? defaultServiceAccountIssuer;
  const saTokens = new ServiceAccountTokens({
    keys: loadServiceAccountKeys({ signingKeyFile: sa.signingKeyFile, keyFiles: sa.keyFiles, dataDir: opts.dataDir === ':memory:' ? undefined : opts.dataDir }),
    issuer,
    apiAudiences: sa.apiAudiences?.length ? sa.apiAudiences : [issuer],
    objects: (resource, namespace, name) => store.cache.get(namespace === undefined ? `/${resource}/${name}` : `/${resource}/${namespace}/${name}`)?.object,
  });
  const tokenRequests = new TokenRequests(registry, saTokens, { extendExpiration: sa.extendTokenExpiration ?? true });
  /** Static tokens first; what looks like a JWT is then tried as a service account token. */
  const serviceAccountUser = (token: string) => (token.split('.').length === 3 ? saTokens.authenticate(token) : undefined);
  const publicPaths = new Set(['/healthz', '/livez', '/readyz', '/version']);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  /** The user a request acts as: its token's, or whom it impersonates; throws the 401 or 403 it gets. */
  const identify = (req: http.IncomingMessage): UserInfo => {
    const user = authenticate(req.headers.authorization, users!, serviceAccountUser);
    if (!user) throw new StatusError(401, 'Unauthorized', { reason: 'Unauthorized' });
    return impersonatedUser(user, req, authorizer!);
  };
  if (users) {
    app.use((req, res, next) => {
      if (publicPaths.has(req.path)) return next();
      let user: UserInfo;
      try {
        user = identify(req);
      } catch (err) {
        return sendStatus(req, res, err as StatusError);
      }
      res.locals.user = user;
      next();
    });
  }
  app.use((req, res, next) => (isRead(req.method) ? afterBody(req, res, next) : next()));
  if (users) {
    // Paths that name no resource (discovery, health, metrics) are authorized here; resource
    // requests by the resource handler and the review routes, which know their attributes.
    app.use((req, res, next) => {
      if (publicPaths.has(req.path) || isResourcePath(req.path)) return next();
      const decision = authorizer!.authorizeNonResource(res.locals.user as UserInfo, { verb: req.method.toLowerCase(), path: req.path });
      if (!decision.allowed) return sendStatus(req, res, new StatusError(403, decision.message!, { reason: 'Forbidden' }));
      next();
    });
  }
  app.use(discoveryRouter());
  /** close() has begun: /readyz fails from then on */
  let closed = false;
  const ping: HealthCheck = { name: 'ping', check: async () => undefined };
  const storage: HealthCheck = { name: store.backend, check: () => store.check() };
  const shutdown: HealthCheck = {
    name: 'shutdown',
    check: async () => {
      if (closed) throw new Error('the server is shutting down');
    },
  };
  // Liveness leaves the store out: restarting this server cannot bring etcd back.
  app.use(healthRouter({ livez: [ping], readyz: [ping, storage, shutdown], healthz: [ping, storage] }, log));
  app.get('/metrics', (req, res, next) => {
    metrics.registry
      .metrics()
      .then((text) => res.status(200).type(metrics.registry.contentType).send(text))
      .catch(next);
  });
  const agentRequest = agentRequester(opts.agentClientToken);
  const streams = podStreams({ registry, metrics, agentRequest });
  // Without authentication every request is the same anonymous user's: there would be one
  // flow to be fair between, so requests are let in as they come.
  const flowControl = users
    ? new FlowControl({ ...defaultFlowControl, ...opts.flowControl, objectCount: (resource) => store.cache.objectCount(resource), registry: metrics.registry })
    : undefined;
  const resources = resourceHandler({
    registry,
    metrics,
    flowControl,
    agentRequest,
    minWatchTimeoutSeconds,
    authorizer,
    maxWatchesPerClient: opts.maxWatchesPerClient ?? 100,
    maxWatchBacklogBytes,
    tokenRequests,
    log,
  });
  const reviews = reviewRouter({
    authenticate: users ? (token) => users.get(token) ?? serviceAccountUser(token) : undefined,
    authorizer,
    checkDryRun: isDryRun,
  });
  app.use(reviews.router);
  app.use((req: Request, res: Response) => {
    sendStatus(req, res, notFoundPath());
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => answerFailure(log, req, res, err));

  const listener = dispatcher({ app, appPosts: reviews.paths, identify: users ? identify : undefined, serve: resources.serve, log });
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, listener) : http.createServer(listener);
  // TCP keep-alive probes find peers gone without a word (a machine off the network), as
  // Kubernetes' API server sends them, so that idle connections kept long do not pile up.
  // Here rather than as the server's option, which connections from its copies would miss.
  server.on('connection', (socket: net.Socket) => socket.setKeepAlive(true, tcpKeepAliveDelayMs));
  // Slow or stalled clients must not hold sockets forever; watches are long-lived by design.
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = idleConnectionTimeoutMs;

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const refuse = (err: StatusError) => {
      socket.end(`HTTP/1.1 ${err.code} ${http.STATUS_CODES[err.code]}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(err.status)}`);
    };
    try {
      const url = requestUrl(req.url);
      const q = url.searchParams;
      const target = parseResourcePath(url.pathname);
      let user: UserInfo | undefined;
      if (users) user = identify(req);
      if (isStreamSubresource(target.subresource) && target.namespace !== undefined && target.name !== undefined) {
        resources.checkAccess(user, target, 'create', q);
        streams
          .tunnel(req, socket, head, { namespace: target.namespace, name: target.name, subresource: target.subresource! }, q)
          .catch((err: unknown) => refuse(err instanceof StatusError ? err : new StatusError(500, 'internal error')));
        return;
      }
      if (!isWatch(q) || target.subresource) throw new StatusError(400, 'only watch requests can be upgraded to a WebSocket');
      resources.checkAccess(user, target, 'watch', q);
      const release = resources.admitWatch(resources.clientKey(user, req.socket.remoteAddress));
      if (target.name !== undefined) q.set('fieldSelector', [q.get('fieldSelector'), `metadata.name=${target.name}`].filter(Boolean).join(','));
      const table = tableRequested(req.headers.accept, q.get('includeObject') ?? undefined);
      const encoding = watchEncoding(req.headers.accept, target.resource, !!table, false);
      const watchReq = watchRequest({ ...target, name: undefined }, q, table, minWatchTimeoutSeconds, encoding);
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        // JSON events go as text messages (without the newline), protobuf ones as binary messages.
        const send = (event: string | Buffer) => ws.send(typeof event === 'string' ? event.trimEnd() : event);
        metrics.watchers.inc({ resource: target.resource.name });
        runWatch(
          registry,
          watchReq,
          {
            write: (event) => {
              if (ws.readyState === WebSocket.OPEN) send(event);
              return ws.bufferedAmount < maxWatchBacklogBytes;
            },
            end: () => ws.close(1000),
            drop: () => ws.terminate(),
            drained: () => socketDrained(ws, maxWatchBacklogBytes),
          },
          {
            onEnd: () => {
              release();
              metrics.watchers.dec({ resource: target.resource.name });
            },
          },
        ).then(
          (end) => {
            if (ws.readyState !== WebSocket.OPEN) end();
            ws.on('close', end);
            ws.on('error', end);
          },
          (err: unknown) => {
            const status = err instanceof StatusError ? err.status : failureStatus(500, 'internal error');
            send(encoding.built('ERROR', status));
            ws.close(1000);
            release();
            metrics.watchers.dec({ resource: target.resource.name });
          },
        );
      });
    } catch (err) {
      refuse(err instanceof StatusError ? err : new StatusError(500, 'internal error'));
    }
  });

  /** The upkeep of the lease and the `kubernetes` service, one run at a time and none after close. */
  let upkeep: Promise<unknown> = Promise.resolve();
  const inTurn = (fn: () => Promise<void>, whenClosed = false): Promise<void> => {
    const run = upkeep.then(() => (closed && !whenClosed ? undefined : fn()));
    upkeep = run.catch(() => undefined);
    return run;
  };
  let leaving: (() => Promise<void>) | undefined;
  let listenerCopies: net.Server[] = [];
  return {
    server,
    registry,
    store,
    metrics,
    async listen(port, host) {
      await store.ready();
      await prepare();
      const bound = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, backlog: listenBacklog }, () => {
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
      listenerCopies = await listenOnCopies(server, opts.listenerCopies ?? 0, listenBacklog).catch((err: Error) => {
        log.warn('accepting one connection a turn: no copies of the listening socket', { error: err.message });
        return [];
      });
      const kubernetesService = { clusterIP: serviceAllocator.firstIP, tls: !!opts.tls };
      const self = { ip: opts.advertiseAddress ?? advertisedHost(host), port: bound };
      // --endpoint-reconciler-type none: no lease, and only the service is kept.
      const lease = (opts.endpointReconcilerType ?? 'lease') === 'lease' ? new ApiServerLease(registry, { address: self, alone: !opts.etcd }) : undefined;
      const keepKubernetesService = async () => {
        await lease?.renew();
        await reconcileKubernetesService(registry, kubernetesService, bound, await lease?.freshAddresses());
      };
      if (lease) {
        // On a clean stop the lease goes and the endpoints follow, after any upkeep still running.
        leaving = async () => {
          await lease.release();
          await reconcileKubernetesService(registry, kubernetesService, bound, await lease.freshAddresses());
        };
      }
      try {
        await inTurn(keepKubernetesService);
      } catch (err) {
        // Not fatal: serving goes on, and housekeeping tries again.
        log.error('could not write the kubernetes service', { error: (err as Error).message });
      }
      housekeeping.every('kubernetes service', renewIntervalMs, () => inTurn(keepKubernetesService));
      housekeeping.start();
      return bound;
    },
    async close() {
      if (closed) return;
      closed = true;
      housekeeping.stop();
      // The `kubernetes` service's endpoints drop this server first, as the delay begins.
      if (leaving) await inTurn(leaving, true).catch((err: Error) => log.warn('could not give up the API server lease', { error: err.message }));
      if (opts.shutdownDelayMs) {
        log.info('not ready: serving on until the shutdown delay is over', { delaySeconds: opts.shutdownDelayMs / 1000 });
        await new Promise((resolve) => setTimeout(resolve, opts.shutdownDelayMs));
      }
      stopFollowingRbac();
      flowControl?.close();
      for (const c of wss.clients) c.terminate();
      streams.close();
      // They stop listening at once; their connections are the server's, closed with its own below.
      for (const l of listenerCopies) l.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}
