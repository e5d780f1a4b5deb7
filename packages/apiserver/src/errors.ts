import { failureStatus, invalidObjectMessage, ResourceInfo, Status, StatusCause, StatusInit } from '@peapod/api';

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

/** A resource by its plural (core group) or as served: errors name it with its group, as Kubernetes does. */
export type ResourceRef = string | Pick<ResourceInfo, 'name' | 'group'>;

/** `leases.coordination.k8s.io` in messages; name, group (when not core) and kind in details. */
function about(resource: ResourceRef, name: string): { qualified: string; init: StatusInit } {
  if (typeof resource === 'string' || !resource.group) {
    const plural = typeof resource === 'string' ? resource : resource.name;
    return { qualified: plural, init: { name, kind: plural } };
  }
  return { qualified: `${resource.name}.${resource.group}`, init: { name, group: resource.group, kind: resource.name } };
}

export function notFound(resource: ResourceRef, name: string): StatusError {
  const { qualified, init } = about(resource, name);
  return new StatusError(404, `${qualified} "${name}" not found`, init);
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

export function alreadyExists(resource: ResourceRef, name: string): StatusError {
  const { qualified, init } = about(resource, name);
  return new StatusError(409, `${qualified} "${name}" already exists`, { ...init, reason: 'AlreadyExists' });
}

export function conflict(resource: ResourceRef, name: string, why: string): StatusError {
  const { qualified, init } = about(resource, name);
  return new StatusError(409, `Operation cannot be fulfilled on ${qualified} "${name}": ${why}`, init);
}

export function forbidden(resource: ResourceRef, name: string, why: string, causes?: StatusCause[]): StatusError {
  const { qualified, init } = about(resource, name);
  return new StatusError(403, `${qualified} "${name}" is forbidden: ${why}`, { ...init, causes });
}

/** 422 naming every bad field, worded as Kubernetes words it. */
export function invalid(kind: string, name: string, causes: StatusCause[]): StatusError {
  return new StatusError(422, invalidObjectMessage(kind, name, causes), { name, kind, causes });
}
