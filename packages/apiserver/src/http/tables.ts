import {
  EndpointSlice,
  Endpoints,
  ConfigMap,
  Event,
  formatAge,
  formatSelector,
  KubeObject,
  Lease,
  Namespace,
  Node,
  nodeDisplayStatus,
  Pod,
  podDisplayStatus,
  podLastRestart,
  ReplicationController,
  RoleBinding,
  Secret,
  ServiceAccount,
  podReadyCount,
  podRestarts,
  Service,
  servicePortsText,
} from '@peapod/api';

/** What a request's Accept header asked for. */
export interface TableRequest {
  version: 'v1' | 'v1beta1';
  includeObject: 'None' | 'Metadata' | 'Object';
}

export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number;

interface TableDef {
  columns: ColumnDefinition[];
  cells(obj: KubeObject, now: number): Cell[];
}

function col(name: string, type: ColumnDefinition['type'], description: string, priority = 0, format = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}

const nameCol = col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name');
const ageCol = col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const none = '<none>';
const createdAtCol = col('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

/** Subjects of one kind, as kubectl -o wide lists them ("ns/name" for service accounts). */
function subjectsOf(b: RoleBinding, kind: string): string {
  const names = (b.subjects ?? []).filter((s) => s.kind === kind).map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name));
  return names.join(', ');
}

