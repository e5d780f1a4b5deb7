// Semantic rules of Services, Endpoints and EndpointSlices, worded as Kubernetes words them
// (pkg/apis/core/validation and pkg/apis/discovery/validation). The API server checks
// allocation (a cluster IP or node port already taken, or out of range) separately.

import { isIP, isIPv4 } from 'node:net';
import {
  asArray,
  asNumber,
  asObject,
  asString,
  duplicate,
  forbidden,
  invalid,
  invalidIPMessage,
  notSupported,
  required,
  tooMany,
  validateIntOrStringPort,
  validateLabels,
  validateMeta,
  validatePortNumber,
  type JsonObject,
  type ValidationCause,
} from './field-rules';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, validateLabelKey } from './names';
import { clusterIPNone } from './service';

/** The service types Peapod serves (LoadBalancer and ExternalName are not implemented). */
export const supportedServiceTypes = ['ClusterIP', 'NodePort'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const maxClientIPAffinitySeconds = 86400;

function validatePortName(name: string, field: string, seen: Set<string>, out: ValidationCause[]): void {
  for (const msg of isDNS1123Label(name)) out.push(invalid(field, name, msg));
  if (seen.has(name)) out.push(duplicate(field, name));
  seen.add(name);
}

function validateProtocol(v: unknown, field: string, out: ValidationCause[]): void {
  if (v === undefined || v === '') out.push(required(field));
  else if (!protocols.includes(String(v))) out.push(notSupported(field, v, protocols));
}

function validateServicePort(p: JsonObject, field: string, requireName: boolean, names: Set<string>, out: ValidationCause[]): void {
  const name = asString(p.name) ?? '';
  if (requireName && name === '') out.push(required(`${field}.name`));
  else if (name !== '') validatePortName(name, `${field}.name`, names, out);
  if (typeof p.port === 'number' && (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535)) {
    out.push(invalid(`${field}.port`, p.port, 'must be between 1 and 65535, inclusive'));
  }
  validateProtocol(p.protocol, `${field}.protocol`, out);
  validateIntOrStringPort(p.targetPort, `${field}.targetPort`, out);
  const appProtocol = asString(p.appProtocol);
  if (appProtocol !== undefined) for (const msg of validateLabelKey(appProtocol)) out.push(invalid(`${field}.appProtocol`, appProtocol, msg));
}

/** clusterIP, clusterIPs, ipFamilies and ipFamilyPolicy, each alone and together. */
function validateClusterIPs(spec: JsonObject, out: ValidationCause[]): void {
  const clusterIP = asString(spec.clusterIP) ?? '';
  const ips = asArray(spec.clusterIPs).map((x) => String(x));
  if (clusterIP !== '') {
    if (ips.length === 0) out.push(required('spec.clusterIPs'));
    else if (ips[0] !== clusterIP) out.push(invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  } else if (ips.length > 0) {
    out.push(invalid('spec.clusterIPs', ips, 'must be empty when `clusterIP` is not specified'));
  }
  const families = asArray(spec.ipFamilies).map((x) => String(x));
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') out.push(notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    if (seen.has(f)) out.push(duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  const policy = spec.ipFamilyPolicy;
  if (policy !== undefined && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(String(policy))) {
    out.push(notSupported('spec.ipFamilyPolicy', policy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  }
  let badIP = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === clusterIPNone) {
      if (ips.length > 1) {
        badIP = true;
        out.push(invalid('spec.clusterIPs', ips, "'None' must be the first and only value"));
      }
      return;
    }
    if (isIP(ip) === 0) {
      badIP = true;
      out.push(invalid(`spec.clusterIPs[${i}]`, ip, invalidIPMessage));
    }
  });
  if (ips.length > 2) out.push(invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  if (badIP) return;
  if (ips.length === 2 && isIPv4(ips[0]) === isIPv4(ips[1])) {
    out.push(invalid('spec.clusterIPs', ips, 'may specify no more than one IP for each IP family'));
  }
  if (ips[0] !== clusterIPNone) {
    ips.forEach((ip, i) => {
      const family = families[i];
      if (family === 'IPv4' && !isIPv4(ip)) out.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (family === 'IPv6' && isIPv4(ip)) out.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
}

function validateSessionAffinity(spec: JsonObject, out: ValidationCause[]): void {
  const affinity = spec.sessionAffinity;
  if (affinity === undefined || affinity === '') out.push(required('spec.sessionAffinity'));
  else if (affinity !== 'ClientIP' && affinity !== 'None') out.push(notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  const config = asObject(spec.sessionAffinityConfig);
  if (affinity === 'None' && config) {
    out.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  if (affinity === 'ClientIP') {
    const seconds = asNumber(asObject(config?.clientIP)?.timeoutSeconds);
    const field = 'spec.sessionAffinityConfig.clientIP.timeoutSeconds';
    if (seconds === undefined) out.push(required(field));
    else if (seconds <= 0 || seconds > maxClientIPAffinitySeconds) {
      out.push(invalid(field, seconds, `must be greater than 0 and less than ${maxClientIPAffinitySeconds}`));
    }
  }
}

function validateTrafficPolicies(spec: JsonObject, type: unknown, out: ValidationCause[]): void {
  const external = spec.externalTrafficPolicy;
  if (type !== 'NodePort' && type !== 'LoadBalancer') {
    if (external !== undefined && external !== '') {
      out.push(invalid('spec.externalTrafficPolicy', external, 'may only be set for externally-accessible services'));
    }
  } else if (external === undefined || external === '') {
    out.push(required('spec.externalTrafficPolicy'));
  } else if (external !== 'Cluster' && external !== 'Local') {
    out.push(notSupported('spec.externalTrafficPolicy', external, ['Cluster', 'Local']));
  }
  const internal = spec.internalTrafficPolicy;
  if (internal === undefined) out.push(required('spec.internalTrafficPolicy'));
  else if (internal !== 'Cluster' && internal !== 'Local') out.push(notSupported('spec.internalTrafficPolicy', internal, ['Cluster', 'Local']));
}

/** ValidateService: a defaulted service, before its cluster IP and node ports are allocated. */
export function validateService(obj: JsonObject, out: ValidationCause[]): void {
  validateMeta(obj.metadata, { nameRule: isDNS1035Label, requireName: true }, out);
  const spec = asObject(obj.spec) ?? {};
  const ports = asArray(spec.ports).map((p) => asObject(p) ?? {});
  const headless = asArray(spec.clusterIPs)[0] === clusterIPNone;
  const type = spec.type;
  if (ports.length === 0 && !headless) out.push(required('spec.ports'));
  if (type === 'NodePort' && headless) out.push(invalid('spec.clusterIPs[0]', clusterIPNone, "may not be set to 'None' for NodePort services"));

  const names = new Set<string>();
  ports.forEach((p, i) => validateServicePort(p, `spec.ports[${i}]`, ports.length > 1, names, out));
  if (spec.selector !== undefined) validateLabels(spec.selector, 'spec.selector', out);
  validateSessionAffinity(spec, out);
  validateClusterIPs(spec, out);
  asArray(spec.externalIPs).forEach((ip, i) => {
    if (typeof ip === 'string' && isIP(ip) === 0) out.push(invalid(`spec.externalIPs[${i}]`, ip, invalidIPMessage));
  });
  if (type === undefined || type === '') out.push(required('spec.type'));
  else if (!supportedServiceTypes.includes(String(type))) out.push(notSupported('spec.type', type, supportedServiceTypes));

  const nodePorts = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const nodePort = asNumber(p.nodePort) ?? 0;
    if (type === 'ClusterIP' && nodePort !== 0) out.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    if (nodePort !== 0) {
      validatePortNumber(nodePort, `spec.ports[${i}].nodePort`, out);
      const key = `${String(p.protocol)}/${nodePort}`;
      if (nodePorts.has(key)) out.push(duplicate(`spec.ports[${i}].nodePort`, nodePort));
      nodePorts.add(key);
    }
    const key = `${String(p.protocol)}/${String(p.port)}`;
    if (portKeys.has(key)) out.push(duplicate(`spec.ports[${i}]`, { port: p.port, protocol: p.protocol }));
    portKeys.add(key);
  });
  validateTrafficPolicies(spec, type, out);
}

function validateAddressFields(a: JsonObject, field: string, out: ValidationCause[]): void {
  const hostname = asString(a.hostname);
  if (hostname) for (const msg of isDNS1123Label(hostname)) out.push(invalid(`${field}.hostname`, hostname, msg));
  const nodeName = asString(a.nodeName);
  if (nodeName) for (const msg of isDNS1123Subdomain(nodeName)) out.push(invalid(`${field}.nodeName`, nodeName, msg));
}

/** ValidateEndpoints: every subset has addresses, every address an IP, every port a number and protocol. */
export function validateEndpoints(obj: JsonObject, out: ValidationCause[]): void {
  validateMeta(obj.metadata, { nameRule: isDNS1123Subdomain, requireName: true }, out);
  asArray(obj.subsets).forEach((sRaw, i) => {
    const s = asObject(sRaw) ?? {};
    const field = `subsets[${i}]`;
    const addresses = asArray(s.addresses);
    const notReady = asArray(s.notReadyAddresses);
    if (addresses.length === 0 && notReady.length === 0) out.push(required(field, 'must specify `addresses` or `notReadyAddresses`'));
    for (const [list, name] of [[addresses, 'addresses'], [notReady, 'notReadyAddresses']] as const) {
      list.forEach((aRaw, j) => {
        const a = asObject(aRaw) ?? {};
        const af = `${field}.${name}[${j}]`;
        const ip = asString(a.ip);
        if (ip !== undefined && isIP(ip) === 0) out.push(invalid(`${af}.ip`, ip, invalidIPMessage));
        validateAddressFields(a, af, out);
      });
    }
    const ports = asArray(s.ports).map((p) => asObject(p) ?? {});
    const names = new Set<string>();
    ports.forEach((p, j) => {
      const pf = `${field}.ports[${j}]`;
      const name = asString(p.name) ?? '';
      if (ports.length > 1 && name === '') out.push(required(`${pf}.name`));
      else if (name !== '') validatePortName(name, `${pf}.name`, names, out);
      validatePortNumber(p.port, `${pf}.port`, out);
      validateProtocol(p.protocol, `${pf}.protocol`, out);
    });
  });
}

const addressTypes = ['FQDN', 'IPv4', 'IPv6'];
const maxSliceEndpoints = 1000;
const maxEndpointAddresses = 100;

/** ValidateEndpointSlice (discovery.k8s.io/v1). */
export function validateEndpointSlice(obj: JsonObject, out: ValidationCause[]): void {
  validateMeta(obj.metadata, { nameRule: isDNS1123Subdomain, requireName: true }, out);
  const addressType = obj.addressType;
  if (addressType !== undefined && !addressTypes.includes(String(addressType))) out.push(notSupported('addressType', addressType, addressTypes));
  const endpoints = asArray(obj.endpoints);
  if (endpoints.length > maxSliceEndpoints) {
    out.push(tooMany('endpoints', endpoints.length, maxSliceEndpoints));
  }
  endpoints.forEach((eRaw, i) => {
    const e = asObject(eRaw) ?? {};
    const field = `endpoints[${i}]`;
    const addresses = asArray(e.addresses);
    if (addresses.length === 0) out.push(required(`${field}.addresses`, 'must contain at least 1 address'));
    else if (addresses.length > maxEndpointAddresses) out.push(invalid(`${field}.addresses`, addresses.length, `must contain at most ${maxEndpointAddresses} addresses`));
    addresses.forEach((a, j) => {
      if (typeof a !== 'string') return;
      if (addressType === 'IPv4' && !isIPv4(a)) out.push(invalid(`${field}.addresses[${j}]`, a, 'must be a valid IPv4 address'));
      if (addressType === 'IPv6' && isIP(a) !== 6) out.push(invalid(`${field}.addresses[${j}]`, a, 'must be a valid IPv6 address'));
      if (addressType === 'FQDN') for (const msg of isDNS1123Subdomain(a)) out.push(invalid(`${field}.addresses[${j}]`, a, msg));
    });
    validateAddressFields(e, field, out);
    const zone = asString(e.zone);
    if (zone !== undefined) validateLabels({ zone }, `${field}.zone`, out);
  });
  const names = new Set<string>();
  asArray(obj.ports).forEach((pRaw, i) => {
    const p = asObject(pRaw) ?? {};
    const field = `ports[${i}]`;
    const name = asString(p.name);
    if (name) validatePortName(name, `${field}.name`, names, out);
    validateProtocol(p.protocol, `${field}.protocol`, out);
    validatePortNumber(p.port, `${field}.port`, out);
  });
}
