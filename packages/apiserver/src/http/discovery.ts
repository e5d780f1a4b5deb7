import type { Response, Router } from 'express';
import express from 'express';
import { failureStatus, groupVersion, openapiV2, openapiV2Protobuf, openapiV2ProtobufAccepted, openapiV2ProtobufMediaType, openapiV3, openapiV3Root, resources } from '@peapod/api';
import { jsonMediaTypes, parseAccept } from './negotiation';

export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-peapod.0.1.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-25T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

const subresourceVerbs: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  binding: ['create'],
  log: ['get'],
  scale: ['get', 'patch', 'update'],
  token: ['create'],
  eviction: ['create'],
  exec: ['create', 'get'],
  attach: ['create', 'get'],
  portforward: ['create', 'get'],
  ephemeralcontainers: ['get', 'patch', 'update'],
};
const subresourceKinds: Record<string, string> = {
  binding: 'Binding',
  scale: 'Scale',
  token: 'TokenRequest',
  eviction: 'Eviction',
  exec: 'PodExecOptions',
  attach: 'PodAttachOptions',
  portforward: 'PodPortForwardOptions',
};
// A subresource whose body is of another group names that group-version; kubectl drain finds
// the eviction API by the policy/v1 on pods/eviction.
const subresourceGroups: Record<string, { group: string; version: string }> = {
  scale: { group: 'autoscaling', version: 'v1' },
  token: { group: 'authentication.k8s.io', version: 'v1' },
  eviction: { group: 'policy', version: 'v1' },
};

/** A create-only review (nothing stored) served outside the generic resource handler. */
function review(name: string, kind: string): unknown {
  return { name, singularName: kind.toLowerCase(), namespaced: false, kind, verbs: ['create'] };
}

/** Resources served outside the generic resource handler, by group-version. */
const extraResources: Record<string, unknown[]> = {
  'authentication.k8s.io/v1': [review('selfsubjectreviews', 'SelfSubjectReview'), review('tokenreviews', 'TokenReview')],
  'authorization.k8s.io/v1': [
    review('selfsubjectaccessreviews', 'SelfSubjectAccessReview'),
    review('selfsubjectrulesreviews', 'SelfSubjectRulesReview'),
    review('subjectaccessreviews', 'SubjectAccessReview'),
  ],
};

/** Every group-version served, core ("v1") first, each with the resources of the table in it. */
function groupVersions(): string[] {
  return [...new Set([...resources.map(groupVersion), ...Object.keys(extraResources)])];
}

/** The APIResourceList of a group-version: what kubectl api-resources and every client's RESTMapper read. */
export function apiResourceList(gv = 'v1'): unknown {
  const list: unknown[] = [];
  for (const r of resources) {
    if (groupVersion(r) !== gv) continue;
    list.push({
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    });
    for (const sub of r.subresources) {
      list.push({
        name: `${r.name}/${sub}`,
        singularName: '',
        namespaced: r.namespaced,
        ...subresourceGroups[sub],
        kind: subresourceKinds[sub] ?? r.kind,
        verbs: subresourceVerbs[sub] ?? ['get'],
      });
    }
  }
  list.push(...(extraResources[gv] ?? []));
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources: list };
}

/** The APIGroup of a named group: its versions, the first preferred. */
function apiGroup(name: string): unknown {
  const versions = groupVersions()
    .filter((gv) => gv.startsWith(`${name}/`))
    .map((gv) => ({ groupVersion: gv, version: gv.slice(name.length + 1) }));
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions, preferredVersion: versions[0] };
}

function sendJson(res: Response, body: unknown): void {
  res.status(200).type('application/json').send(JSON.stringify(body));
}

/** Version, discovery and OpenAPI endpoints. */
export function discoveryRouter(): Router {
  const r = express.Router();
  r.get('/version', (_req, res) => sendJson(res, serverVersion));
  r.get('/api', (req, res) =>
    sendJson(res, {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: req.socket.localAddress + ':' + req.socket.localPort }],
    }),
  );
  for (const gv of groupVersions()) {
    const text = JSON.stringify(apiResourceList(gv));
    r.get(gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`, (_req, res) => res.status(200).type('application/json').send(text));
  }
  const groupNames = [...new Set(groupVersions().filter((gv) => gv.includes('/')).map((gv) => gv.slice(0, gv.indexOf('/'))))];
  r.get('/apis', (_req, res) => sendJson(res, { kind: 'APIGroupList', apiVersion: 'v1', groups: groupNames.map(apiGroup) }));
  for (const name of groupNames) r.get(`/apis/${name}`, (_req, res) => sendJson(res, apiGroup(name)));
  r.get('/openapi/v2', (req, res) => {
    // client-go and kubectl ask for gnostic's protobuf Document; others for the JSON.
    const ranges = parseAccept(req.headers.accept);
    const json = ranges.findIndex((m) => jsonMediaTypes.has(m.type));
    const protobuf = ranges.findIndex((m) => openapiV2ProtobufAccepted.includes(m.type));
    if (protobuf >= 0 && (json < 0 || protobuf < json)) {
      res.status(200).type(openapiV2ProtobufMediaType).send(openapiV2Protobuf());
    } else if (json >= 0 || ranges.length === 0) {
      sendJson(res, openapiV2());
    } else {
      res.status(406).type('application/json').send(
        JSON.stringify(failureStatus(406, `only application/json and ${openapiV2ProtobufMediaType} are served`, { reason: 'NotAcceptable' })),
      );
    }
  });
  r.get('/openapi/v3', (_req, res) => sendJson(res, openapiV3Root()));
  r.get(/^\/openapi\/v3\/(apis?\/.+)$/, (req, res, next) => {
    const doc = openapiV3((req.params as Record<string, string>)[0]);
    if (!doc) return next();
    res.setHeader('Cache-Control', 'public, immutable');
    sendJson(res, doc);
  });
  return r;
}
