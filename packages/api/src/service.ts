// What a Service means for the pods behind it, shared by the API server (tables), the
// endpoints controllers and peactl: which pods are endpoints, and on which port.

import type { Pod, Service, ServicePort, SliceEndpoint } from './types';
import { isPodTerminal } from './pod';

export const clusterIPNone = 'None';

/** The label every EndpointSlice of a service carries (discovery.k8s.io/v1 LabelServiceName). */
export const serviceNameLabel = 'kubernetes.io/service-name';
/** Who keeps an EndpointSlice (discovery.k8s.io/v1 LabelManagedBy). */
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
/** The label the controllers put on the endpoints of a headless service. */
export const headlessServiceLabel = 'service.kubernetes.io/headless';

/** A headless service (clusterIP: None) has no virtual IP: its endpoints are reached directly. */
export function isHeadlessService(svc: Service): boolean {
  return svc.spec?.clusterIP === clusterIPNone;
}

/** Whether the service has a virtual IP (not headless, not ExternalName). */
export function hasClusterIP(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== clusterIPNone;
}

/** The pod's IPs, primary first (podIPs, else the older single podIP). */
export function podIPs(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip) => !!ip);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

/**
 * Whether a pod selected by a service belongs in its endpoints: it has an IP, has not
 * finished (Succeeded/Failed), and, unless terminating pods are wanted, is not being deleted.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (podIPs(pod).length === 0) return false;
  return includeTerminating || pod.metadata.deletionTimestamp === undefined;
}

/**
 * The container port a service port reaches on this pod: the target port itself when it is a
 * number, else the port of that name (and protocol) in the pod's containers; undefined when the
 * pod has no such port, so the pod is not an endpoint for that service port.
 */
export function findPodPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** kubectl's PORT(S) cell: "80/TCP", "80:30080/TCP", comma-separated. */
export function servicePortsText(svc: Service): string {
  return (svc.spec?.ports ?? [])
    .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`))
    .join(',');
}

/** A selector as kubectl prints it: "app=web,tier=fe" in key order, or "<none>". */
export function formatSelector(selector: Record<string, string> | undefined): string {
  const keys = Object.keys(selector ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${selector![k]}`).join(',') : '<none>';
}

/**
 * An EndpointSlice endpoint's conditions with discovery.k8s.io/v1's meaning of unset ones:
 * ready and serving unless said otherwise, not terminating.
 */
export function endpointConditions(ep: SliceEndpoint): { ready: boolean; serving: boolean; terminating: boolean } {
  return {
    ready: ep.conditions?.ready ?? true,
    serving: ep.conditions?.serving ?? true,
    terminating: ep.conditions?.terminating ?? false,
  };
}
