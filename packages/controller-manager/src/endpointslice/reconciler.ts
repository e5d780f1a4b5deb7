// Which EndpointSlices a service should have, and the fewest writes that get there, by the
// rules of Kubernetes' EndpointSlice reconciler (staging/src/k8s.io/endpointslice):
//
// - every selected pod with an IP that has not finished is an endpoint, terminating ones
//   included: ready = serving and not terminating (or always, with publishNotReadyAddresses),
//   serving = the pod's readiness, terminating = it has a deletionTimestamp;
// - endpoints are grouped by their resolved ports (a named target port may resolve differently
//   per pod), each group in slices of at most maxEndpointsPerSlice;
// - existing slices are kept and filled before new ones are made, a slice left empty is deleted
//   (or reused for a slice that would be created), and a service with no endpoints keeps one
//   empty placeholder slice;
// - slices carry the service's labels plus kubernetes.io/service-name and
//   endpointslice.kubernetes.io/managed-by, and are owned by the service.

import { findPodPort, hasClusterIP, headlessServiceLabel, isPodServing, managedByLabel, podIPs, serviceNameLabel, shouldPodBeInEndpoints } from '@peapod/api';
import type { EndpointSlice, Node, OwnerReference, Pod, Service, SliceEndpoint, SlicePort } from '@peapod/api';
import { endpointHostname } from '../endpoints/subsets';

export const controllerName = 'endpointslice-controller.k8s.io';
export const zoneLabel = 'topology.kubernetes.io/zone';

type AddressType = EndpointSlice['addressType'];

export interface SliceChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

export interface ReconcileResult extends SliceChanges {
  /** pods left out because their node is not known (yet): the service is synced again later */
  podsWithoutNode: string[];
}

const reservedLabels = new Set([serviceNameLabel, managedByLabel, headlessServiceLabel]);

function isOwnedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata.ownerReferences ?? []).some((o) => o.uid === svc.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1');
}

function ownerRef(svc: Service): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** The address types a service's slices carry: one per IP family. */
function addressTypes(svc: Service): AddressType[] {
  const families = svc.spec?.ipFamilies ?? [];
  if (families.length) return families.map((f) => (f === 'IPv6' ? 'IPv6' : 'IPv4'));
  const ip = svc.spec?.clusterIP;
  if (ip && ip !== 'None') return [ip.includes(':') ? 'IPv6' : 'IPv4'];
  return ['IPv4', 'IPv6'];
}

/** The slice's labels as they should be, and whether the service's own labels on it changed. */
export function sliceLabels(slice: EndpointSlice | undefined, svc: Service): { labels: Record<string, string>; changed: boolean } {
  const own = (labels: Record<string, string> | undefined) =>
    Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !reservedLabels.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const fromService = own(svc.metadata.labels);
  const changed = JSON.stringify(own(slice?.metadata.labels)) !== JSON.stringify(fromService);
  const labels: Record<string, string> = { ...fromService };
  if (!hasClusterIP(svc)) labels[headlessServiceLabel] = '';
  labels[serviceNameLabel] = svc.metadata.name ?? '';
  labels[managedByLabel] = controllerName;
  return { labels, changed };
}

function endpointPorts(svc: Service, pod: Pod): SlicePort[] {
  const ports: SlicePort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPodPort(pod, sp);
    if (port === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol !== undefined) p.appProtocol = sp.appProtocol;
    ports.push(p);
  }
  return ports;
}

/** The same set of ports whatever their order. */
function portsKey(ports: SlicePort[]): string {
  return JSON.stringify(ports.map((p) => [p.name ?? '', p.port ?? -1, p.protocol ?? '', p.appProtocol ?? '']).sort());
}

