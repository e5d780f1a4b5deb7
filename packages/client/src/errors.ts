import { failureStatus, isStatus } from '@peapod/api';
import type { Status, StatusReason } from '@peapod/api';

/** An error answer from the API server, always carried as a Kubernetes Status. */
export class ApiError extends Error {
  readonly status: Status;
  readonly code: number;
  readonly reason: StatusReason | undefined;

  constructor(status: Status) {
    super(status.message ?? `the server responded with status ${status.code}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = status.code;
    this.reason = status.reason;
  }

  /**
   * Builds the error from an HTTP error response. A body that is not a Status (a proxy's
   * HTML page, plain text) is wrapped in one so callers only ever handle one shape.
   */
  static fromResponse(httpStatus: number, body: unknown): ApiError {
    if (isStatus(body)) {
      // Some servers leave code out of the body; the HTTP status is the truth then.
      const code = typeof body.code === 'number' && body.code !== 0 ? body.code : httpStatus;
      return new ApiError({ ...body, code });
    }
    return new ApiError(failureStatus(httpStatus, messageForBody(httpStatus, body)));
  }
}

// kubectl's wording for error responses that carry no Status.
const defaultMessages: Record<number, string> = {
  400: 'the server rejected our request for an unknown reason',
  401: 'the server has asked for the client to provide credentials',
  403: 'the server does not allow access to the requested resource',
  404: 'the server could not find the requested resource',
  405: 'the server does not allow this method on the requested resource',
  409: 'the server reported a conflict',
  410: 'the server has asked the client to restart the request',
  415: 'the server has rejected the request because of an unsupported media type',
  422: 'the server rejected our request due to an error in our request',
  429: 'the server has received too many requests and has asked us to try again later',
  500: 'an error on the server has prevented the request from succeeding',
  503: 'the server is currently unable to handle the request',
  504: 'the server was unable to return a response in the time allotted, but may still be processing the request',
};

function messageForBody(httpStatus: number, body: unknown): string {
  const text = typeof body === 'string' ? body.trim() : body === undefined ? '' : JSON.stringify(body);
  const fallback = defaultMessages[httpStatus] ?? `the server responded with status ${httpStatus}`;
  // A short plain-text body is the server's own explanation; a long one is usually an HTML page.
  if (text !== '' && text.length <= 512 && !text.startsWith('<')) return `${fallback} (${text})`;
  return fallback;
}

/** The server could not be reached (refused, reset, timed out, name not resolved). */
export class ConnectionError extends Error {
  /** The server URL we tried to reach. */
  readonly url: string;
  /** The system error code, e.g. ECONNREFUSED, ECONNRESET, ETIMEDOUT. */
  readonly errno: string | undefined;

  constructor(url: string, cause: unknown) {
    const errno = errnoOf(cause);
    super(connectionMessage(url, errno, cause), { cause });
    this.name = 'ConnectionError';
    this.url = url;
    this.errno = errno;
  }
}

function errnoOf(cause: unknown): string | undefined {
  if (typeof cause === 'object' && cause !== null) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function hostPort(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port !== '' ? u.port : u.protocol === 'https:' || u.protocol === 'wss:' ? '443' : '80';
    return `${u.hostname}:${port}`;
  } catch {
    return url;
  }
}

function connectionMessage(url: string, errno: string | undefined, cause: unknown): string {
  const where = hostPort(url);
  if (errno === 'ECONNREFUSED') {
    return `The connection to the server ${where} was refused - did you specify the right host or port?`;
  }
  const detail = cause instanceof Error ? cause.message : String(cause);
  return `Unable to connect to the server ${where}: ${detail}`;
}

// Predicates on the API server's answers, as client-go's apierrors: an answer is told by its
// reason; one without a reason (another server's, a proxy's) by its HTTP code.
function answered(err: unknown, reason: StatusReason, code: number): boolean {
  if (!(err instanceof ApiError)) return false;
  const given = String(err.reason ?? '');
  if (given !== '' && given !== 'Unknown') return given === reason;
  return err.code === code;
}

/** 404 NotFound: the object (or what the path names) does not exist. */
export function isNotFound(err: unknown): boolean {
  return answered(err, 'NotFound', 404);
}

/** 409 AlreadyExists: a create met an object of that name. */
export function isAlreadyExists(err: unknown): boolean {
  return answered(err, 'AlreadyExists', 409);
}

/** 409 Conflict: the object changed since it was read (resourceVersion or uid precondition). */
export function isConflict(err: unknown): boolean {
  return answered(err, 'Conflict', 409);
}

/** 403 Forbidden. */
export function isForbidden(err: unknown): boolean {
  return answered(err, 'Forbidden', 403);
}

/** 422 Invalid: the object failed validation; the causes name the fields. */
export function isInvalid(err: unknown): boolean {
  return answered(err, 'Invalid', 422);
}

/** 401 Unauthorized: no or a rejected credential. */
export function isUnauthorized(err: unknown): boolean {
  return answered(err, 'Unauthorized', 401);
}

/**
 * 410: the resourceVersion asked for is older than the server keeps (reason Expired or Gone);
 * a watcher lists afresh.
 */
export function isGone(err: unknown): boolean {
  return err instanceof ApiError && err.code === 410;
}
