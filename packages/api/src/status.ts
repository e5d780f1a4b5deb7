import type { Status, StatusCause, StatusReason } from './types';

const reasonForCode: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export interface StatusInit {
  reason?: StatusReason;
  name?: string;
  kind?: string;
  group?: string;
  causes?: StatusCause[];
}

/** A Failure Status as the API server returns it (and clients raise it). */
export function failureStatus(code: number, message: string, init: StatusInit = {}): Status {
  const status: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: init.reason ?? reasonForCode[code] ?? 'InternalError',
    code,
  };
  if (init.name !== undefined || init.kind !== undefined || init.causes) {
    status.details = {};
    if (init.name !== undefined) status.details.name = init.name;
    if (init.group !== undefined) status.details.group = init.group;
    if (init.kind !== undefined) status.details.kind = init.kind;
    if (init.causes) status.details.causes = init.causes;
  }
  return status;
}

/** A Success Status; `code` is the HTTP status it comes with (201 for a create, as Kubernetes' create handler fills it in). */
export function successStatus(init: StatusInit = {}, code = 200): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
  if (init.name !== undefined || init.kind !== undefined) {
    status.details = { name: init.name, group: init.group ?? '', kind: init.kind };
  }
  return status;
}

export function isStatus(x: unknown): x is Status {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'Status';
}
