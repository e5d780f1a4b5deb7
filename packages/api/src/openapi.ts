// OpenAPI documents generated from the schemas (./schemas) and the resource table
// (./resources): swagger 2.0 for /openapi/v2 and OpenAPI 3.0 for /openapi/v3. kubectl reads
// them: v3 tells it that PATCH accepts `fieldValidation` (so it validates on the server)
// and where lists merge by key (for `kubectl apply`). Built once, on first use.

import { createHash } from 'node:crypto';
import { apiPrefix, resources, type ResourceInfo } from './resources';
import { definitionNameFor, definitions, type JSONSchema } from './schemas';

type Json = Record<string, unknown>;

interface GVK {
  group: string;
  version: string;
  kind: string;
}

type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'connect';
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface Param {
  name: string;
  in: 'path' | 'query';
  type: 'string' | 'integer' | 'boolean';
  description: string;
  required?: boolean;
}

interface Operation {
  method: Method;
  action: Action;
  operationId: string;
  description: string;
  gvk: GVK;
  params: Param[];
  /** definition name of the request body */
  body?: string;
  /** definition name of the 200 response, or 'text' for plain text */
  response: string;
  consumes?: string[];
  produces?: string[];
}

interface PathItem {
  path: string;
  params: Param[];
  operations: Operation[];
}

const STATUS = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';
const DELETE_OPTIONS = 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions';
const PATCH = 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch';

const q = (name: string, type: Param['type'], description: string): Param => ({ name, in: 'query', type, description });

const pretty = q('pretty', 'string', "If 'true', then the output is pretty printed.");
const writeParams: Param[] = [
  q('dryRun', 'string', 'When present, indicates that modifications should not be persisted. Valid value: All.'),
  q('fieldManager', 'string', 'A name associated with the actor or entity that is making these changes.'),
  q(
    'fieldValidation',
    'string',
    'How the server handles fields it does not know or that are duplicated: Ignore, Warn (the default) or Strict.',
  ),
];
const listParams: Param[] = [
  q('allowWatchBookmarks', 'boolean', 'Requests watch events of type BOOKMARK.'),
  q('continue', 'string', 'The continue token of a previous, limited list.'),
  q('fieldSelector', 'string', 'A selector restricting the returned objects by their fields.'),
  q('labelSelector', 'string', 'A selector restricting the returned objects by their labels.'),
  q('limit', 'integer', 'The maximum number of objects to return.'),
  q('resourceVersion', 'string', 'Which resource versions the request may be served from.'),
  q('resourceVersionMatch', 'string', 'How resourceVersion is applied to list calls.'),
  q('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of events.'),
];
const deleteParams: Param[] = [
  q('dryRun', 'string', 'When present, indicates that modifications should not be persisted. Valid value: All.'),
  q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'),
  q('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy.'),
  q('propagationPolicy', 'string', 'Whether and how garbage collection is performed: Orphan, Background or Foreground.'),
];
const logParams: Param[] = [
  q('container', 'string', 'The container for which to stream logs.'),
  q('follow', 'boolean', 'Follow the log stream of the pod.'),
  q('previous', 'boolean', 'Return previous terminated container logs.'),
  q('sinceSeconds', 'integer', 'Relative time in seconds before now from which to show logs.'),
  q('tailLines', 'integer', 'Number of lines from the end of the logs to show.'),
  q('timestamps', 'boolean', 'Add a timestamp at the beginning of every line.'),
];

