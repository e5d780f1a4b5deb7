// Several API servers of one cluster (`--server https://a:6443,https://b:6443`): a client stays
// with the server that last answered and moves to the next when that one cannot answer. What
// may move decides whether a request is sent twice, so the rules are here, in one place.

/** The URLs of a server list: comma-separated, blanks dropped. */
export function parseServerList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

// Errors of the connection phase: the request never left this machine, so another server may
// have it whatever it is.
const unsentErrnos = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/** Whether a failed attempt certainly never reached a server. */
export function neverReachedServer(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && unsentErrnos.has(code);
}

/** A server's answer that says it, not the request, is the problem (501 is a real answer: the verb is not there). */
export function isServerFailure(status: number): boolean {
  return status >= 500 && status !== 501;
}

function metadataOf(body: unknown): { name?: unknown; resourceVersion?: unknown } | undefined {
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return undefined;
  const meta = (body as { metadata?: unknown }).metadata;
  return typeof meta === 'object' && meta !== null ? (meta as { name?: unknown; resourceVersion?: unknown }) : undefined;
}

function nonEmpty(x: unknown): boolean {
  return typeof x === 'string' && x !== '';
}

/**
 * Whether a request that may already have reached one server (a reset, a timeout, a 5xx) can be
 * sent to another without acting twice:
 * - reads (GET, HEAD; a watch is a GET) change nothing;
 * - an update or patch carrying metadata.resourceVersion is compared against the stored object:
 *   if the first attempt was applied, the repeat fails with 409 Conflict and the caller re-reads,
 *   as after any conflict;
 * - a POST naming its object cannot make a second one: a create with metadata.name fails with
 *   409 AlreadyExists, a Binding with 409 Conflict (the pod is bound), which the caller then
 *   sees for a write that did happen; an Eviction finds its pod already being deleted;
 * - a delete with preconditions (uid or resourceVersion) cannot remove an object recreated in
 *   between: the repeat gets 404 or 409.
 * Anything else (generateName creates, unconditional updates, patches and deletes, token
 * requests, raw bodies) moves only when the request never reached a server.
 */
export function safeToRepeat(method: string, body: unknown): boolean {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return true;
    case 'PUT':
    case 'PATCH':
      return nonEmpty(metadataOf(body)?.resourceVersion);
    case 'POST':
      return nonEmpty(metadataOf(body)?.name);
    case 'DELETE': {
      const pre = typeof body === 'object' && body !== null && !Buffer.isBuffer(body) ? (body as { preconditions?: { uid?: unknown; resourceVersion?: unknown } }).preconditions : undefined;
      return pre !== undefined && (nonEmpty(pre.uid) || nonEmpty(pre.resourceVersion));
    }
    default:
      return false;
  }
}

/**
 * The servers of one cluster and the one in use. Concurrent requests that fail on the same
 * server move the client once: a request only moves it away from the server it used itself.
 */
export class ServerRing<T> {
  private current = 0;

  constructor(readonly members: readonly T[]) {
    if (members.length === 0) throw new Error('no API server given');
  }

  /** The server in use. */
  get active(): T {
    return this.members[this.current];
  }

  /** The index of the server in use. */
  get activeIndex(): number {
    return this.current;
  }

  /** That `failed` did not answer; the next server after it becomes the one in use (if it still was). */
  failed(failed: number): void {
    if (this.current === failed) this.current = (failed + 1) % this.members.length;
  }

  /** Where a request that already tried `tried` goes next: the server in use if untried, else the next untried; none when all were. */
  next(tried: ReadonlySet<number>): number | undefined {
    if (!tried.has(this.current)) return this.current;
    for (let step = 1; step < this.members.length; step++) {
      const i = (this.current + step) % this.members.length;
      if (!tried.has(i)) return i;
    }
    return undefined;
  }
}
