// What the API server fills in on a Service and what an update may not change, as
// Kubernetes' defaults (SetDefaults_Service) and service strategy do. Peapod's clusters are
// IPv4 single-stack.

import type { IPFamily, Service, ServiceSpec, StatusCause } from '@peapod/api';
import { clusterIPNone, fieldInvalid } from '@peapod/api';

const defaultClientIPTimeoutSeconds = 10800;

function isObject(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Fills the defaults Kubernetes fills on a service; tolerant of bad input (validation reports that). */
export function defaultService(svc: Service): void {
  if (!isObject(svc.spec)) svc.spec = {};
  const spec = svc.spec as ServiceSpec;
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && !spec.sessionAffinityConfig?.clientIP?.timeoutSeconds) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: defaultClientIPTimeoutSeconds } };
  }
  if (Array.isArray(spec.ports)) {
    for (const p of spec.ports) {
      if (!isObject(p)) continue;
      p.protocol ??= 'TCP';
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  normalizeClusterIPs(spec);
}

/** clusterIP and clusterIPs[0] say the same: whichever the client set fills the other. */
function normalizeClusterIPs(spec: ServiceSpec): void {
  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : undefined;
  if (spec.clusterIP && (!ips || ips.length === 0)) spec.clusterIPs = [spec.clusterIP];
  else if (!spec.clusterIP && ips && typeof ips[0] === 'string' && ips[0]) spec.clusterIP = ips[0];
}

/**
 * An update that leaves out what the server allocated keeps it (as `kubectl replace` of a
 * manifest without clusterIP or nodePort expects); a change to ClusterIP drops the node
 * ports the old version held, so they are freed.
 */
export function keepAllocatedValues(svc: Service, old: Service): void {
  if (!isObject(svc.spec)) return;
  const spec = svc.spec as ServiceSpec;
  const was = old.spec ?? {};
  if (!spec.clusterIP && (!spec.clusterIPs || spec.clusterIPs.length === 0) && was.clusterIP) {
    spec.clusterIP = was.clusterIP;
    spec.clusterIPs = was.clusterIPs ? [...was.clusterIPs] : [was.clusterIP];
  }
  if (spec.clusterIP === was.clusterIP) {
    spec.ipFamilies ??= was.ipFamilies;
    spec.ipFamilyPolicy ??= was.ipFamilyPolicy;
  }
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    for (const p of ports) {
      if (!isObject(p) || p.nodePort) continue;
      const same = (was.ports ?? []).find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (same?.nodePort) p.nodePort = same.nodePort;
    }
  } else if (spec.type === 'ClusterIP') {
    const held = new Set((was.ports ?? []).map((o) => o.nodePort));
    for (const p of ports) if (isObject(p) && p.nodePort && held.has(p.nodePort)) delete p.nodePort;
  }
}

/**
 * Sets ipFamilyPolicy and ipFamilies as Kubernetes does on a single-stack IPv4 cluster:
 * SingleStack and IPv4, except that a headless service without selector asks for both
 * families. Returns the causes of a service that wants what the cluster cannot give.
 */
export function initIPFamilies(svc: Service, old: Service | undefined): StatusCause[] {
  const spec = svc.spec!;
  const headlessNoSelector = spec.clusterIP === clusterIPNone && Object.keys(spec.selector ?? {}).length === 0;
  spec.ipFamilyPolicy ??= old?.spec?.ipFamilyPolicy ?? (headlessNoSelector ? 'RequireDualStack' : 'SingleStack');
  const causes: StatusCause[] = [];
  const families: IPFamily[] = spec.ipFamilies ? [...spec.ipFamilies] : [];
  (spec.clusterIPs ?? []).forEach((ip, i) => {
    if (ip === clusterIPNone || i < families.length) return;
    if (ip.includes(':')) causes.push(fieldInvalid(`spec.clusterIPs[${i}]`, ip, 'IPv6 is not configured on this cluster'));
    else families.push('IPv4');
  });
  if (causes.length) return causes;
  if (headlessNoSelector) {
    if (families.length === 0) families.push('IPv4');
    if (families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
    spec.ipFamilies = families;
    return causes;
  }
  if (spec.ipFamilyPolicy === 'RequireDualStack') {
    causes.push(fieldInvalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
  }
  families.forEach((f, i) => {
    if (f !== 'IPv4') causes.push(fieldInvalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
  });
  if (families.length === 0) families.push('IPv4');
  spec.ipFamilies = families;
  return causes;
}

/** What an update may not change: the cluster IPs and, but for headless services, the families. */
export function validateServiceUpdate(svc: Service, old: Service): StatusCause[] {
  const causes: StatusCause[] = [];
  const ips = svc.spec?.clusterIPs ?? [];
  const oldIPs = old.spec?.clusterIPs ?? [];
  const headless = (s: string[]) => s.length === 1 && s[0] === clusterIPNone;
  if (!(headless(ips) && headless(oldIPs))) {
    if (oldIPs.length > 0 && ips.length === 0) causes.push(fieldInvalid('spec.clusterIPs[0]', ips, 'primary clusterIP can not be unset'));
    oldIPs.forEach((ip, i) => {
      if (i < ips.length && ips[i] !== ip) causes.push(fieldInvalid(`spec.clusterIPs[${i}]`, ips, 'may not change once set'));
    });
  }
  const families = svc.spec?.ipFamilies ?? [];
  const oldFamilies = old.spec?.ipFamilies ?? [];
  if (!headless(ips) && !headless(oldIPs) && oldFamilies.length > 0 && families.length > 0 && families[0] !== oldFamilies[0]) {
    causes.push(fieldInvalid('spec.ipFamilies[0]', families, 'may not change once set'));
  }
  return causes;
}