/** What pods/exec, pods/attach and pods/portforward take (they are upgraded to streams). */
const stdioParams: Param[] = [
  q('stdin', 'boolean', 'Redirect the standard input stream of the pod for this call.'),
  q('stdout', 'boolean', 'Redirect the standard output stream of the pod for this call.'),
  q('stderr', 'boolean', 'Redirect the standard error stream of the pod for this call.'),
  q('tty', 'boolean', 'Allocate a terminal for this call.'),
];
const connectParams: Record<string, Param[]> = {
  exec: [q('command', 'string', 'The command to execute (repeated for each argument).'), q('container', 'string', 'Container in which to execute the command.'), ...stdioParams],
  attach: [q('container', 'string', 'The container in which to attach.'), ...stdioParams],
  portforward: [q('ports', 'integer', 'List of ports to forward (WebSocket clients).')],
};
const connectKinds: Record<string, string> = { exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions' };

const pathParam = (name: string, description: string): Param => ({ name, in: 'path', type: 'string', description, required: true });
const nameParam = (kind: string) => pathParam('name', `name of the ${kind}`);
const namespaceParam = pathParam('namespace', 'object name and auth scope, such as for teams and projects');

/** What PATCH of a scale takes; objects and their status also take server-side apply. */
const scalePatchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
const patchTypes = [...scalePatchTypes, 'application/apply-patch+yaml'];
const jsonTypes = ['application/json', 'application/yaml'];
const listTypes = [...jsonTypes, 'application/json;stream=watch'];

function coreGVK(kind: string): GVK {
  return { group: '', version: 'v1', kind };
}

/** The part of operation IDs that names the group and version: "CoreV1", "CoordinationV1". */
function operationGroupVersion(r: ResourceInfo): string {
  const group = r.group ? r.group.split('.')[0] : 'core';
  return group[0].toUpperCase() + group.slice(1) + r.version[0].toUpperCase() + r.version.slice(1);
}

/** The tag Kubernetes gives a path's operations: "core_v1", "coordination_v1". */
function tagOf(path: string): string {
  const segs = path.split('/');
  return segs[1] === 'api' ? `core_${segs[2]}` : `${segs[2].split('.')[0]}_${segs[3]}`;
}

function defName(kind: string): string {
  const name = definitionNameFor(kind);
  if (name === undefined) throw new Error(`no schema for kind ${kind}`);
  return name;
}

/** The operations of one resource, grouped by path. */
function resourcePaths(r: ResourceInfo): PathItem[] {
  const items: PathItem[] = [];
  const kind = r.kind;
  const gvk: GVK = { group: r.group, version: r.version, kind };
  const gv = operationGroupVersion(r);
  const def = defName(kind);
  const scope = r.namespaced ? 'Namespaced' : '';
  const prefix = apiPrefix(r);
  const base = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.name}` : `${prefix}/${r.name}`;
  const scopeParams = r.namespaced ? [namespaceParam] : [];
  const has = (v: string) => r.verbs.includes(v);

  const collection: Operation[] = [];
  if (has('list')) {
    collection.push({
      method: 'get',
      action: 'list',
      operationId: `list${gv}${scope}${kind}`,
      description: `list or watch objects of kind ${kind}`,
      gvk,
      params: listParams,
      response: defName(r.listKind),
      produces: listTypes,
    });
  }
  if (has('create')) {
    collection.push({
      method: 'post',
      action: 'post',
      operationId: `create${gv}${scope}${kind}`,
      description: `create a ${kind}`,
      gvk,
      params: writeParams,
      body: def,
      response: def,
    });
  }
  if (has('deletecollection')) {
    collection.push({
      method: 'delete',
      action: 'deletecollection',
      operationId: `delete${gv}Collection${scope}${kind}`,
      description: `delete collection of ${kind}`,
      gvk,
      params: [...deleteParams, ...listParams.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')],
      body: DELETE_OPTIONS,
      response: STATUS,
    });
  }
  if (collection.length) items.push({ path: base, params: [...scopeParams, pretty], operations: collection });

  const item: Operation[] = [];
  if (has('get')) {
    item.push({ method: 'get', action: 'get', operationId: `read${gv}${scope}${kind}`, description: `read the specified ${kind}`, gvk, params: [], response: def });
  }
  if (has('update')) {
    item.push({
      method: 'put',
      action: 'put',
      operationId: `replace${gv}${scope}${kind}`,
      description: `replace the specified ${kind}`,
      gvk,
      params: writeParams,
      body: def,
      response: def,
    });
  }
  if (has('patch')) {
    item.push({
      method: 'patch',
      action: 'patch',
      operationId: `patch${gv}${scope}${kind}`,
      description: `partially update the specified ${kind}`,
      gvk,
      params: [...writeParams, q('force', 'boolean', 'Force is going to "force" Apply requests.')],
      body: PATCH,
      response: def,
      consumes: patchTypes,
    });
  }
  if (has('delete')) {
    item.push({
      method: 'delete',
      action: 'delete',
      operationId: `delete${gv}${scope}${kind}`,
      description: `delete a ${kind}`,
      gvk,
      params: deleteParams,
      body: DELETE_OPTIONS,
      response: def,
    });
  }
  const itemParams = [nameParam(kind), ...scopeParams, pretty];
  if (item.length) items.push({ path: `${base}/{name}`, params: itemParams, operations: item });

  for (const sub of r.subresources) {
    const path = `${base}/{name}/${sub}`;
    if (sub === 'status' || sub === 'ephemeralcontainers') {
      // The object itself, of which the subresource writes one part.
      const [title, what] = sub === 'status' ? ['Status', 'status'] : ['Ephemeralcontainers', 'ephemeralcontainers'];
      items.push({
        path,
        params: itemParams,
        operations: [
          { method: 'get', action: 'get', operationId: `read${gv}${scope}${kind}${title}`, description: `read ${what} of the specified ${kind}`, gvk, params: [], response: def },
          {
            method: 'put',
            action: 'put',
            operationId: `replace${gv}${scope}${kind}${title}`,
            description: `replace ${what} of the specified ${kind}`,
            gvk,
            params: writeParams,
            body: def,
            response: def,
          },
          {
            method: 'patch',
            action: 'patch',
            operationId: `patch${gv}${scope}${kind}${title}`,
            description: `partially update ${what} of the specified ${kind}`,
            gvk,
            params: [...writeParams, q('force', 'boolean', 'Force is going to "force" Apply requests.')],
            body: PATCH,
            response: def,
            consumes: patchTypes,
          },
        ],
      });
    } else if (sub === 'binding') {
      const binding = defName('Binding');
      items.push({
        path,
        params: [pathParam('name', 'name of the Binding'), ...scopeParams, pretty],
        operations: [
          {
            method: 'post',
            action: 'post',
            operationId: `create${gv}${scope}${kind}Binding`,
            description: `create binding of a ${kind}`,
            gvk: coreGVK('Binding'),
            params: writeParams,
            body: binding,
            response: binding,
          },
        ],
      });
    } else if (sub === 'eviction') {
      const eviction = defName('Eviction');
      items.push({
        path,
        params: [pathParam('name', 'name of the Eviction'), ...scopeParams, pretty],
        operations: [
          {
            method: 'post',
            action: 'post',
            operationId: `create${gv}${scope}${kind}Eviction`,
            description: `create eviction of a ${kind}`,
            gvk: { group: 'policy', version: 'v1', kind: 'Eviction' },
            params: writeParams,
            body: eviction,
            response: eviction,
          },
        ],
      });
    } else if (sub === 'log') {
      items.push({
        path,
        params: itemParams,
        operations: [
          {
            method: 'get',
            action: 'get',
            operationId: `read${gv}${scope}${kind}Log`,
            description: `read log of the specified ${kind}`,
            gvk,
            params: logParams,
            response: 'text',
            produces: ['text/plain'],
          },
        ],
      });
    } else if (sub === 'scale') {
      const scale = defName('Scale');
      const scaleGVK: GVK = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
      items.push({
        path,
        params: [pathParam('name', 'name of the Scale'), ...scopeParams, pretty],
        operations: [
          { method: 'get', action: 'get', operationId: `read${gv}${scope}${kind}Scale`, description: `read scale of the specified ${kind}`, gvk: scaleGVK, params: [], response: scale },
          {
            method: 'put',
            action: 'put',
            operationId: `replace${gv}${scope}${kind}Scale`,
            description: `replace scale of the specified ${kind}`,
            gvk: scaleGVK,
            params: writeParams,
            body: scale,
            response: scale,
          },
          {
            method: 'patch',
            action: 'patch',
            operationId: `patch${gv}${scope}${kind}Scale`,
            description: `partially update scale of the specified ${kind}`,
            gvk: scaleGVK,
            params: writeParams,
            body: PATCH,
            response: scale,
            consumes: scalePatchTypes,
          },
        ],
      });
    } else if (sub === 'token') {
      const tokenRequest = defName('TokenRequest');
      items.push({
        path,
        params: [pathParam('name', 'name of the TokenRequest'), ...scopeParams, pretty],
        operations: [
          {
            method: 'post',
            action: 'post',
            operationId: `create${gv}${scope}${kind}Token`,
            description: `create token of a ${kind}`,
            gvk: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
            params: writeParams,
            body: tokenRequest,
            response: tokenRequest,
          },
        ],
      });
    } else if (connectParams[sub]) {
      const title = sub === 'portforward' ? 'Portforward' : sub[0].toUpperCase() + sub.slice(1);
      const operation = (method: 'get' | 'post'): Operation => ({
        method,
        action: 'connect',
        operationId: `connectCoreV1${method === 'get' ? 'Get' : 'Post'}${scope}${kind}${title}`,
        description: `connect ${method.toUpperCase()} requests to ${sub} of ${kind}`,
        gvk: coreGVK(connectKinds[sub]),
        params: connectParams[sub],
        response: 'text',
        produces: ['*/*'],
      });
      items.push({ path, params: [pathParam('name', `name of the ${connectKinds[sub]}`), ...scopeParams], operations: [operation('get'), operation('post')] });
    } else {
      throw new Error(`no OpenAPI description for subresource ${r.name}/${sub}`);
    }
  }

  if (r.namespaced && has('list')) {
    items.push({
      path: `${prefix}/${r.name}`,
      params: [pretty],
      operations: [
        {
          method: 'get',
          action: 'list',
          operationId: `list${gv}${kind}ForAllNamespaces`,
          description: `list or watch objects of kind ${kind} in every namespace`,
          gvk,
          params: listParams,
          response: defName(r.listKind),
          produces: listTypes,
        },
      ],
    });
  }
  return items;
}

let pathItems: PathItem[] | undefined;

function allPaths(): PathItem[] {
  pathItems ??= resources.flatMap(resourcePaths);
  return pathItems;
}

/** A deep copy of a schema with its references pointed elsewhere and its nodes rewritten. */
function rewriteSchema(s: unknown, refPrefix: string, node: (n: Json) => Json): unknown {
  if (Array.isArray(s)) return s.map((x) => rewriteSchema(x, refPrefix, node));
  if (typeof s !== 'object' || s === null) return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    out[k] = k === '$ref' && typeof v === 'string' ? refPrefix + v.slice('#/definitions/'.length) : rewriteSchema(v, refPrefix, node);
  }
  return node(out);
}

/** Swagger 2.0 has no anyOf: int-or-string values are strings of format int-or-string, as Kubernetes publishes them. */
function v2Node(n: Json): Json {
  if (n['x-kubernetes-int-or-string'] === true && Array.isArray(n.anyOf)) {
    const rest = { ...n };
    delete rest.anyOf;
    const hasInteger = (n.anyOf as Json[]).some((a) => a.type === 'integer');
    return hasInteger ? { ...rest, type: 'string', format: 'int-or-string' } : { ...rest, type: 'string' };
  }
  return n;
}

/**
 * OpenAPI 3.0 ignores what sits beside a $ref: a field that refers to a type and has its own
 * description refers to it through allOf, as Kubernetes publishes it (kubectl explain reads both).
 */
function v3Node(n: Json): Json {
  if (typeof n.$ref !== 'string' || Object.keys(n).length === 1) return n;
  const { $ref, ...rest } = n;
  return { ...rest, allOf: [{ $ref }] };
}

function gvkExtension(gvk: GVK): Json {
  return { group: gvk.group, version: gvk.version, kind: gvk.kind };
}

function swaggerParam(p: Param): Json {
  const out: Json = { name: p.name, in: p.in, type: p.type, description: p.description, uniqueItems: true };
  if (p.required) out.required = true;
  return out;
}

function swaggerOperation(op: Operation, tag: string): Json {
  const params = op.params.map(swaggerParam);
  if (op.body) params.unshift({ name: 'body', in: 'body', required: op.method !== 'delete', schema: { $ref: `#/definitions/${op.body}` } });
  const ok: Json = op.response === 'text' ? { description: 'OK', schema: { type: 'string' } } : { description: 'OK', schema: { $ref: `#/definitions/${op.response}` } };
  const responses: Json = { '200': ok, '401': { description: 'Unauthorized' } };
  if (op.method === 'post') responses['201'] = { ...ok, description: 'Created' };
  if (op.method === 'post' || op.method === 'delete') responses['202'] = { ...ok, description: 'Accepted' };
  return {
    description: op.description,
    consumes: op.consumes ?? ['*/*'],
    produces: op.produces ?? jsonTypes,
    schemes: ['https'],
    tags: [tag],
    operationId: op.operationId,
    parameters: params,
    responses,
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': gvkExtension(op.gvk),
  };
}

