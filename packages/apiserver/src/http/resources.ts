import type { IncomingMessage, ServerResponse } from 'http';
import { DeleteOptions, fieldForbidden, findResource, malformedPathMessage, Node, pathSegments, Pod, ResourceInfo, successStatus, type ValidationCause } from '@peapod/api';
import { FieldValidation, ListQuery, parseRevision, Registry, WritableSubresource } from '../registry/registry';
import { badRequest, invalid, notFoundPath, StatusError } from '../errors';
import { isApply, readApplyConfiguration, readDeleteOptions, readObject, readPatch } from './body';
import { managerFromUserAgent, updateTracker } from '../registry/field-manager';
import { evictPod } from './eviction';
import { bindPod } from '../registry/binding';
import { getScale, updateScale } from '../registry/scale';
import { tableRequested, toTable, TableRequest } from './tables';
import { responseDrained, runWatch, WatchRequest } from './watch';
import { sendEntry, sendList, sendObject, watchEncoding, type WatchEncoding } from './negotiation';
import type { Metrics } from './metrics';
import { nodeUserPrefix, type Authorizer } from '../auth/authorizer';
import type { UserInfo } from '../auth/tokens';
import type { TokenRequests } from '../registry/token-request';
import { podContainer } from './pod-containers';
import { isStreamSubresource, upgradeRequired } from './pod-streams';
import type { AgentRequest } from './pod-streams';
import type { Logger } from '@peapod/client';
import type { FlowControl } from '../flowcontrol/flow-control';

/** A request as a server's listener is given it: its method and URL are always there. */
export type ServerRequest = IncomingMessage & { method: string; url: string };

/** A request path under /api/v1, taken apart. */
export interface ResourcePath {
  resource: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Paths parsed lately: most requests go to a few (a namespace's pods, a node's lease). */
const parsedPaths = new Map<string, Readonly<ResourcePath>>();
const parsedPathsMax = 4096;

/**
 * Parses /api/v1/[namespaces/{ns}/]{resource}[/{name}[/{subresource}]] and the same under
 * /apis/{group}/{version}/; the result is shared by every request to the path, and frozen.
 */
export function parseResourcePath(path: string): Readonly<ResourcePath> {
  let parsed = parsedPaths.get(path);
  if (parsed === undefined) {
    parsed = Object.freeze(parsePath(path));
    // Dropped all at once when full: names make paths without end, and a clear costs nothing per request.
    if (parsedPaths.size >= parsedPathsMax) parsedPaths.clear();
    parsedPaths.set(path, parsed);
  }
  return parsed;
}

function parsePath(path: string): ResourcePath {
  const segs = pathSegments(path);
  if (!segs) throw badRequest(malformedPathMessage(path));
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    [group, version, rest] = ['', segs[1], segs.slice(2)];
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    [group, version, rest] = [segs[1], segs[2], segs.slice(3)];
  } else {
    throw notFoundPath();
  }
  const inGroup = (plural: string | undefined) => {
    const r = resourceByPlural(plural);
    return r && r.group === group && r.version === version ? r : undefined;
  };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && inGroup(rest[2])?.namespaced) {
    namespace = rest[1];
    rest.splice(0, 2);
  }
  const resource = inGroup(rest[0]);
  if (!resource || rest.length > 3) throw notFoundPath();
  const [, name, subresource] = rest;
  if (subresource !== undefined && !resource.subresources.includes(subresource)) throw notFoundPath();
  return { resource, namespace, name, subresource };
}

/**
 * Whether a path addresses resources (/api/v1/{...} or /apis/{group}/{version}/{...}), as
 * Kubernetes tells resource requests from the rest (discovery, health, metrics).
 */
export function isResourcePath(path: string): boolean {
  // Counted in place: every request asks.
  let first = '';
  let segments = 0;
  for (let at = 0; at < path.length && segments < 4; ) {
    let end = path.indexOf('/', at);
    if (end < 0) end = path.length;
    if (end > at) {
      if (segments === 0) first = path.slice(at, end);
      segments++;
    }
    at = end + 1;
  }
  return (first === 'api' && segments >= 3) || (first === 'apis' && segments >= 4);
}

function resourceByPlural(plural: string | undefined): ResourceInfo | undefined {
  const r = plural ? findResource(plural) : undefined;
  return r && r.name === plural ? r : undefined;
}

