// What the page keeps of each object: a small record with the fields it shows, made once
// per watch event. Keeping records instead of whole objects is what holds the browser's
// memory down with 10,000 pods; the pod's STATUS, READY and RESTARTS come from
// @peapod/api's pod helpers, the same rules peactl's and kubectl's columns follow.

import type { Event, Lease, Node, Pod, ReplicationController } from '@peapod/api';
import { isPodTerminal, nodeDisplayStatus, podDisplayStatus, podReadyCount, podRequests, podRestarts, specGracePeriodSeconds } from '@peapod/api/pod';
import { parseBytes, parseCpuMillis } from '@peapod/api/quantity';
import type { EndpointSlice, Endpoints, Service } from './wire';

export interface PodRecord {
  /** namespace/name */
  key: string;
  uid: string;
  namespace: string;
  name: string;
  /** '' while unscheduled */
  node: string;
  phase: string;
  /** kubectl's STATUS column */
  status: string;
  ready: string;
  restarts: number;
  createdMs: number;
  /** metadata.deletionTimestamp: the grace deadline */
  deletionMs?: number;
  graceSeconds?: number;
  /** spec.terminationGracePeriodSeconds: the grace a delete gets unless it names one */
  specGraceSeconds: number;
  cpuMillis: number;
  memoryBytes: number;
  /** Succeeded or Failed: holds no resources on its node */
  terminal: boolean;
  podIP: string;
  containers: string[];
  /** the controlling owner, "Kind/name" */
  owner?: string;
  rv: number;
}

export interface NodeRecord {
  name: string;
  /** the Ready condition's status: True, False or Unknown */
  ready: string;
  unschedulable: boolean;
  status: string;
  cpuMillis: number;
  memoryBytes: number;
  pods: number;
  internalIP: string;
  createdMs: number;
  taints: string[];
}

export interface LeaseRecord {
  name: string;
  holder: string;
  renewMs?: number;
  durationSeconds?: number;
}

export interface EventRecord {
  key: string;
  uid: string;
  namespace: string;
  kind: string;
  objectName: string;
  objectUid: string;
  type: string;
  reason: string;
  message: string;
  count: number;
  /** when it last happened (ms), for ordering and display */
  lastMs: number;
  firstMs: number;
  source: string;
  /** the global resourceVersion: orders events within the same second */
  rv: number;
}

export interface ControllerRecord {
  key: string;
  namespace: string;
  name: string;
  desired: number;
  current: number;
  ready: number;
  selector: string;
  createdMs: number;
}

export interface ServiceRecord {
  key: string;
  namespace: string;
  name: string;
  type: string;
  clusterIP: string;
  ports: string;
  selector: string;
}