let v2: Json | undefined;

/** The swagger 2.0 document served at /openapi/v2. */
export function openapiV2(): Json {
  if (v2) return v2;
  const paths: Json = {};
  for (const item of allPaths()) {
    const entry: Json = { parameters: item.params.map(swaggerParam) };
    for (const op of item.operations) entry[op.method] = swaggerOperation(op, tagOf(item.path));
    paths[item.path] = entry;
  }
  v2 = {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    definitions: rewriteSchema(definitions, '#/definitions/', v2Node),
    securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } },
    security: [{ BearerToken: [] }],
  };
  return v2;
}

function v3Param(p: Param): Json {
  const out: Json = { name: p.name, in: p.in, description: p.description, schema: { type: p.type, uniqueItems: true } };
  if (p.required) out.required = true;
  return out;
}

function v3Content(types: string[], schema: Json): Json {
  return Object.fromEntries(types.map((t) => [t, { schema }]));
}

function v3Operation(op: Operation, tag: string): Json {
  const responseSchema = op.response === 'text' ? { type: 'string' } : { $ref: `#/components/schemas/${op.response}` };
  const content = v3Content(op.produces ?? jsonTypes, responseSchema);
  const responses: Json = { '200': { description: 'OK', content }, '401': { description: 'Unauthorized' } };
  if (op.method === 'post') responses['201'] = { description: 'Created', content };
  if (op.method === 'post' || op.method === 'delete') responses['202'] = { description: 'Accepted', content };
  const out: Json = {
    tags: [tag],
    description: op.description,
    operationId: op.operationId,
    parameters: op.params.map(v3Param),
    responses,
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': gvkExtension(op.gvk),
  };
  if (op.body) {
    out.requestBody = {
      content: v3Content(op.consumes ?? ['*/*'], { $ref: `#/components/schemas/${op.body}` }),
      required: op.method !== 'delete',
    };
  }
  return out;
}