function podEndpoint(pod: Pod, node: Node | undefined, svc: Service, addressType: AddressType): SliceEndpoint {
  const serving = isPodServing(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  // A terminating endpoint is never ready, unless the service publishes every address.
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const endpoint: SliceEndpoint = {
    addresses: podIPs(pod).filter((ip) => ip.includes(':') === (addressType === 'IPv6')),
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
  if (pod.spec.nodeName) endpoint.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[zoneLabel];
  if (zone) endpoint.zone = zone;
  const hostname = endpointHostname(pod, svc);
  if (hostname) endpoint.hostname = hostname;
  return endpoint;
}

/** What identifies an endpoint across syncs: its addresses, hostname and pod. */
function endpointKey(e: SliceEndpoint): string {
  return JSON.stringify([[...e.addresses].sort(), e.hostname ?? '', e.targetRef?.namespace ?? '', e.targetRef?.name ?? '']);
}

/** Equal beyond what endpointKey covers (the pod's resourceVersion never counts). */
function sameEndpoint(a: SliceEndpoint, b: SliceEndpoint): boolean {
  const c = (x: SliceEndpoint) =>
    JSON.stringify([
      x.nodeName ?? null,
      x.zone ?? null,
      x.conditions?.ready ?? null,
      x.conditions?.serving ?? null,
      x.conditions?.terminating ?? null,
      x.targetRef ? [x.targetRef.kind ?? '', x.targetRef.namespace ?? '', x.targetRef.name ?? '', x.targetRef.uid ?? ''] : null,
    ]);
  return c(a) === c(b);
}

function newSlice(svc: Service, ports: SlicePort[], addressType: AddressType): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.metadata.name}-`,
      namespace: svc.metadata.namespace,
      ownerReferences: [ownerRef(svc)],
      labels: sliceLabels(undefined, svc).labels,
    },
    addressType,
    ports,
    endpoints: [],
  };
}

function copy(slice: EndpointSlice): EndpointSlice {
  return JSON.parse(JSON.stringify(slice)) as EndpointSlice;
}

/** Takes n endpoints out of the desired map, in a stable order. */
function takeEndpoints(desired: Map<string, SliceEndpoint>, n: number): SliceEndpoint[] {
  const out: SliceEndpoint[] = [];
  for (const [key, e] of desired) {
    if (out.length >= n) break;
    out.push(e);
    desired.delete(key);
  }
  return out;
}

/** One group of slices (same ports) against the endpoints that belong in it. */
function reconcilePortGroup(svc: Service, existing: EndpointSlice[], desired: Map<string, SliceEndpoint>, ports: SlicePort[], addressType: AddressType, max: number): SliceChanges {
  const byName = new Map<string, EndpointSlice>();
  const unchanged: string[] = [];
  const toUpdate: string[] = [];
  const toDelete: string[] = [];
  // 1. Keep in each slice the endpoints still wanted (updated where they changed).
  for (const slice of existing) {
    const name = slice.metadata.name ?? '';
    byName.set(name, slice);
    const kept: SliceEndpoint[] = [];
    let endpointChanged = false;
    for (const e of slice.endpoints ?? []) {
      const key = endpointKey(e);
      const want = desired.get(key);
      if (want === undefined) continue;
      kept.push(want);
      if (!sameEndpoint(want, e)) endpointChanged = true;
      desired.delete(key);
    }
    const { labels, changed: labelsChanged } = sliceLabels(slice, svc);
    if (endpointChanged || kept.length !== (slice.endpoints ?? []).length) {
      if (kept.length === 0) toDelete.push(name);
      else {
        byName.set(name, { ...copy(slice), endpoints: kept, metadata: { ...copy(slice).metadata, labels } });
        toUpdate.push(name);
      }
    } else if (labelsChanged) {
      byName.set(name, { ...copy(slice), metadata: { ...copy(slice).metadata, labels } });
      toUpdate.push(name);
    } else {
      unchanged.push(name);
    }
  }
  // 2. Fill the slices being updated anyway, the fullest first.
  if (desired.size > 0 && toUpdate.length > 0) {
    const slices = toUpdate.map((n) => byName.get(n)!).sort((a, b) => b.endpoints.length - a.endpoints.length);
    for (const slice of slices) slice.endpoints.push(...takeEndpoints(desired, max - slice.endpoints.length));
  }
  // 3. The rest into one unchanged slice they fit in (the one left fullest), else new slices.
  const create: EndpointSlice[] = [];
  while (desired.size > 0) {
    let target: EndpointSlice | undefined;
    if (desired.size < max && unchanged.length > 0) {
      let closest = max;
      for (const name of unchanged) {
        const diff = max - (desired.size + byName.get(name)!.endpoints.length);
        if (diff >= 0 && diff < closest) {
          closest = diff;
          target = byName.get(name);
        }
      }
    }
    if (target === undefined) {
      target = newSlice(svc, ports, addressType);
      create.push(target);
    } else {
      target = copy(target);
      const name = target.metadata.name ?? '';
      byName.set(name, target);
      unchanged.splice(unchanged.indexOf(name), 1);
      toUpdate.push(name);
    }
    target.endpoints.push(...takeEndpoints(desired, max - target.endpoints.length));
  }
  return { create, update: toUpdate.map((n) => byName.get(n)!), delete: toDelete.map((n) => byName.get(n)!) };
}

/** The placeholder slice a service without endpoints keeps, so that its slices say "none" rather than nothing. */
function isPlaceholderFor(slice: EndpointSlice, svc: Service, addressType: AddressType): boolean {
  const want = sliceLabels(undefined, svc).labels;
  const labels = slice.metadata.labels ?? {};
  return (
    slice.addressType === addressType &&
    (slice.ports ?? []).length === 0 &&
    (slice.endpoints ?? []).length === 0 &&
    isOwnedBy(slice, svc) &&
    Object.keys(want).length === Object.keys(labels).length &&
    Object.entries(want).every(([k, v]) => labels[k] === v)
  );
}

function reconcileAddressType(
  svc: Service,
  pods: Iterable<Pod>,
  existing: EndpointSlice[],
  nodeOf: (name: string) => Node | undefined,
  addressType: AddressType,
  max: number,
  podsWithoutNode: string[],
): SliceChanges {
  const changes: SliceChanges = { create: [], update: [], delete: [] };
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const slice of existing) {
    if (!isOwnedBy(slice, svc)) {
      changes.delete.push(slice);
      continue;
    }
    const key = portsKey(slice.ports ?? []);
    existingByPorts.set(key, [...(existingByPorts.get(key) ?? []), slice]);
  }
  const desiredByPorts = new Map<string, { ports: SlicePort[]; endpoints: Map<string, SliceEndpoint> }>();
  const headlessWithoutPorts = (svc.spec?.ports ?? []).length === 0 && svc.spec?.clusterIP === 'None';
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = headlessWithoutPorts ? [] : endpointPorts(svc, pod);
    const key = portsKey(ports);
    let group = desiredByPorts.get(key);
    if (group === undefined) desiredByPorts.set(key, (group = { ports, endpoints: new Map() }));
    const node = pod.spec.nodeName ? nodeOf(pod.spec.nodeName) : undefined;
    if (node === undefined && svc.spec?.publishNotReadyAddresses !== true) {
      // A pod on a node we do not know is left out until the node shows up (or the pod goes).
      podsWithoutNode.push(`${pod.metadata.namespace}/${pod.metadata.name}`);
      continue;
    }
    const endpoint = podEndpoint(pod, node, svc, addressType);
    if (endpoint.addresses.length > 0) group.endpoints.set(endpointKey(endpoint), endpoint);
  }
  for (const [key, group] of desiredByPorts) {
    const c = reconcilePortGroup(svc, existingByPorts.get(key) ?? [], group.endpoints, group.ports, addressType, max);
    changes.create.push(...c.create);
    changes.update.push(...c.update);
    changes.delete.push(...c.delete);
  }
  for (const [key, slices] of existingByPorts) if (!desiredByPorts.has(key)) changes.delete.push(...slices);
  if (existing.length === changes.delete.length && changes.create.length === 0) {
    if (changes.delete.length === 1 && isPlaceholderFor(changes.delete[0], svc, addressType)) changes.delete = [];
    else changes.create.push(newSlice(svc, [], addressType));
  }
  return changes;
}

/**
 * The writes that make a service's slices right. `existing` are the slices labelled with the
 * service's name and managed by this controller (not being deleted).
 */
export function reconcileSlices(svc: Service, pods: Iterable<Pod>, existing: EndpointSlice[], nodeOf: (name: string) => Node | undefined, max: number): ReconcileResult {
  const result: ReconcileResult = { create: [], update: [], delete: [], podsWithoutNode: [] };
  const types = addressTypes(svc);
  const podList = [...pods];
  for (const slice of existing) if (!types.includes(slice.addressType)) result.delete.push(slice);
  for (const type of types) {
    const c = reconcileAddressType(svc, podList, existing.filter((s) => s.addressType === type), nodeOf, type, max, result.podsWithoutNode);
    result.create.push(...c.create);
    result.update.push(...c.update);
    result.delete.push(...c.delete);
  }
  // A slice about to be deleted is reused (renamed into) for one about to be created.
  for (let i = 0; i < result.delete.length && result.create.length > 0; ) {
    const gone = result.delete[i];
    const made = result.create[result.create.length - 1];
    if (gone.addressType === made.addressType && isOwnedBy(gone, svc)) {
      result.create.pop();
      made.metadata = { ...made.metadata, name: gone.metadata.name, resourceVersion: gone.metadata.resourceVersion };
      delete made.metadata.generateName;
      result.update.push(made);
      result.delete.splice(i, 1);
    } else {
      i++;
    }
  }
  // No new slices for a service on its way out: the garbage would only grow.
  if (svc.metadata.deletionTimestamp !== undefined) result.create = [];
  return result;
}