export interface EndpointRecord {
  ip: string;
  /** pod name, when the endpoint is a pod */
  pod: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface EndpointsRecord {
  /** namespace/service name */
  key: string;
  endpoints: EndpointRecord[];
}

function ms(ts: string | null | undefined): number | undefined {
  if (!ts) return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

function rvOf(o: { metadata: { resourceVersion?: string } }): number {
  const n = Number(o.metadata.resourceVersion);
  return Number.isFinite(n) ? n : 0;
}

export function objectKey(meta: { namespace?: string; name?: string }): string {
  return meta.namespace ? `${meta.namespace}/${meta.name ?? ''}` : (meta.name ?? '');
}

function lenient(parse: (s: string) => number, v: string | undefined): number {
  if (v === undefined) return 0;
  try {
    return parse(v);
  } catch {
    return 0;
  }
}

export function podRecord(pod: Pod): PodRecord {
  const meta = pod.metadata;
  const requests = podRequests(pod, { lenient: true });
  const owner = meta.ownerReferences?.find((o) => o.controller) ?? meta.ownerReferences?.[0];
  return {
    key: objectKey(meta),
    uid: meta.uid ?? '',
    namespace: meta.namespace ?? 'default',
    name: meta.name ?? '',
    node: pod.spec?.nodeName ?? '',
    phase: pod.status?.phase ?? 'Pending',
    status: podDisplayStatus(pod),
    ready: podReadyCount(pod),
    restarts: podRestarts(pod),
    createdMs: ms(meta.creationTimestamp) ?? 0,
    deletionMs: ms(meta.deletionTimestamp),
    graceSeconds: meta.deletionGracePeriodSeconds,
    specGraceSeconds: specGracePeriodSeconds(pod),
    cpuMillis: requests.cpuMillis,
    memoryBytes: requests.memoryBytes,
    terminal: isPodTerminal(pod),
    podIP: pod.status?.podIP ?? '',
    containers: (pod.spec?.containers ?? []).map((c) => c.name),
    owner: owner ? `${owner.kind}/${owner.name}` : undefined,
    rv: rvOf(pod),
  };
}

export function nodeRecord(node: Node): NodeRecord {
  const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name: node.metadata.name ?? '',
    ready: ready?.status ?? 'Unknown',
    unschedulable: node.spec?.unschedulable === true,
    status: nodeDisplayStatus(node),
    cpuMillis: lenient(parseCpuMillis, alloc.cpu),
    memoryBytes: lenient(parseBytes, alloc.memory),
    pods: lenient(Number, alloc.pods),
    internalIP: node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
    createdMs: ms(node.metadata.creationTimestamp) ?? 0,
    taints: (node.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`),
  };
}

export function leaseRecord(lease: Lease): LeaseRecord {
  return {
    name: lease.metadata.name ?? '',
    holder: lease.spec?.holderIdentity ?? '',
    renewMs: ms(lease.spec?.renewTime),
    durationSeconds: lease.spec?.leaseDurationSeconds,
  };
}

export function eventRecord(ev: Event): EventRecord {
  const last = ms(ev.lastTimestamp) ?? ms(ev.eventTime) ?? ms(ev.firstTimestamp) ?? ms(ev.metadata.creationTimestamp) ?? 0;
  return {
    key: objectKey(ev.metadata),
    uid: ev.metadata.uid ?? objectKey(ev.metadata),
    namespace: ev.metadata.namespace ?? '',
    kind: ev.involvedObject?.kind ?? '',
    objectName: ev.involvedObject?.name ?? '',
    objectUid: ev.involvedObject?.uid ?? '',
    type: ev.type ?? 'Normal',
    reason: ev.reason ?? '',
    message: ev.message ?? '',
    count: ev.count ?? 1,
    lastMs: last,
    firstMs: ms(ev.firstTimestamp) ?? ms(ev.eventTime) ?? last,
    source: ev.source?.component ?? ev.reportingComponent ?? '',
    rv: rvOf(ev),
  };
}

export function controllerRecord(rc: ReplicationController): ControllerRecord {
  return {
    key: objectKey(rc.metadata),
    namespace: rc.metadata.namespace ?? 'default',
    name: rc.metadata.name ?? '',
    desired: rc.spec?.replicas ?? 1,
    current: rc.status?.replicas ?? 0,
    ready: rc.status?.readyReplicas ?? 0,
    selector: Object.entries(rc.spec?.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    createdMs: ms(rc.metadata.creationTimestamp) ?? 0,
  };
}

export function serviceRecord(svc: Service): ServiceRecord {
  return {
    key: objectKey(svc.metadata),
    namespace: svc.metadata.namespace ?? 'default',
    name: svc.metadata.name ?? '',
    type: svc.spec?.type ?? 'ClusterIP',
    clusterIP: svc.spec?.clusterIP ?? '',
    ports: (svc.spec?.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(','),
    selector: Object.entries(svc.spec?.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  };
}

/** core/v1 Endpoints: addresses are ready, notReadyAddresses are not (terminating is not told apart). */
export function endpointsRecord(ep: Endpoints): EndpointsRecord {
  const endpoints: EndpointRecord[] = [];
  for (const subset of ep.subsets ?? []) {
    for (const a of subset.addresses ?? []) endpoints.push({ ip: a.ip, pod: a.targetRef?.name ?? '', ready: true, serving: true, terminating: false });
    for (const a of subset.notReadyAddresses ?? []) endpoints.push({ ip: a.ip, pod: a.targetRef?.name ?? '', ready: false, serving: false, terminating: false });
  }
  return { key: objectKey(ep.metadata), endpoints };
}

/** discovery.k8s.io/v1 EndpointSlice: conditions tell a terminating endpoint leaving the rotation. */
export function endpointSliceRecord(slice: EndpointSlice): EndpointsRecord & { service: string; sliceKey: string } {
  const service = slice.metadata.labels?.['kubernetes.io/service-name'] ?? '';
  const endpoints: EndpointRecord[] = (slice.endpoints ?? []).map((e) => ({
    ip: e.addresses?.join(',') ?? '',
    pod: e.targetRef?.name ?? '',
    // Unset ready/serving mean true; unset terminating means false (the API's documented defaults).
    ready: e.conditions?.ready !== false,
    serving: e.conditions?.serving !== false,
    terminating: e.conditions?.terminating === true,
  }));
  return { key: `${slice.metadata.namespace ?? 'default'}/${service}`, sliceKey: objectKey(slice.metadata), service, endpoints };
}
