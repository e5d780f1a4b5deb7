// The API server's request listener. Resource requests, nearly all of a cluster's traffic, go
// from Node's HTTP server straight to the resource handler; the rest (discovery, health,
// metrics, the reviews) through the express app. Express's router, and the prototypes it
// swaps onto every request and response, cost about 0.1 ms of CPU a request: on the server's
// one thread an eighth of a pod create on etcd.

import type http from 'http';
import { malformedPathMessage, requestUrl } from '@peapod/api';
import type { Logger } from '@peapod/client';
import { badRequest, StatusError } from '../errors';
import { StorageUnavailableError, WriteOutcomeUnknownError } from '../storage/types';
import type { UserInfo } from '../auth/tokens';
import { maxBodyBytes } from './body';
import { sendObject } from './negotiation';
import { isResourcePath, type ServerRequest } from './resources';

/**
 * Runs fn once the request body has been read to its end. Node closes a keep-alive
 * connection whose request body was left unread, without telling the client, so a
 * reply must not go out before the body is in; a body over the limit is not read but
 * answered with Connection: close.
 */
export function afterBody(req: http.IncomingMessage, res: http.ServerResponse, fn: () => void): void {
  if (req.complete || (!req.headers['content-length'] && !req.headers['transfer-encoding'])) return fn();
  if (Number(req.headers['content-length']) > maxBodyBytes) {
    res.setHeader('Connection', 'close');
    return fn();
  }
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    fn();
  };
  req.on('end', once);
  req.on('error', once);
  req.resume();
}

/** Answers with err's Status (in the encoding the client asked for), once the body is in. */
export function sendStatus(req: http.IncomingMessage, res: http.ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  afterBody(req, res, () => sendObject(req, res, err.code, err.status));
}

/** Answers a request that failed: a StatusError with its Status; anything else is logged and answered 500. */
export function answerFailure(log: Logger, req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
  if (err instanceof StatusError) {
    sendStatus(req, res, err);
    return;
  }
  // express's router throws this for a broken percent-encoding in a path parameter.
  if (err instanceof URIError) {
    sendStatus(req, res, badRequest(malformedPathMessage(req.url?.split('?')[0] ?? '')));
    return;
  }
  // Storage out of reach where no resource's rule named it (a consistent read's quorum read, a
  // lookup before a write): Kubernetes' Timeout, which clients may retry, not an internal error.
  if (err instanceof WriteOutcomeUnknownError) {
    sendStatus(req, res, new StatusError(504, `Timeout: the outcome of the write is unknown (${err.message}): it may or may not have been applied`, { reason: 'Timeout' }));
    return;
  }
  if (err instanceof StorageUnavailableError) {
    sendStatus(req, res, new StatusError(504, `Timeout: storage did not answer in time (${err.message}); the request may be retried`, { reason: 'Timeout' }));
    return;
  }
  log.error('request failed', { method: req.method, path: req.url?.split('?')[0], error: (err as Error)?.stack ?? String(err) });
  sendStatus(req, res, new StatusError(500, 'an internal error occurred; see the API server log'));
}

/** Reads that carry a body (meaningless, but allowed) have it read before they are answered. */
export function isRead(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

export interface DispatchOptions {
  /** serves every request that is not a resource request */
  app: http.RequestListener;
  /** resource-shaped paths that the app answers when POSTed to (the reviews) */
  appPosts: ReadonlySet<string>;
  /** the user a request acts as; throws the 401 or 403 it gets. Absent without authentication. */
  identify?: (req: http.IncomingMessage) => UserInfo;
  /** serves a resource request; what it fails with is answered here */
  serve(req: ServerRequest, res: http.ServerResponse, url: URL, user: UserInfo | undefined): Promise<void>;
  log: Logger;
}

/** The request listener: resource requests authenticated and served here, the rest handed to the app. */
export function dispatcher(opts: DispatchOptions): http.RequestListener {
  return (req, res) => {
    const fail = (err: unknown) => answerFailure(opts.log, req, res, err);
    try {
      const url = requestUrl(req.url);
      if (!isResourcePath(url.pathname) || (req.method === 'POST' && opts.appPosts.has(url.pathname))) {
        opts.app(req, res);
        return;
      }
      const user = opts.identify?.(req);
      const serve = () => {
        opts.serve(req as ServerRequest, res, url, user).catch(fail);
      };
      if (isRead(req.method)) afterBody(req, res, serve);
      else serve();
    } catch (err) {
      fail(err);
    }
  };
}