function methodNotAllowed(verb: string, r: ResourceInfo): StatusError {
  return new StatusError(405, `the server does not allow this method on the requested resource (${verb} ${r.name})`, { reason: 'MethodNotAllowed' });
}

function fieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation parameter unsupported: ${v}; must be one of Ignore, Warn or Strict`);
}

function listQuery(q: URLSearchParams): ListQuery {
  const limitText = q.get('limit');
  let limit: number | undefined;
  if (limitText !== null && limitText !== '') {
    if (!/^\d+$/.test(limitText)) throw badRequest(`invalid limit: ${JSON.stringify(limitText)}`);
    limit = Number(limitText);
  }
  return {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit,
    continue: q.get('continue') || undefined,
  };
}

/** The fieldManager of a write: as named (apply must name one), else the client's program. */
function fieldManager(req: ServerRequest, q: URLSearchParams, required: boolean): string {
  const name = q.get('fieldManager');
  if (name === null || name === '') {
    if (required) throw badRequest('PATCH with application/apply-patch+yaml requires the fieldManager parameter');
    return managerFromUserAgent(req.headers['user-agent']);
  }
  if (name.length > 128 || /[^\x20-\x7e]/.test(name)) throw badRequest(`invalid fieldManager ${JSON.stringify(name)}: at most 128 printable ASCII characters`);
  return name;
}

/** dryRun from the query (and a DeleteOptions body): "All" or nothing; anything else is refused before any work. */
export function isDryRun(q: URLSearchParams, fromBody: unknown = []): boolean {
  const values = [...q.getAll('dryRun'), ...(Array.isArray(fromBody) ? fromBody : [fromBody])];
  for (const v of values) {
    if (v !== 'All') {
      throw new StatusError(400, `unsupported dryRun value ${JSON.stringify(v)}: only "All" is supported`, {
        causes: [{ reason: 'FieldValueNotSupported', field: 'dryRun', message: `Unsupported value: ${JSON.stringify(v)}: supported values: "All"` }],
      });
    }
  }
  return values.length > 0;
}

function sendWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
}

function sendJsonText(res: ServerResponse, code: number, text: string): void {
  res.statusCode = code;
  res.setHeader('Content-Type', 'application/json');
  res.end(text);
}

export interface ResourceHandlerOptions {
  registry: Registry;
  metrics: Metrics;
  /** requests through the agent of a pod's node (logs) */
  agentRequest?: AgentRequest;
  minWatchTimeoutSeconds: number;
  /** when set, every request is authorized for its user */
  authorizer?: Authorizer;
  /** how many watches one client (user, or address without authentication) may hold open */
  maxWatchesPerClient: number;
  /** bytes queued for a watcher before it is dropped as not reading */
  maxWatchBacklogBytes: number;
  /** serviceaccounts/NAME/token */
  tokenRequests: TokenRequests;
  /** hears of each request slower than slowRequestSeconds (watches aside) */
  log?: Logger;
  /** lets each request in when its priority level has a seat for it (its wait counts in its latency) */
  flowControl?: FlowControl;
}

/**
 * Requests slower than this are logged (warn), as Kubernetes traces requests over 500 ms: the
 * latency histograms say how many, the lines say which and when.
 */
export const slowRequestSeconds = 0.5;

function verbOf(method: string, path: ResourcePath, q: URLSearchParams): string {
  switch (method) {
    case 'GET':
      return isWatch(q) ? 'watch' : path.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return path.name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

/** The handler of resource requests: /api/v1/... and /apis/GROUP/VERSION/... (see isResourcePath). */
export function resourceHandler(opts: ResourceHandlerOptions) {
  const { registry, metrics } = opts;
  const watchesByClient = new Map<string, number>();
  function checkAccess(user: UserInfo | undefined, path: ResourcePath, verb: string, q: URLSearchParams): void {
    if (!opts.authorizer) return;
    if (!user) throw new StatusError(401, 'Unauthorized', { reason: 'Unauthorized' });
    const decision = opts.authorizer.authorize(
      user,
      {
        verb,
        group: path.resource.group,
        resource: path.resource.name,
        subresource: path.subresource,
        namespace: path.resource.namespaced ? path.namespace : undefined,
        name: path.name,
        fieldSelector: q.get('fieldSelector') ?? undefined,
      },
    );
    if (!decision.allowed) {
      throw new StatusError(403, decision.message!, { reason: 'Forbidden', name: path.name, group: path.resource.group || undefined, kind: path.resource.name });
    }
  }

  /** A node may create only its own Node and its own Lease (the authorizer cannot see the name in the body). */
  function checkNodeCreate(user: UserInfo | undefined, r: ResourceInfo, body: unknown): void {
    if (!opts.authorizer || (r.name !== 'nodes' && r.name !== 'leases') || !user?.name.startsWith(nodeUserPrefix)) return;
    const node = user.name.slice(nodeUserPrefix.length);
    const name = (body as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    if (name !== node) {
      const qualified = r.group ? `${r.name}.${r.group}` : r.name;
      throw new StatusError(403, `${qualified} "${String(name)}" is forbidden: node "${node}" may only create its own ${r.kind}`, { reason: 'Forbidden', group: r.group || undefined, kind: r.name });
    }
  }

  function clientKey(user: UserInfo | undefined, address: string | undefined): string {
    return user ? `user:${user.name}` : `addr:${address}`;
  }

  /** Counts a watch against its client's cap; returns the release function. */
  function admitWatch(key: string): () => void {
    const n = watchesByClient.get(key) ?? 0;
    if (n >= opts.maxWatchesPerClient) {
      throw new StatusError(429, `too many open watches for this client (limit ${opts.maxWatchesPerClient})`, { reason: 'TooManyRequests' });
    }
    watchesByClient.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (watchesByClient.get(key) ?? 1) - 1;
      if (left <= 0) watchesByClient.delete(key);
      else watchesByClient.set(key, left);
    };
  }

  async function list(req: ServerRequest, res: ServerResponse, path: ResourcePath, q: URLSearchParams): Promise<void> {
    const result = await registry.list(path.resource.name, path.namespace, listQuery(q));
    const meta = { resourceVersion: String(result.rev), ...(result.continue ? { continue: result.continue } : {}) };
    const table = tableRequested(req.headers.accept, q.get('includeObject') ?? undefined);
    if (table) {
      sendJsonText(res, 200, JSON.stringify(toTable(path.resource.name, result.items.map((e) => e.object), table, meta)));
      return;
    }
    await sendList(req, res, path.resource, meta, result.items);
  }

  async function watch(req: ServerRequest, res: ServerResponse, user: UserInfo | undefined, path: ResourcePath, q: URLSearchParams, table: TableRequest | undefined): Promise<void> {
    const encoding = watchEncoding(req.headers.accept, path.resource, !!table, true);
    const watchReq = watchRequest(path, q, table, opts.minWatchTimeoutSeconds, encoding);
    const release = admitWatch(clientKey(user, req.socket.remoteAddress));
    res.on('close', release);
    res.statusCode = 200;
    res.setHeader('Content-Type', encoding.contentType);
    res.setHeader('Cache-Control', 'no-cache, private');
    res.flushHeaders();
    req.socket.setNoDelay(true);
    metrics.watchers.inc({ resource: path.resource.name });
    // The client may go while the watch is being registered (a wait for etcd): it ends once registered.
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    const end = await runWatch(
      registry,
      watchReq,
      {
        write: (event) => {
          res.write(event);
          return res.writableLength < opts.maxWatchBacklogBytes;
        },
        end: () => res.end(),
        drop: () => res.destroy(),
        drained: () => responseDrained(res, opts.maxWatchBacklogBytes),
      },
      {
        onEvent: () => metrics.watchEvents.inc({ resource: path.resource.name }),
        onEnd: () => metrics.watchers.dec({ resource: path.resource.name }),
      },
    );
    if (closed) end();
    else res.on('close', end);
  }

  async function handle(req: ServerRequest, res: ServerResponse, user: UserInfo | undefined, path: ResourcePath, q: URLSearchParams): Promise<void> {
    const r = path.resource;
    if (r.namespaced && path.namespace === undefined && path.name !== undefined) throw notFoundPath();
    const ns = r.namespaced ? path.namespace : undefined;
    checkAccess(user, path, verbOf(req.method, path, q), q);
    const dryRun = req.method === 'GET' ? false : isDryRun(q);

    if (isStreamSubresource(path.subresource)) throw upgradeRequired();
    if (path.subresource === 'log') {
      if (req.method !== 'GET') throw methodNotAllowed(req.method, r);
      await proxyLogs(req, res, path, q);
      return;
    }
    if (path.subresource === 'binding') {
      if (req.method !== 'POST') throw methodNotAllowed(req.method, r);
      const body = await readObject(req);
      await bindPod(registry, ns!, path.name!, body, dryRun);
      sendObject(req, res, 201, successStatus({ name: path.name, kind: 'pods/binding' }, 201));
      return;
    }
    if (path.subresource === 'token') {
      if (req.method !== 'POST') throw methodNotAllowed(req.method, r);
      const body = await readObject(req);
      sendJsonText(res, 201, JSON.stringify(await opts.tokenRequests.create(ns!, path.name!, body, dryRun)));
      return;
    }
    if (path.subresource === 'eviction') {
      if (req.method !== 'POST') throw methodNotAllowed(req.method, r);
      await evictPod(registry, ns!, path.name!, await readObject(req), q.getAll('dryRun'));
      sendObject(req, res, 201, successStatus({}, 201));
      return;
    }
    if (r.name === 'bindings') {
      if (req.method !== 'POST' || path.name !== undefined) throw methodNotAllowed(req.method, r);
      const body = (await readObject(req)) as { metadata?: { name?: unknown } };
      const podName = body && typeof body === 'object' ? body.metadata?.name : undefined;
      if (typeof podName !== 'string' || !podName) throw badRequest('a Binding must name the pod in metadata.name');
      await bindPod(registry, ns!, podName, body, dryRun);
      sendObject(req, res, 201, successStatus({ name: podName, kind: 'bindings' }, 201));
      return;
    }
    if (path.subresource === 'scale') {
      if (req.method === 'GET') {
        sendObject(req, res, 200, await getScale(registry, ns!, path.name!));
        return;
      }
      if (req.method === 'PUT') {
        sendObject(req, res, 200, await updateScale(registry, ns!, path.name!, await readObject(req), undefined, dryRun));
        return;
      }
      if (req.method === 'PATCH') {
        sendObject(req, res, 200, await updateScale(registry, ns!, path.name!, undefined, await readPatch(req), dryRun));
        return;
      }
      throw methodNotAllowed(req.method, r);
    }
    const sub = path.subresource as WritableSubresource | undefined;

    switch (req.method) {
      case 'GET': {
        if (path.name !== undefined && isWatch(q)) {
          // The old single-object watch path: the same as a watch selecting that name.
          q.set('fieldSelector', [q.get('fieldSelector'), `metadata.name=${path.name}`].filter(Boolean).join(','));
          await watch(req, res, user, { ...path, name: undefined }, q, tableRequested(req.headers.accept, q.get('includeObject') ?? undefined));
          return;
        }
        if (path.name !== undefined) {
          const entry = await registry.get(r.name, ns, path.name);
          const table = tableRequested(req.headers.accept, q.get('includeObject') ?? undefined);
          if (table) sendJsonText(res, 200, JSON.stringify(toTable(r.name, [entry.object], table, { resourceVersion: String(entry.rev) })));
          else sendEntry(req, res, 200, entry);
          return;
        }
        const table = tableRequested(req.headers.accept, q.get('includeObject') ?? undefined);
        if (isWatch(q)) {
          await watch(req, res, user, path, q, table);
          return;
        }
        await list(req, res, path, q);
        return;
      }
      case 'POST': {
        if (path.name !== undefined) throw methodNotAllowed('POST', r);
        if (!r.verbs.includes('create')) throw methodNotAllowed('POST', r);
        const body = await readObject(req);
        checkNodeCreate(user, r, body);
        const fields = updateTracker(r, fieldManager(req, q, false), undefined);
        const { entry, warnings } = await registry.create(r.name, ns, body, fieldValidation(q), dryRun, fields, user);
        sendWarnings(res, warnings);
        sendEntry(req, res, 201, entry);
        return;
      }
      case 'PUT': {
        if (path.name === undefined) throw methodNotAllowed('PUT', r);
        const body = await readObject(req);
        const { entry, warnings } = await registry.update(r.name, ns, path.name, body, fieldValidation(q), sub, dryRun, updateTracker(r, fieldManager(req, q, false), sub), user);
        sendWarnings(res, warnings);
        sendEntry(req, res, 200, entry);
        return;
      }
      case 'PATCH': {
        if (path.name === undefined) throw methodNotAllowed('PATCH', r);
        if (isApply(req)) {
          const config = await readApplyConfiguration(req);
          const opts = { validation: fieldValidation(q), manager: fieldManager(req, q, true), force: q.get('force') === 'true', dryRun, subresource: sub, writer: user };
          const { entry, warnings, created } = await registry.apply(r.name, ns, path.name, config, opts);
          sendWarnings(res, warnings);
          sendEntry(req, res, created ? 201 : 200, entry);
          return;
        }
        const { type, patch } = await readPatch(req);
        const { entry, warnings } = await registry.patch(r.name, ns, path.name, type, patch, fieldValidation(q), sub, dryRun, updateTracker(r, fieldManager(req, q, false), sub), user);
        sendWarnings(res, warnings);
        sendEntry(req, res, 200, entry);
        return;
      }
      case 'DELETE': {
        if (sub) throw methodNotAllowed('DELETE', r);
        const opts = (await readDeleteOptions(req, q)) as DeleteOptions;
        const dryRunDelete = isDryRun(q, opts.dryRun ?? []);
        if (path.name === undefined) {
          if (!r.verbs.includes('deletecollection')) throw methodNotAllowed('DELETE', r);
          const deleted = await registry.deleteCollection(r.name, ns, listQuery(q), opts, dryRunDelete);
          await sendList(req, res, r, { resourceVersion: String(registry.store.cache.revision) }, deleted);
          return;
        }
        // Kubernetes answers 200 with the object both when it is gone and when it is terminating.
        const { entry } = await registry.delete(r.name, ns, path.name, opts, dryRunDelete);
        sendEntry(req, res, 200, entry);
        return;
      }
      default:
        throw methodNotAllowed(req.method, r);
    }
  }

  async function proxyLogs(req: ServerRequest, res: ServerResponse, path: ResourcePath, q: URLSearchParams): Promise<void> {
    const pod = (await registry.get('pods', path.namespace, path.name!)).object as Pod;
    const container = podContainer(pod, q.get('container') ?? undefined);
    if (!pod.spec.nodeName) throw badRequest(`pod ${path.name} does not have a host assigned`);
    const nodeEntry = await registry.store.get(`/nodes/${pod.spec.nodeName}`);
    if (!nodeEntry) throw new StatusError(404, `nodes "${pod.spec.nodeName}" not found`, { name: pod.spec.nodeName, kind: 'nodes' });
    if (!opts.agentRequest) throw new StatusError(503, `the node ${pod.spec.nodeName} of pod ${path.name} cannot be reached for logs`);
    const params = new URLSearchParams();
    for (const k of ['follow', 'tailLines', 'timestamps', 'previous', 'sinceSeconds', 'limitBytes']) {
      const v = q.get(k);
      if (v !== null) params.set(k, v);
    }
    const agentPath = `/containerLogs/${encodeURIComponent(path.namespace!)}/${encodeURIComponent(path.name!)}/${encodeURIComponent(container)}?${params}`;
    await new Promise<void>((resolve, reject) => {
      const upstream = opts.agentRequest!(nodeEntry.object as Node, agentPath);
      upstream.on('response', (up) => {
        res.statusCode = up.statusCode ?? 502;
        res.setHeader('Content-Type', up.headers['content-type'] ?? 'text/plain');
        res.flushHeaders();
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', resolve);
      });
      upstream.on('error', (err) => reject(new StatusError(503, `the node ${pod.spec.nodeName} did not answer for logs: ${err.message}`)));
      res.on('close', () => upstream.destroy());
      upstream.end();
    });
  }

  /** Serves a resource request (its URL parsed) for `user`; what it fails with is the caller's to answer. */
  const serve = (req: ServerRequest, res: ServerResponse, url: URL, user: UserInfo | undefined): Promise<void> => {
    const started = process.hrtime.bigint();
    let path: ResourcePath | undefined;
    let failure: unknown;
    let labels = { verb: req.method.toLowerCase(), resource: 'unknown', subresource: '' };
    try {
      path = parseResourcePath(url.pathname);
      labels = { verb: verbOf(req.method, path, url.searchParams), resource: path.resource.name, subresource: path.subresource ?? '' };
    } catch (err) {
      failure = err;
    }
    // What admission holds (seats, a place in a queue) is given back once the response is over.
    let admitted: (() => void) | undefined;
    // Counted once the response is over, so the code is the one sent (an error's status is
    // set later, by the caller, once the request body has been read).
    res.once('close', () => {
      admitted?.();
      metrics.requests.inc({ ...labels, code: String(res.statusCode) });
      if (labels.verb === 'watch') return;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.latency.observe(labels, seconds);
      // Streams (logs, exec) last as long as the user wants.
      if (seconds >= slowRequestSeconds && labels.subresource !== 'log' && !isStreamSubresource(labels.subresource)) {
        opts.log?.warn('slow request', { ...labels, namespace: path?.namespace, name: path?.name, code: res.statusCode, seconds: Math.round(seconds * 1000) / 1000 });
      }
    });
    if (path === undefined) return Promise.reject(failure);
    const flowControl = opts.flowControl;
    if (!flowControl) return handle(req, res, user, path, url.searchParams);
    const q = url.searchParams;
    const digest = {
      verb: labels.verb,
      apiGroup: path.resource.group,
      resource: path.resource.name,
      subresource: path.subresource,
      namespace: path.resource.namespaced ? path.namespace : undefined,
      limit: q.get('limit'),
      selected: q.has('labelSelector') || q.has('fieldSelector'),
    };
    const served = path;
    return new Promise<void>((resolve, reject) => {
      admitted = flowControl.admit(user, digest, res, () => handle(req, res, user, served, q).then(resolve, reject), reject);
    });
  };
  return { serve, checkAccess, admitWatch, clientKey };
}

export function isWatch(q: URLSearchParams): boolean {
  return q.get('watch') === 'true' || q.get('watch') === '1';
}

/**
 * A watch's sendInitialEvents (streaming lists): true, false, or undefined when not asked;
 * checked as Kubernetes checks it, against resourceVersionMatch and allowWatchBookmarks.
 */
function sendInitialEvents(q: URLSearchParams): boolean | undefined {
  const text = q.get('sendInitialEvents');
  const match = q.get('resourceVersionMatch');
  const causes: ValidationCause[] = [];
  if (text === null || text === '') {
    if (match !== null && match !== '') causes.push(fieldForbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
  } else {
    if (text !== 'true' && text !== 'false') throw badRequest(`invalid sendInitialEvents: ${JSON.stringify(text)}`);
    if (match !== 'NotOlderThan') causes.push(fieldForbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    if (text === 'true' && q.get('allowWatchBookmarks') !== 'true') causes.push(fieldForbidden('allowWatchBookmarks', 'sendInitialEvents requires setting allowWatchBookmarks to true'));
  }
  if (causes.length) throw invalid('ListOptions', '', causes);
  return text === null || text === '' ? undefined : text === 'true';
}

export function watchRequest(path: ResourcePath, q: URLSearchParams, table: TableRequest | undefined, minTimeout: number, encoding: WatchEncoding): WatchRequest {
  const rv = q.get('resourceVersion');
  const unset = rv === null || rv === '' || rv === '0';
  const initialEvents = sendInitialEvents(q);
  let from: WatchRequest['from'];
  if (initialEvents) from = { initialEvents: true, endBookmark: true };
  else if (!unset) from = { rev: parseRevision(rv) };
  // Not asked for, "" and "0" mean the current state first, as they always have.
  else from = initialEvents === false ? 'now' : { initialEvents: true, endBookmark: false };
  const timeoutText = q.get('timeoutSeconds');
  let timeoutSeconds = minTimeout + Math.floor(Math.random() * minTimeout);
  if (timeoutText !== null && timeoutText !== '') {
    if (!/^\d+$/.test(timeoutText)) throw badRequest(`invalid timeoutSeconds: ${JSON.stringify(timeoutText)}`);
    timeoutSeconds = Number(timeoutText);
  }
  return {
    resource: path.resource.name,
    namespace: path.resource.namespaced ? path.namespace : undefined,
    query: listQuery(q),
    from,
    table,
    bookmarks: q.get('allowWatchBookmarks') === 'true',
    timeoutSeconds,
    encoding,
  };
}
