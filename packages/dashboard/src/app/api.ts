// The page's requests, all to its own origin: the dashboard server forwards them to the API
// server with the user's credentials, which the page never sees. A failure is an ApiFailure
// carrying the API's Status, shown as kubectl shows it.

import type { Status } from '@peapod/api';

/** A Status as kubectl words it: "Error from server (Conflict): ...". */
export function statusText(s: Partial<Status>): string {
  const message = s.message ?? `request failed (${s.code ?? 'no code'})`;
  return s.reason ? `Error from server (${s.reason}): ${message}` : message;
}

export class ApiFailure extends Error {
  constructor(readonly status: Status) {
    super(statusText(status));
    this.name = 'ApiFailure';
  }

  get code(): number {
    return this.status.code ?? 0;
  }
}

/** What to show for a failed action: the API's Status as kubectl words it, or the error's message. */
export function failureText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiFailure && err.code === 404;
}

function failure(code: number, message: string, reason?: string): ApiFailure {
  return new ApiFailure({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, message, reason: reason as Status['reason'] });
}

function isStatus(x: unknown): x is Status {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'Status';
}

export type Query = Record<string, string | number | boolean | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${qs}`;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** default application/json */
  contentType?: string;
  signal?: AbortSignal;
}

/** Sends a request through the dashboard's proxy; resolves with the parsed JSON, rejects with an ApiFailure. */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), {
      method,
      headers: opts.body !== undefined ? { 'Content-Type': opts.contentType ?? 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: opts.signal,
      credentials: 'same-origin',
    });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw failure(503, 'the dashboard server could not be reached (was peactl dashboard stopped?)', 'ServiceUnavailable');
  }
  if (!res.ok) throw await failureFrom(res);
  const text = await res.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** The ApiFailure of a response the server refused: its Status, or its text. */
export async function failureFrom(res: Response): Promise<ApiFailure> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isStatus(body)) return new ApiFailure({ ...body, code: body.code ?? res.status });
  return failure(res.status, text.trim() || res.statusText);
}
