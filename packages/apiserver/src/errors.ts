import { failureStatus, Status, StatusCause, StatusInit } from '@peapod/api';

/** An error that reaches the client as a Kubernetes Status with its HTTP code. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(code: number, message: string, init: StatusInit = {}) {
    super(message);
    this.status = failureStatus(code, message, init);
  }
  get code(): number {
    return this.status.code;
  }
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, message);
}

export function notFound(resource: string, name: string): StatusError {
  return new StatusError(404, `${resource} "${name}" not found`, { name, kind: resource });
}

/**
 * 404 for a path the server does not serve (an unknown resource or subresource). Its details
 * are empty but present, as Kubernetes sends them: kubectl tells this 404 from a missing
 * object by the empty name (kubectl debug reads details.name without checking for details).
 */
export function notFoundPath(): StatusError {
  const err = new StatusError(404, 'the server could not find the requested resource');
  err.status.details = {};
  return err;
}

export function alreadyExists(resource: string, name: string): StatusError {
  return new StatusError(409, `${resource} "${name}" already exists`, { reason: 'AlreadyExists', name, kind: resource });
}

export function conflict(resource: string, name: string, why: string): StatusError {
  return new StatusError(409, `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, { name, kind: resource });
}

export function forbidden(resource: string, name: string, why: string, causes?: StatusCause[]): StatusError {
  return new StatusError(403, `${resource} "${name}" is forbidden: ${why}`, { name, kind: resource, causes });
}

/** 422 naming every bad field, worded as Kubernetes words it. */
export function invalid(kind: string, name: string, causes: StatusCause[]): StatusError {
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : `${c.message}`));
  const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new StatusError(422, `${kind} "${name}" is invalid: ${list}`, { name, kind, causes });
}
