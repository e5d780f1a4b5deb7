// The one authorizer: every request is checked here, and the access reviews
// (SelfSubjectAccessReview, SubjectAccessReview) ask it the same questions, so what
// `kubectl auth can-i` answers is what the request itself gets.

import { configMapsOf, nodeLeaseNamespace, secretsOf, type Pod } from '@peapod/api';
import { selectableOf, type Store } from '../storage/types';
import type { RbacPolicy } from './rbac-policy';
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
  /** The node a stored pod is bound to ('' when it is not); undefined when there is no such pod. */
  nodeOf(namespace: string, name: string): string | undefined;
  /** The pods of a namespace bound to `node`. */
  podsOnNode(namespace: string, node: string): Pod[];
}

/** The stored pods as this server last heard of them (Kubernetes' node authorizer graph is fed by informers too). */
export function storePodLookup(store: Store): PodLookup {
  return {
    nodeOf: (namespace, name) => {
      const entry = store.cache.get(`/pods/${namespace}/${name}`);
      return entry && ((selectableOf(entry) as Pod).spec.nodeName ?? '');
    },
    podsOnNode: (namespace, node) => store.cache.list(`/pods/${namespace}/`, { filter: (o) => (o as Pod).spec.nodeName === node }).items.map((e) => e.object as Pod),
  };
}

export const nodeUserPrefix = 'system:node:';

/** Kubernetes' wording: `pods "web" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace "default"`. */
function forbiddenMessage(user: UserInfo, a: RequestAttributes, why?: string): string {
  const group = a.group ?? '';
  const qualified = group ? `${a.resource}.${group}` : a.resource;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const sub = a.subresource ? ` subresource "${a.subresource}"` : '';
  const scope = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return `${subject} is forbidden: User "${user.name}" cannot ${a.verb} resource "${a.resource}"${sub} in API group "${group}"${scope}${why ? `: ${why}` : ''}`;
}

/** The privileged group: its members may do anything, whatever RBAC holds (Kubernetes' system:masters). */
export const mastersGroup = 'system:masters';

/**
 * The authorizer chain, as Kubernetes runs it: system:masters may do anything; then the node
 * authorizer lets a node (system:node:NAME in system:nodes) act on its own Node, its own Lease
 * and the pods bound to it and read what they reference; then RBAC, from the stored roles and
 * bindings (the defaults give every component and every authenticated user what they need).
 */
export class Authorizer {
  constructor(
    readonly rbac: RbacPolicy,
    private readonly pods: PodLookup,
  ) {}

  authorize(user: UserInfo, a: RequestAttributes): Decision {
    if (user.groups.includes(mastersGroup)) return { allowed: true };
    const group = a.group ?? '';
    let why: string | undefined;
    if (user.groups.includes('system:nodes') && user.name.startsWith(nodeUserPrefix)) {
      const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
      if (authorizeNode(user.name.slice(nodeUserPrefix.length), a, group, resource, this.pods)) return { allowed: true };
      why = 'a node may only act on itself, its lease and the pods bound to it';
    }
    const request = { verb: a.verb, group, resource: a.resource, subresource: a.subresource, name: a.name };
    if (this.rbac.allows(user, a.namespace, request)) return { allowed: true };
    return { allowed: false, ...(why ? { reason: why } : {}), message: forbiddenMessage(user, a, why) };
  }

  /** Requests for paths that name no resource (discovery, health, metrics): masters anything, others what RBAC grants. */
  authorizeNonResource(user: UserInfo, a: NonResourceAttributes): Decision {
    if (user.groups.includes(mastersGroup) || this.rbac.allowsNonResource(user, a.verb, a.path)) return { allowed: true };
    return { allowed: false, message: `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"` };
  }
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
      return ['get', 'list', 'watch'].includes(a.verb);
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
  const bound = pods.nodeOf(a.namespace, a.name);
  return bound === undefined || bound === node;
}

/** A pod of the object's namespace, bound to this node, names it (Kubernetes' node authorizer graph, looked up). */
function referencedByPodOn(node: string, a: RequestAttributes, pods: PodLookup, names: (pod: Pod) => string[]): boolean {
  if (!a.namespace || !a.name) return false;
  return pods.podsOnNode(a.namespace, node).some((pod) => names(pod).includes(a.name!));
}
