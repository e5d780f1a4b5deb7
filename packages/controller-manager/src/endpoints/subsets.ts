// What a service's Endpoints should hold, by Kubernetes' rules (pkg/controller/endpoint): every
// selected pod with an IP that has not finished is an address, ready pods in `addresses` and
// the others in `notReadyAddresses`; a pod being deleted is dropped at once unless the
// service publishes not-ready addresses; each service port resolved per pod (a named target
// port is looked up in that pod's containers). Subsets are then packed in one canonical
// layout (addresses with the same ports together, sorted), so that equal content compares
// equal, and truncated at 1,000 addresses.

import { findPodPort, isPodReady, podIPs, shouldPodBeInEndpoints } from '@peapod/api';
import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Service } from '@peapod/api';

export const maxEndpointsCapacity = 1000;

/** Set on an Endpoints whose addresses were cut at maxEndpointsCapacity. */
export const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';

/** The hostname a pod gets in a service's endpoints: its own, when its subdomain is the service. */
export function endpointHostname(pod: Pod, svc: Service): string | undefined {
  const hostname = pod.spec.hostname;
  return hostname && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace ? hostname : undefined;
}

function podAddress(pod: Pod, svc: Service): EndpointAddress | undefined {
  // The service's first family (always IPv4 here) picks the pod's address of that family.
  const wantV6 = svc.spec?.ipFamilies?.[0] === 'IPv6';
  const ip = podIPs(pod).find((a) => a.includes(':') === wantV6);
  if (ip === undefined) return undefined;
  const address: EndpointAddress = {
    ip,
    nodeName: pod.spec.nodeName ?? '',
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
  const hostname = endpointHostname(pod, svc);
  if (hostname) address.hostname = hostname;
  return address;
}

interface Entry {
  address: EndpointAddress;
  ready: boolean;
  ports: EndpointPort[];
}

function portKey(ports: EndpointPort[]): string {
  return JSON.stringify(ports.map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol ?? '']));
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  return (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || (a.protocol ?? '').localeCompare(b.protocol ?? '');
}

/** The desired subsets of a service's Endpoints, in canonical layout. */
export function desiredSubsets(svc: Service, pods: Iterable<Pod>): EndpointSubset[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const servicePorts = svc.spec?.ports ?? [];
  const entries: Entry[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const address = podAddress(pod, svc);
    if (address === undefined) continue;
    const ready = publishNotReady || isPodReady(pod);
    if (servicePorts.length === 0) {
      // A headless service may have no ports: its endpoints are the addresses alone.
      if (svc.spec?.clusterIP === 'None') entries.push({ address, ready, ports: [] });
      continue;
    }
    const ports: EndpointPort[] = [];
    for (const sp of servicePorts) {
      const port = findPodPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol !== undefined) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    if (ports.length > 0) entries.push({ address, ready, ports: ports.sort(comparePorts) });
  }
  return repack(entries);
}

/** Groups addresses by their set of ports, sorted, with readiness kept apart. */
function repack(entries: Entry[]): EndpointSubset[] {
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const e of entries) {
    const key = portKey(e.ports);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { ports: e.ports, ready: [], notReady: [] }));
    (e.ready ? g.ready : g.notReady).push(e.address);
  }
  const subsets: EndpointSubset[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    const subset: EndpointSubset = {};
    if (g.ready.length) subset.addresses = g.ready.sort(compareAddresses);
    if (g.notReady.length) subset.notReadyAddresses = g.notReady.sort(compareAddresses);
    if (g.ports.length) subset.ports = g.ports;
    subsets.push(subset);
  }
  return subsets;
}

/**
 * Cuts the subsets to maxEndpointsCapacity addresses, ready ones first, each subset keeping
 * its share (Kubernetes' truncateEndpoints). Returns whether anything was cut.
 */
export function truncateSubsets(subsets: EndpointSubset[]): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= maxEndpointsCapacity) return false;
  const truncateReady = totalReady > maxEndpointsCapacity;
  const max = truncateReady ? maxEndpointsCapacity : maxEndpointsCapacity - totalReady;
  const total = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = max;
  for (const s of subsets) {
    const inSubset = (truncateReady ? s.addresses?.length : s.notReadyAddresses?.length) ?? 0;
    const share = Math.min(Math.ceil((inSubset / total) * max), canBeAdded);
    if (truncateReady) {
      if (s.addresses) s.addresses = s.addresses.slice(0, share);
      delete s.notReadyAddresses;
      canBeAdded -= s.addresses?.length ?? 0;
    } else {
      if (s.notReadyAddresses) s.notReadyAddresses = s.notReadyAddresses.slice(0, share);
      canBeAdded -= s.notReadyAddresses?.length ?? 0;
    }
  }
  return true;
}
