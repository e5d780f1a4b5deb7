// What the proxy makes of Services and EndpointSlices: one entry per port of each service
// that has a cluster IP, with the addresses it answers on and the endpoints that take its new
// connections, chosen as kube-proxy chooses them: the ready ones, or, when none is ready, the
// ones still serving while they terminate. Pure: the nftables rules are written from this.

import { isIPv4 } from 'node:net';
import { endpointConditions, hasClusterIP, ipv4ToNumber } from '@peapod/api';
import type { EndpointSlice, Service, ServicePort } from '@peapod/api';

export type L4Protocol = 'tcp' | 'udp' | 'sctp';

export interface Endpoint {
  ip: string;
  port: number;
}

export interface ServicePortEntry {
  /** namespace/name/protocol/port: unique, and stable across syncs (its chains are named by it) */
  id: string;
  protocol: L4Protocol;
  /** the cluster IP, then any external IPs */
  addresses: string[];
  port: number;
  nodePort?: number;
  /** sessionAffinity ClientIP: how long a client keeps its endpoint */
  affinitySeconds?: number;
  /** in address order, so that the same state gives the same rules */
  endpoints: Endpoint[];
}

/** Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
const defaultAffinitySeconds = 10_800;

function affinitySeconds(svc: Service): number | undefined {
  if (svc.spec?.sessionAffinity !== 'ClientIP') return undefined;
  return svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultAffinitySeconds;
}

/** The endpoints that take new connections for one service port (see the file header). */
export function usableEndpoints(slices: EndpointSlice[], sp: ServicePort): Endpoint[] {
  const protocol = sp.protocol ?? 'TCP';
  const ready = new Map<string, Endpoint>();
  const terminating = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    // A slice's ports apply to all of its endpoints; the service port is found by name.
    const port = slice.ports?.find((p) => (p.name ?? '') === (sp.name ?? '') && (p.protocol ?? 'TCP') === protocol)?.port;
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (ip === undefined || !isIPv4(ip)) continue;
      const c = endpointConditions(ep);
      const key = `${ip}:${port}`;
      if (c.ready) ready.set(key, { ip, port });
      else if (c.serving && c.terminating) terminating.set(key, { ip, port });
    }
  }
  const chosen = [...(ready.size > 0 ? ready : terminating).values()];
  return chosen.sort((a, b) => ipv4ToNumber(a.ip) - ipv4ToNumber(b.ip) || a.port - b.port);
}

/**
 * The entries for every service with a cluster IP (headless services have none; their
 * clients reach the pods directly). `slicesOf` gives a service's EndpointSlices by its
 * namespace/name.
 */
export function servicePortEntries(services: Service[], slicesOf: (key: string) => EndpointSlice[]): ServicePortEntry[] {
  const entries: ServicePortEntry[] = [];
  for (const svc of services) {
    if (!hasClusterIP(svc) || !isIPv4(svc.spec?.clusterIP ?? '')) continue;
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const slices = slicesOf(`${ns}/${name}`);
    const addresses = [svc.spec!.clusterIP!, ...(svc.spec?.externalIPs ?? []).filter((ip) => isIPv4(ip))];
    for (const sp of svc.spec?.ports ?? []) {
      const protocol = (sp.protocol ?? 'TCP').toLowerCase() as L4Protocol;
      const entry: ServicePortEntry = {
        id: `${ns}/${name}/${protocol}/${sp.port}`,
        protocol,
        addresses,
        port: sp.port,
        endpoints: usableEndpoints(slices, sp),
      };
      if (svc.spec?.type === 'NodePort' && sp.nodePort) entry.nodePort = sp.nodePort;
      const affinity = affinitySeconds(svc);
      if (affinity !== undefined) entry.affinitySeconds = affinity;
      entries.push(entry);
    }
  }
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
