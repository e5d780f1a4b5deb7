// The resources the API serves: one table that routing, discovery, the client and the
// CLI all read, so a resource is described in exactly one place.

export interface ResourceInfo {
  /** plural, as in the URL: "pods" */
  name: string;
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
    singularName: 'pod',
    kind: 'Pod',
    listKind: 'PodList',
    namespaced: true,
    shortNames: ['po'],
    verbs: allVerbs,
    subresources: ['status', 'binding', 'log'],
    categories: ['all'],
  },
  {
    name: 'nodes',
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
    singularName: 'binding',
    kind: 'Binding',
    listKind: 'BindingList',
    namespaced: true,
    shortNames: [],
    verbs: ['create'],
    subresources: [],
  },
];

const byAnyName = new Map<string, ResourceInfo>();
for (const r of resources) {
  for (const n of [r.name, r.singularName, r.kind.toLowerCase(), ...r.shortNames]) byAnyName.set(n, r);
}

/** Finds a resource by plural, singular, kind or short name ("po", "pod", "Pod", "pods"). */
export function findResource(name: string): ResourceInfo | undefined {
  return byAnyName.get(name.toLowerCase());
}

export function resourceForKind(kind: string): ResourceInfo | undefined {
  return resources.find((r) => r.kind === kind);
}