const bindingTable: TableDef = {
  columns: [
    nameCol,
    col('Role', 'string', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
    ageCol,
    col('Users', 'string', 'Users in the binding.', 1),
    col('Groups', 'string', 'Groups in the binding.', 1),
    col('ServiceAccounts', 'string', 'ServiceAccounts in the binding.', 1),
  ],
  cells(obj, now) {
    const b = obj as RoleBinding;
    return [b.metadata.name ?? '', `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, formatAge(b.metadata.creationTimestamp, now), subjectsOf(b, 'User'), subjectsOf(b, 'Group'), subjectsOf(b, 'ServiceAccount')];
  },
};

function lastRestartAgo(pod: Pod, now: number): string {
  const latest = podLastRestart(pod);
  return latest ? ` (${formatAge(new Date(latest).toISOString(), now)} ago)` : '';
}

function internalIP(node: Node, type: 'InternalIP' | 'ExternalIP'): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? none;
}

function nodeRoles(node: Node): string {
  const prefix = 'node-role.kubernetes.io/';
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .filter(Boolean);
  return roles.length ? roles.sort().join(',') : none;
}

function eventObject(e: Event): string {
  const kind = (e.involvedObject.kind ?? '').toLowerCase();
  return `${kind}/${e.involvedObject.name ?? ''}`;
}

function eventLastSeen(e: Event, now: number): string {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp;
  return t ? formatAge(t, now) : '<unknown>';
}

const tables: Record<string, TableDef> = {
  pods: {
    columns: [
      nameCol,
      col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      ageCol,
      col('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      col('Node', 'string', 'NodeName is a request to schedule this pod onto a specific node.', 1),
      col('Nominated Node', 'string', 'nominatedNodeName is set when this pod preempts other pods on the node.', 1),
      col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    cells(obj, now) {
      const pod = obj as Pod;
      const restarts = podRestarts(pod);
      return [
        pod.metadata.name ?? '',
        podReadyCount(pod),
        podDisplayStatus(pod),
        restarts ? `${restarts}${lastRestartAgo(pod, now)}` : '0',
        formatAge(pod.metadata.creationTimestamp, now),
        pod.status?.podIP || none,
        pod.spec?.nodeName || none,
        none,
        none,
      ];
    },
  },
  nodes: {
    columns: [
      nameCol,
      col('Status', 'string', 'The status of the node'),
      col('Roles', 'string', 'The roles of the node'),
      ageCol,
      col('Version', 'string', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
      col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
      col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', 'string', 'Kernel Version reported by the node from uname -r (e.g. 3.16.0-0.bpo.4-amd64).', 1),
      col('Container-Runtime', 'string', 'Container runtime version reported by the node.', 1),
    ],
    cells(obj, now) {
      const node = obj as Node;
      const info = node.status?.nodeInfo;
      return [
        node.metadata.name ?? '',
        nodeDisplayStatus(node),
        nodeRoles(node),
        formatAge(node.metadata.creationTimestamp, now),
        info?.kubeletVersion ?? '',
        internalIP(node, 'InternalIP'),
        internalIP(node, 'ExternalIP'),
        info?.osImage || '<unknown>',
        info?.kernelVersion || '<unknown>',
        info?.containerRuntimeVersion || '<unknown>',
      ];
    },
  },
  namespaces: {
    columns: [nameCol, col('Status', 'string', 'The status of the namespace'), ageCol],
    cells(obj, now) {
      const ns = obj as Namespace;
      return [ns.metadata.name ?? '', ns.status?.phase ?? '', formatAge(ns.metadata.creationTimestamp, now)];
    },
  },
  events: {
    columns: [
      col('Last Seen', 'string', 'Time when last event occurred.'),
      col('Type', 'string', 'Type of this event.'),
      col('Reason', 'string', 'Reason of this event.'),
      col('Object', 'string', 'The object this event is about.'),
      col('Subobject', 'string', 'The subobject this event is about.', 1),
      col('Source', 'string', 'The source of this event.', 1),
      col('Message', 'string', 'The message of this event.'),
      col('First Seen', 'string', 'Time when first event occurred.', 1),
      col('Count', 'string', 'Number of times this event has happened.', 1),
      col('Name', 'string', 'Name of this event.', 1, 'name'),
    ],
    cells(obj, now) {
      const e = obj as Event;
      const source = [e.source?.component, e.source?.host].filter(Boolean).join(', ') || e.reportingComponent || '';
      return [
        eventLastSeen(e, now),
        e.type ?? '',
        e.reason ?? '',
        eventObject(e),
        e.involvedObject.fieldPath ?? '',
        source,
        (e.message ?? '').trim(),
        e.firstTimestamp ? formatAge(e.firstTimestamp, now) : '<unknown>',
        String(e.count ?? 1),
        e.metadata.name ?? '',
      ];
    },
  },
  replicationcontrollers: {
    columns: [
      nameCol,
      col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
      col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
      col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
      ageCol,
      col('Containers', 'string', 'Names of each container in the template.', 1),
      col('Images', 'string', 'Images referenced by each container in the template.', 1),
      col('Selector', 'string', 'Label selector for pods.', 1),
    ],
    cells(obj, now) {
      const rc = obj as ReplicationController;
      const containers = rc.spec?.template?.spec?.containers ?? [];
      const selector = Object.entries(rc.spec?.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return [
        rc.metadata.name ?? '',
        rc.spec?.replicas ?? 0,
        rc.status?.replicas ?? 0,
        rc.status?.readyReplicas ?? 0,
        formatAge(rc.metadata.creationTimestamp, now),
        containers.map((c) => c.name).join(','),
        containers.map((c) => c.image).join(','),
        selector || none,
      ];
    },
  },
  services: {
    columns: [
      nameCol,
      col('Type', 'string', 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
      col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
      ageCol,
      col('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', 1),
    ],
    cells(obj, now) {
      const svc = obj as Service;
      return [
        svc.metadata.name ?? '',
        svc.spec?.type ?? '',
        svc.spec?.clusterIPs?.[0] ?? none,
        serviceExternalIP(svc),
        servicePortsText(svc) || none,
        formatAge(svc.metadata.creationTimestamp, now),
        formatSelector(svc.spec?.selector),
      ];
    },
  },
  endpoints: {
    columns: [nameCol, col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), ageCol],
    cells(obj, now) {
      const ep = obj as Endpoints;
      return [ep.metadata.name ?? '', endpointsText(ep), formatAge(ep.metadata.creationTimestamp, now)];
    },
  },
  endpointslices: {
    columns: [
      nameCol,
      col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice.'),
      col('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
      col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'),
      ageCol,
    ],
    cells(obj, now) {
      const slice = obj as EndpointSlice;
      const ports = (slice.ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : (p.name ?? '*')));
      const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
      return [slice.metadata.name ?? '', slice.addressType ?? '', sliceList(ports), sliceList(addresses), formatAge(slice.metadata.creationTimestamp, now)];
    },
  },
  leases: {
    columns: [nameCol, col('Holder', 'string', 'HolderIdentity contains the identity of the holder of a current lease.'), ageCol],
    cells(obj, now) {
      const lease = obj as Lease;
      return [lease.metadata.name ?? '', lease.spec?.holderIdentity ?? '', formatAge(lease.metadata.creationTimestamp, now)];
    },
  },
  configmaps: {
    columns: [nameCol, col('Data', 'string', 'Data contains the configuration data.'), ageCol],
    cells(obj, now) {
      const cm = obj as ConfigMap;
      const count = Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length;
      return [cm.metadata.name ?? '', count, formatAge(cm.metadata.creationTimestamp, now)];
    },
  },
  secrets: {
    columns: [
      nameCol,
      col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'),
      col('Data', 'string', 'Data contains the secret data.'),
      ageCol,
    ],
    cells(obj, now) {
      const secret = obj as Secret;
      return [secret.metadata.name ?? '', secret.type ?? '', Object.keys(secret.data ?? {}).length, formatAge(secret.metadata.creationTimestamp, now)];
    },
  },
  roles: { columns: [nameCol, createdAtCol], cells: (obj) => [obj.metadata.name ?? '', obj.metadata.creationTimestamp ?? ''] },
  clusterroles: { columns: [nameCol, createdAtCol], cells: (obj) => [obj.metadata.name ?? '', obj.metadata.creationTimestamp ?? ''] },
  rolebindings: bindingTable,
  clusterrolebindings: bindingTable,
  serviceaccounts: {
    columns: [nameCol, col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), ageCol],
    cells(obj, now) {
      const sa = obj as ServiceAccount;
      return [sa.metadata.name ?? '', (sa.secrets ?? []).length, formatAge(sa.metadata.creationTimestamp, now)];
    },
  },
};

/** kubectl's EXTERNAL-IP of a service: its external IPs, or <none> (load balancers are not served). */
function serviceExternalIP(svc: Service): string {
  const ips = svc.spec?.externalIPs ?? [];
  return ips.length ? ips.join(',') : none;
}

/** Up to three items, then " + N more..." (kubectl's way of keeping a cell short). */
function firstThree(list: string[], count: number): string {
  return count > 3 ? `${list.slice(0, 3).join(',')} + ${count - 3} more...` : list.join(',');
}

/** The ENDPOINTS cell of an Endpoints: ready address:port pairs, by subset and port. */
function endpointsText(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return none;
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    // A headless service may have no ports: its addresses alone.
    const pairs = ports.length ? ports.flatMap((p) => addresses.map((a) => (a.ip.includes(':') ? `[${a.ip}]:${p.port}` : `${a.ip}:${p.port}`))) : addresses.map((a) => a.ip);
    count += pairs.length;
    for (const pair of pairs) if (list.length < 3) list.push(pair);
  }
  return firstThree(list, count);
}

/** kubectl's PORTS and ENDPOINTS cells of an EndpointSlice: <unset> when empty. */
function sliceList(items: string[]): string {
  return items.length ? firstThree(items, items.length) : '<unset>';
}

const defaultTable: TableDef = {
  columns: [nameCol, col('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
  cells(obj) {
    return [obj.metadata.name ?? '', obj.metadata.creationTimestamp ?? ''];
  },
};

function rowObject(obj: KubeObject, req: TableRequest): unknown {
  if (req.includeObject === 'None') return undefined;
  if (req.includeObject === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${req.version}`, metadata: obj.metadata };
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: ColumnDefinition[];
  rows: { cells: Cell[]; object?: unknown }[];
}

/** Renders objects as the meta.k8s.io Table that kubectl prints. */
export function toTable(
  resource: string,
  objects: KubeObject[],
  req: TableRequest,
  meta: Table['metadata'],
  now = Date.now(),
): Table {
  const def = tables[resource] ?? defaultTable;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${req.version}`,
    metadata: meta,
    columnDefinitions: def.columns,
    rows: objects.map((o) => ({ cells: def.cells(o, now), object: rowObject(o, req) })),
  };
}

/**
 * Parses the Accept header: a Table when kubectl asks for one
 * (`application/json;as=Table;v=v1;g=meta.k8s.io, application/json`).
 */
export function tableRequested(accept: string | undefined, includeObject: string | undefined): TableRequest | undefined {
  if (!accept || !accept.includes('as=Table')) return undefined;
  for (const part of accept.split(',')) {
    const params = new Map<string, string>();
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    for (const p of rest) {
      const [k, v] = p.split('=');
      if (k && v !== undefined) params.set(k.trim(), v.trim());
    }
    if (type !== 'application/json' && type !== '*/*') continue;
    if (params.get('as') !== 'Table' || params.get('g') !== 'meta.k8s.io') continue;
    const version = params.get('v');
    if (version !== 'v1' && version !== 'v1beta1') continue;
    const inc = includeObject === 'None' || includeObject === 'Object' ? includeObject : 'Metadata';
    return { version, includeObject: inc };
  }
  return undefined;
}
