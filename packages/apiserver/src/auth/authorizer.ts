// The one authorizer: every request is checked here, and the access reviews
// (SelfSubjectAccessReview, SubjectAccessReview) ask it the same questions, so what
// `kubectl auth can-i` answers is what the request itself gets.

import { configMapsOf, nodeLeaseNamespace, secretsOf, type Pod } from '@peapod/api';
import type { UserInfo } from './tokens';

export interface RequestAttributes {
  verb: string;
  /** API group: '' (or absent) for the core group */
  group?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** the fieldSelector of a list or watch */
  fieldSelector?: string;
}

/** A request that names no resource: discovery, health, /metrics. */
export interface NonResourceAttributes {
  verb: string;
  path: string;
}

export interface Decision {
  allowed: boolean;
  /** why, in a few words (an access review's status.reason); only some denials have one */
  reason?: string;
  /** the 403 message a denied request gets */
  message?: string;
}

/** What the node authorizer needs to know about stored pods. */
export interface PodLookup {
  pod(namespace: string, name: string): Pod | undefined;
  /** The pods of a namespace bound to `node`. */
  podsOnNode(namespace: string, node: string): Pod[];
}

/** Verbs on resources of a group (the core group when unset); with `namespaces`, only on objects in those namespaces. */
type Rule = { group?: string; resources: string[]; verbs: string[]; namespaces?: string[] };

const read = ['get', 'list', 'watch'];

/** The leader election lease of the scheduler and the controller manager. */
const leaderLease: Rule = { group: 'coordination.k8s.io', resources: ['leases'], verbs: ['get', 'create', 'update'], namespaces: ['kube-system'] };

/** Built-in roles of the components, as Kubernetes' bootstrap policy grants them. */
const componentRules: Record<string, Rule[]> = {
  'system:kube-scheduler': [
    { resources: ['pods', 'nodes', 'namespaces', 'replicationcontrollers'], verbs: read },
    { resources: ['pods/binding', 'bindings'], verbs: ['create'] },
    { resources: ['pods/status'], verbs: ['patch', 'update'] },
    { resources: ['events'], verbs: ['create', 'patch', 'update'] },
    leaderLease,
  ],
  'system:kube-controller-manager': [
    leaderLease,
    { resources: ['pods'], verbs: [...read, 'create', 'delete', 'deletecollection', 'patch', 'update'] },
    { resources: ['pods/status'], verbs: ['patch', 'update'] },
    { resources: ['replicationcontrollers'], verbs: [...read, 'patch', 'update'] },
    { resources: ['replicationcontrollers/status', 'replicationcontrollers/scale'], verbs: ['get', 'patch', 'update'] },
    { resources: ['nodes'], verbs: [...read, 'patch', 'update'] },
    { resources: ['nodes/status'], verbs: ['patch', 'update'] },
    { resources: ['namespaces'], verbs: read },
    { resources: ['events'], verbs: ['create', 'patch', 'update'] },
    { resources: ['services'], verbs: read },
    { resources: ['endpoints'], verbs: [...read, 'create', 'delete', 'patch', 'update'] },
    { group: 'discovery.k8s.io', resources: ['endpointslices'], verbs: [...read, 'create', 'delete', 'patch', 'update'] },
    // The garbage collector, as Kubernetes' generic-garbage-collector role: any resource it finds
    // owned (the node lifecycle controller's reads of node leases among them).
    { group: '*', resources: ['*'], verbs: [...read, 'patch', 'update', 'delete'] },
    // every namespace's `default` service account and kube-root-ca.crt
    { resources: ['serviceaccounts'], verbs: [...read, 'create'] },
    { resources: ['configmaps'], verbs: [...read, 'create', 'update'] },
  ],
  // The service proxy on each node (Kubernetes' system:node-proxier role).
  'system:kube-proxy': [
    { resources: ['services', 'endpoints', 'nodes'], verbs: read },
    { group: 'discovery.k8s.io', resources: ['endpointslices'], verbs: read },
    { resources: ['events'], verbs: ['create', 'patch', 'update'] },
  ],
  // The cluster DNS: reads what it answers for; keeps its own kube-dns service and endpoints.
  'system:kube-dns': [
    { resources: ['services', 'endpoints', 'namespaces'], verbs: read },
    { group: 'discovery.k8s.io', resources: ['endpointslices'], verbs: read },
    { resources: ['services', 'endpoints'], verbs: ['create', 'delete', 'patch', 'update'], namespaces: ['kube-system'] },
    { group: 'discovery.k8s.io', resources: ['endpointslices'], verbs: ['create', 'delete', 'patch', 'update'], namespaces: ['kube-system'] },
  ],
};