const v3Documents = new Map<string, { doc: Json; hash: string }>();

/** Where a path's group-version document is, relative to /openapi/v3: "api/v1", "apis/coordination.k8s.io/v1". */
function groupVersionPath(path: string): string {
  const segs = path.split('/');
  return segs[1] === 'api' ? segs.slice(1, 3).join('/') : segs.slice(1, 4).join('/');
}

function v3Document(gvPath: string): { doc: Json; hash: string } | undefined {
  const cached = v3Documents.get(gvPath);
  if (cached) return cached;
  const paths: Json = {};
  for (const item of allPaths()) {
    if (groupVersionPath(item.path) !== gvPath) continue;
    const entry: Json = { parameters: item.params.map(v3Param) };
    for (const op of item.operations) entry[op.method] = v3Operation(op, tagOf(item.path));
    paths[item.path] = entry;
  }
  if (Object.keys(paths).length === 0) return undefined;
  const doc: Json = {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    components: {
      schemas: rewriteSchema(definitions, '#/components/schemas/', v3Node) as Record<string, JSONSchema>,
      securitySchemes: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } },
    },
    security: [{ BearerToken: [] }],
  };
  const built = { doc, hash: createHash('sha256').update(JSON.stringify(doc)).digest('hex').toUpperCase() };
  v3Documents.set(gvPath, built);
  return built;
}

/** The OpenAPI 3.0 document of one group-version ("api/v1", "apis/coordination.k8s.io/v1"), or undefined if none is served. */
export function openapiV3(gvPath: string): Json | undefined {
  return v3Document(gvPath)?.doc;
}

/** The /openapi/v3 index: where each group-version document is, with a hash that changes when it does. */
export function openapiV3Root(): Json {
  const paths: Json = {};
  for (const gvPath of new Set(allPaths().map((item) => groupVersionPath(item.path)))) {
    paths[gvPath] = { serverRelativeURL: `/openapi/v3/${gvPath}?hash=${v3Document(gvPath)!.hash}` };
  }
  return { paths };
}
