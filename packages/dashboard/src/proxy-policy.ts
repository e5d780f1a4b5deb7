// What the dashboard's proxy lets the browser ask of the API server. It is an allow-list:
// the page reads the resources it shows and performs the few actions it offers, nothing
// else. Secrets (and every other credential-bearing resource: service account tokens,
// token reviews) are refused outright, so no Secret's data can reach the browser even
// through a hand-written request on the page's origin.

import type { Status } from '@peapod/api';
import { failureStatus } from '@peapod/api';

export interface ProxyRequest {
  method: string;
  /** The URL path, without the query string. */
  path: string;
  /** watch=true in the query */
  watch: boolean;
}

/** Resources the page reads (get, list, watch), by plural name. */
const readable = new Set(['namespaces', 'pods', 'nodes', 'events', 'replicationcontrollers', 'leases', 'services', 'endpoints', 'endpointslices']);

/** Subresources the page reads. */
const readableSubresources = new Set(['pods/log', 'replicationcontrollers/scale']);

/** The writes behind the page's actions: "METHOD resource[/subresource]" on one named object. */
const writes = new Set([
  'DELETE pods',
  'POST pods/eviction',
  'PATCH nodes',
  'PATCH replicationcontrollers/scale',
  'PUT replicationcontrollers/scale',
]);

const refusedResources = new Set(['secrets', 'serviceaccounts', 'tokenreviews']);

interface ParsedPath {
  resource?: string;
  name?: string;
  subresource?: string;
  /** /api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version}, /version */
  discovery: boolean;
}

function parse(path: string): ParsedPath | undefined {
  const parts = path.split('/').slice(1).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return '\u0000';
    }
  });
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\u0000') || p.includes('/'))) return undefined;
  let rest: string[];
  if (parts[0] === 'version' && parts.length === 1) return { discovery: true };
  if (parts[0] === 'api') {
    if (parts.length <= 2) return { discovery: true };
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length <= 3) return { discovery: true };
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  // /namespaces/{ns}/{resource}... addresses objects inside a namespace; /namespaces/{name} is the namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  if (rest.length > 3) return undefined;
  return { resource: rest[0], name: rest[1], subresource: rest[2], discovery: false };
}

function forbidden(message: string): Status {
  return failureStatus(403, message, { reason: 'Forbidden' });
}

/** undefined when the proxy may forward the request; otherwise the Status to answer with. */
export function refusal(req: ProxyRequest): Status | undefined {
  const p = parse(req.path);
  if (p === undefined) return failureStatus(404, `the dashboard does not serve ${req.path}`, { reason: 'NotFound' });
  const method = req.method.toUpperCase();
  const reading = method === 'GET' || method === 'HEAD';
  if (p.discovery) return reading ? undefined : forbidden(`the dashboard only reads ${req.path}`);
  const resource = p.resource ?? '';
  if (refusedResources.has(resource)) {
    return forbidden(`${resource} are not served through the dashboard: it never shows a Secret's data or a token`);
  }
  const target = p.subresource !== undefined ? `${resource}/${p.subresource}` : resource;
  if (reading) {
    const ok = p.subresource === undefined ? readable.has(resource) : readableSubresources.has(target) && !req.watch;
    return ok ? undefined : forbidden(`the dashboard does not read ${target}`);
  }
  if (p.name !== undefined && writes.has(`${method} ${target}`)) return undefined;
  return forbidden(`the dashboard does not ${method} ${target}${p.name === undefined ? ' collections' : ''}`);
}