/** What every authenticated user may do (Kubernetes' system:basic-user): ask about itself. */
const basicUserRules: Rule[] = [
  { group: 'authentication.k8s.io', resources: ['selfsubjectreviews'], verbs: ['create'] },
  { group: 'authorization.k8s.io', resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
];

/** Paths every authenticated user may read (system:discovery and system:public-info-viewer); "/x/*" covers what is under /x. */
const discoveryPaths = ['/api', '/api/*', '/apis', '/apis/*', '/openapi/*', '/version', '/healthz', '/livez', '/readyz'];

export const nodeUserPrefix = 'system:node:';

function matches(rules: Rule[], group: string, resource: string, a: RequestAttributes): boolean {
  return rules.some(
    (r) =>
      (r.group === '*' || (r.group ?? '') === group) &&
      (r.resources.includes(resource) || r.resources.includes('*')) &&
      r.verbs.includes(a.verb) &&
      (r.namespaces === undefined || (a.namespace !== undefined && r.namespaces.includes(a.namespace))),
  );
}

/** Kubernetes' wording: `pods "web" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace "default"`. */
function forbiddenMessage(user: UserInfo, a: RequestAttributes, why?: string): string {
  const group = a.group ?? '';
  const qualified = group ? `${a.resource}.${group}` : a.resource;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const sub = a.subresource ? ` subresource "${a.subresource}"` : '';
  const scope = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return `${subject} is forbidden: User "${user.name}" cannot ${a.verb} resource "${a.resource}"${sub} in API group "${group}"${scope}${why ? `: ${why}` : ''}`;
}

/**
 * Decides what a user may do: system:masters anything; the scheduler and controller
 * manager their roles; a node (system:node:NAME in system:nodes) only its own Node, its
 * own Lease and the pods bound to it, as Kubernetes' Node authorizer allows; everyone may
 * ask who they are and what they may do.
 */
export function authorize(user: UserInfo, a: RequestAttributes, pods: PodLookup): Decision {
  if (user.groups.includes('system:masters')) return { allowed: true };
  const group = a.group ?? '';
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  if (matches(basicUserRules, group, resource, a)) return { allowed: true };
  const denied = (why?: string): Decision => ({ allowed: false, ...(why ? { reason: why } : {}), message: forbiddenMessage(user, a, why) });
  const rules = componentRules[user.name];
  if (rules) return matches(rules, group, resource, a) ? { allowed: true } : denied();
  if (user.groups.includes('system:nodes') && user.name.startsWith(nodeUserPrefix)) {
    return authorizeNode(user.name.slice(nodeUserPrefix.length), a, group, resource, pods)
      ? { allowed: true }
      : denied('a node may only act on itself, its lease and the pods bound to it');
  }
  return denied();
}

/** Requests for paths that name no resource: masters anything, everyone discovery and health. */
export function authorizeNonResource(user: UserInfo, a: NonResourceAttributes): Decision {
  if (user.groups.includes('system:masters')) return { allowed: true };
  const allowed = (a.verb === 'get' || a.verb === 'head') && discoveryPaths.some((p) => (p.endsWith('/*') ? a.path.startsWith(p.slice(0, -1)) : a.path === p));
  return allowed ? { allowed: true } : { allowed: false, message: `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"` };
}

function authorizeNode(node: string, a: RequestAttributes, group: string, resource: string, pods: PodLookup): boolean {
  // A create names its object in the body, which the caller checks; a name given here must be the node's own.
  const ownName = a.name === node || (a.verb === 'create' && a.name === undefined);
  if (group === 'coordination.k8s.io') {
    return resource === 'leases' && a.namespace === nodeLeaseNamespace && ['get', 'create', 'update', 'patch'].includes(a.verb) && ownName;
  }
  if (group === 'authentication.k8s.io') return resource === 'tokenreviews' && a.verb === 'create';
  if (group !== '') return false;
  switch (resource) {
    case 'nodes':
      if (a.verb === 'list' || a.verb === 'watch') return a.fieldSelector === `metadata.name=${node}`;
      return ['get', 'create', 'update', 'patch'].includes(a.verb) && ownName;
    case 'nodes/status':
      return ['get', 'update', 'patch'].includes(a.verb) && a.name === node;
    case 'pods':
      if (a.verb === 'list' || a.verb === 'watch') return (a.fieldSelector ?? '').split(',').includes(`spec.nodeName=${node}`);
      if (a.verb === 'get' || a.verb === 'delete') return boundTo(node, a, pods);
      return false;
    case 'pods/status':
      return ['get', 'update', 'patch'].includes(a.verb) && boundTo(node, a, pods);
    case 'events':
      return ['create', 'patch', 'update'].includes(a.verb);
    case 'namespaces':
      return a.verb === 'get';
    case 'services':
      // service variables of the pods' environment, as the kubelet reads them
      return read.includes(a.verb);
    case 'configmaps':
    case 'secrets':
      return a.verb === 'get' && referencedByPodOn(node, a, pods, resource === 'configmaps' ? configMapsOf : secretsOf);
    case 'serviceaccounts/token':
      return a.verb === 'create' && referencedByPodOn(node, a, pods, (pod) => [pod.spec.serviceAccountName ?? 'default']);
    default:
      return false;
  }
}

/**
 * The pod is bound to this node. A pod that no longer exists passes, so that the request
 * gets its 404 (an agent finishing with a deleted pod must hear that it is gone, not
 * retry a 403); that tells a node only whether a name is in use.
 */
function boundTo(node: string, a: RequestAttributes, pods: PodLookup): boolean {
  if (!a.namespace || !a.name) return false;
  const pod = pods.pod(a.namespace, a.name);
  return !pod || pod.spec.nodeName === node;
}

/** A pod of the object's namespace, bound to this node, names it (Kubernetes' node authorizer graph, looked up). */
function referencedByPodOn(node: string, a: RequestAttributes, pods: PodLookup, names: (pod: Pod) => string[]): boolean {
  if (!a.namespace || !a.name) return false;
  return pods.podsOnNode(a.namespace, node).some((pod) => names(pod).includes(a.name!));
}
