import type { Node, Taint } from './types';

// The resources the API serves: one table that routing, discovery, the client and the
// CLI all read, so a resource is described in exactly one place.

export interface ResourceInfo {
  /** plural, as in the URL: "pods" */
  name: string;
  /** API group: '' for the core group (served under /api/v1), else served under /apis/{group}/{version} */
  group: string;
  version: string;
  singularName: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  /** subresources served under /{name}/{sub} */
  subresources: string[];
  categories?: string[];
}

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const resources: readonly ResourceInfo[] = [
  {
    name: 'namespaces',
    group: '',
    version: 'v1',
    singularName: 'namespace',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: ['status'],
  },
  {
    name: 'pods',
    group: '',
    version: 'v1',
    singularName: 'pod',
    kind: 'Pod',
    listKind: 'PodList',
    namespaced: true,
    shortNames: ['po'],
    verbs: allVerbs,
    subresources: ['status', 'binding', 'log', 'eviction', 'exec', 'attach', 'portforward', 'ephemeralcontainers'],
    categories: ['all'],
  },
  {
    name: 'nodes',
    group: '',
    version: 'v1',
    singularName: 'node',
    kind: 'Node',
    listKind: 'NodeList',
    namespaced: false,
    shortNames: ['no'],
    verbs: allVerbs,
    subresources: ['status'],
  },
  {
    name: 'events',
    group: '',
    version: 'v1',
    singularName: 'event',
    kind: 'Event',
    listKind: 'EventList',
    namespaced: true,
    shortNames: ['ev'],
    verbs: allVerbs,
    subresources: [],
  },
  {
    name: 'replicationcontrollers',
    group: '',
    version: 'v1',
    singularName: 'replicationcontroller',
    kind: 'ReplicationController',
    listKind: 'ReplicationControllerList',
    namespaced: true,
    shortNames: ['rc'],
    verbs: allVerbs,
    subresources: ['status', 'scale'],
    categories: ['all'],
  },
  {
    name: 'bindings',
    group: '',
    version: 'v1',
    singularName: 'binding',
    kind: 'Binding',
    listKind: 'BindingList',
    namespaced: true,
    shortNames: [],
    verbs: ['create'],
    subresources: [],
  },
  {
    name: 'services',
    group: '',
    version: 'v1',
    singularName: 'service',
    kind: 'Service',
    listKind: 'ServiceList',
    namespaced: true,
    shortNames: ['svc'],
    verbs: allVerbs,
    subresources: ['status'],
    categories: ['all'],
  },
  {
    name: 'endpoints',
    group: '',
    version: 'v1',
    singularName: 'endpoints',
    kind: 'Endpoints',
    listKind: 'EndpointsList',
    namespaced: true,
    shortNames: ['ep'],
    verbs: allVerbs,
    subresources: [],
  },
  {
    name: 'configmaps',
    group: '',
    version: 'v1',
    singularName: 'configmap',
    kind: 'ConfigMap',
    listKind: 'ConfigMapList',
    namespaced: true,
    shortNames: ['cm'],
    verbs: allVerbs,
    subresources: [],
  },
  {
    name: 'secrets',
    group: '',
    version: 'v1',
    singularName: 'secret',
    kind: 'Secret',
    listKind: 'SecretList',
    namespaced: true,
    shortNames: [],
    verbs: allVerbs,
    subresources: [],
  },
  {
    name: 'serviceaccounts',
    group: '',
    version: 'v1',
    singularName: 'serviceaccount',
    kind: 'ServiceAccount',
    listKind: 'ServiceAccountList',
    namespaced: true,
    shortNames: ['sa'],
    verbs: allVerbs,
    // token: POST an authentication.k8s.io/v1 TokenRequest, get it back with a signed token
    subresources: ['token'],
  },
  {
    name: 'leases',
    group: 'coordination.k8s.io',
    version: 'v1',
    singularName: 'lease',
    kind: 'Lease',
    listKind: 'LeaseList',
    namespaced: true,
    shortNames: [],
    verbs: allVerbs,
    subresources: [],
  },
  {
    name: 'endpointslices',
    group: 'discovery.k8s.io',
    version: 'v1',
    singularName: 'endpointslice',
    kind: 'EndpointSlice',
    listKind: 'EndpointSliceList',
    namespaced: true,
    shortNames: [],
    verbs: allVerbs,
    subresources: [],
  },
  {
    name: 'roles',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    singularName: 'role',
    kind: 'Role',
    listKind: 'RoleList',
    namespaced: true,
    shortNames: [],
    verbs: allVerbs,
    subresources: [],
  },
  {
    name: 'clusterroles',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    singularName: 'clusterrole',
    kind: 'ClusterRole',
    listKind: 'ClusterRoleList',
    namespaced: false,
    shortNames: [],
    verbs: allVerbs,
    subresources: [],
  },
  {
    name: 'rolebindings',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    singularName: 'rolebinding',
    kind: 'RoleBinding',
    listKind: 'RoleBindingList',
    namespaced: true,
    shortNames: [],
    verbs: allVerbs,
    subresources: [],
  },
  {
    name: 'clusterrolebindings',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    singularName: 'clusterrolebinding',
    kind: 'ClusterRoleBinding',
    listKind: 'ClusterRoleBindingList',
    namespaced: false,
    shortNames: [],
    verbs: allVerbs,
    subresources: [],
  },
];

/** "v1" for the core group, "group/version" for the others: an object's apiVersion. */
export function groupVersion(r: Pick<ResourceInfo, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The URL path every request about the resource starts with: /api/v1 or /apis/{group}/{version}. */
export function apiPrefix(r: Pick<ResourceInfo, 'group' | 'version'>): string {
  return r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
}

const byAnyName = new Map<string, ResourceInfo>();
for (const r of resources) {
  for (const n of [r.name, r.singularName, r.kind.toLowerCase(), ...r.shortNames]) {
    byAnyName.set(n, r);
    // kubectl's fully qualified form: "leases.coordination.k8s.io"
    if (r.group) byAnyName.set(`${n}.${r.group}`, r);
  }
}

/** Finds a resource by plural, singular, kind or short name ("po", "pod", "Pod", "pods"), optionally qualified by its group. */
export function findResource(name: string): ResourceInfo | undefined {
  return byAnyName.get(name.toLowerCase());
}

export function resourceForKind(kind: string): ResourceInfo | undefined {
  return resources.find((r) => r.kind === kind);
}

/** Where each node's Lease (its heartbeat) lives, named after the node. */
export const nodeLeaseNamespace = 'kube-node-lease';

/** The taint of a node whose heartbeats stopped; with effect NoExecute it starts its pods' eviction. */
export const unreachableTaintKey = 'node.kubernetes.io/unreachable';

/** The node's unreachable NoExecute taint, if it has it. */
export function unreachableTaint(node: Node): Taint | undefined {
  return node.spec?.taints?.find((t) => t.key === unreachableTaintKey && t.effect === 'NoExecute');
}
