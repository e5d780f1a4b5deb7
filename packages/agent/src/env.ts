// A container's environment as the kubelet builds it: the service variables of the pod's
// namespace (and the `kubernetes` service's), then envFrom, then env with valueFrom and
// $(VAR) references. A missing reference that is not optional is a CreateContainerConfigError.
import { isEnvVarName, parseBytes, parseCpuMillis } from '@peapod/api';
import type { ConfigMap, Container, EnvVar, Pod, Secret, Service } from '@peapod/api';
import { ContainerConfigError, expandVars } from './runtime';

/** Where the agent reads what a pod refers to; undefined when the object does not exist. */
export interface PodObjectSource {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
}

export interface EnvInput {
  pod: Pod;
  container: Container;
  podIP: string;
  hostIP: string;
  /** The node's allocatable resources: what a resourceFieldRef on an unset limit reads. */
  allocatable: Record<string, string>;
  /** The services of the pod's namespace, and the `kubernetes` service of `default`. */
  services: Service[];
  objects: PodObjectSource;
}

interface EnvVarSource {
  fieldRef?: { fieldPath: string };
  resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
  configMapKeyRef?: { name?: string; key: string; optional?: boolean };
  secretKeyRef?: { name?: string; key: string; optional?: boolean };
}

/** `metadata.labels['key']` and `metadata.annotations['key']` */
const subscripted = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/** The value of a downward API fieldPath (env fieldRef and downwardAPI volume files). */
export function podFieldValue(pod: Pod, fieldPath: string, podIP: string, hostIP: string): string {
  const sub = subscripted.exec(fieldPath);
  if (sub) return pod.metadata[sub[1] as 'labels' | 'annotations']?.[sub[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    default:
      throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** key="value" lines sorted by key, quoted as Go's %q does for plain text: the downward API's format for maps. */
function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map![k])}`)
    .join('\n');
}

/**
 * A resourceFieldRef's value: the container's limit (the node's allocatable when unset) or
 * request, divided by the divisor and rounded up, as the kubelet reports it.
 */
export function resourceFieldValue(
  pod: Pod,
  ref: { containerName?: string; resource: string; divisor?: string },
  defaultContainer: string | undefined,
  allocatable: Record<string, string>,
): string {
  const name = ref.containerName || defaultContainer;
  const container = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === name);
  if (!container) throw new ContainerConfigError(`resourceFieldRef: container "${name ?? ''}" not found in pod`);
  const [kind, resource] = ref.resource.split('.', 2) as ['limits' | 'requests', string];
  if ((kind !== 'limits' && kind !== 'requests') || !['cpu', 'memory', 'ephemeral-storage'].includes(resource)) {
    throw new ContainerConfigError(`unsupported container resource: ${ref.resource}`);
  }
  let quantity = container.resources?.[kind]?.[resource];
  if (quantity === undefined && kind === 'limits') quantity = allocatable[resource];
  if (quantity === undefined) quantity = '0';
  const divisor = ref.divisor ?? '1';
  if (resource === 'cpu') {
    const millis = parseCpuMillis(quantity);
    return String(Math.ceil(millis / Math.max(1, parseCpuMillis(divisor))));
  }
  return String(Math.ceil(parseBytes(quantity) / Math.max(1, parseBytes(divisor))));
}

/** NAME_SERVICE_HOST and friends, as Docker links named them (the kubelet's service environment). */
function serviceEnv(service: Service, into: Map<string, string>): void {
  const ip = service.spec?.clusterIP;
  const ports = service.spec?.ports ?? [];
  if (!ip || ip === 'None' || ports.length === 0) return;
  const prefix = (service.metadata.name ?? '').toUpperCase().replace(/-/g, '_');
  into.set(`${prefix}_SERVICE_HOST`, ip);
  into.set(`${prefix}_SERVICE_PORT`, String(ports[0].port));
  for (const port of ports) {
    if (port.name) into.set(`${prefix}_SERVICE_PORT_${port.name.toUpperCase().replace(/-/g, '_')}`, String(port.port));
  }
  const url = (port: (typeof ports)[number]): string => `${(port.protocol ?? 'TCP').toLowerCase()}://${ip}:${port.port}`;
  into.set(`${prefix}_PORT`, url(ports[0]));
  for (const port of ports) {
    const protocol = port.protocol ?? 'TCP';
    const base = `${prefix}_PORT_${port.port}_${protocol}`;
    into.set(base, url(port));
    into.set(`${base}_PROTO`, protocol.toLowerCase());
    into.set(`${base}_PORT`, String(port.port));
    into.set(`${base}_ADDR`, ip);
  }
}

/**
 * Service variables for the pod: those of every service of its namespace when
 * enableServiceLinks (the default) allows, and always the `kubernetes` service's.
 */
export function serviceEnvironment(pod: Pod, services: Service[]): Map<string, string> {
  const namespace = pod.metadata.namespace ?? 'default';
  const out = new Map<string, string>();
  for (const service of services) {
    const master = service.metadata.namespace === 'default' && service.metadata.name === 'kubernetes';
    const local = service.metadata.namespace === namespace && pod.spec.enableServiceLinks !== false;
    if (master || local) serviceEnv(service, out);
  }
  return out;
}

async function configMapOf(objects: PodObjectSource, namespace: string, name: string, optional: boolean | undefined): Promise<ConfigMap | undefined> {
  const found = await objects.configMap(namespace, name);
  if (!found && !optional) throw new ContainerConfigError(`configmap "${name}" not found`);
  return found;
}

async function secretOf(objects: PodObjectSource, namespace: string, name: string, optional: boolean | undefined): Promise<Secret | undefined> {
  const found = await objects.secret(namespace, name);
  if (!found && !optional) throw new ContainerConfigError(`secret "${name}" not found`);
  return found;
}

function decodeSecretValues(data: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

/** The container's environment, in order; later definitions of a name win, as in the kubelet. */
export async function containerEnvironment(input: EnvInput): Promise<Map<string, string>> {
  const { pod, container, objects } = input;
  const namespace = pod.metadata.namespace ?? 'default';
  const env = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    let values: Record<string, string> | undefined;
    if (from.configMapRef) {
      values = (await configMapOf(objects, namespace, from.configMapRef.name ?? '', from.configMapRef.optional))?.data;
    } else if (from.secretRef) {
      const secret = await secretOf(objects, namespace, from.secretRef.name ?? '', from.secretRef.optional);
      values = secret && decodeSecretValues(secret.data);
    }
    // Keys that are not variable names are skipped, as the kubelet skips them.
    for (const [k, v] of Object.entries(values ?? {})) {
      const name = `${from.prefix ?? ''}${k}`;
      if (isEnvVarName(name).length === 0) env.set(name, v);
    }
  }
  const services = serviceEnvironment(pod, input.services);
  const lookup = (name: string): string | undefined => env.get(name) ?? services.get(name);
  for (const variable of container.env ?? []) {
    const value = await envVarValue(variable, input, namespace, lookup);
    if (value !== undefined) env.set(variable.name, value);
  }
  // Service variables fill in only names the pod did not define itself.
  for (const [name, value] of services) if (!env.has(name)) env.set(name, value);
  return env;
}

async function envVarValue(variable: EnvVar, input: EnvInput, namespace: string, lookup: (name: string) => string | undefined): Promise<string | undefined> {
  const source = variable.valueFrom as EnvVarSource | undefined;
  if (!source) return expandVars(variable.value ?? '', lookup);
  if (source.fieldRef) return podFieldValue(input.pod, source.fieldRef.fieldPath, input.podIP, input.hostIP);
  if (source.resourceFieldRef) return resourceFieldValue(input.pod, source.resourceFieldRef, input.container.name, input.allocatable);
  if (source.configMapKeyRef) {
    const ref = source.configMapKeyRef;
    const name = ref.name ?? '';
    const configMap = await configMapOf(input.objects, namespace, name, ref.optional);
    if (!configMap) return undefined;
    const value = configMap.data?.[ref.key];
    if (value === undefined && !ref.optional) throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${namespace}/${name}`);
    return value;
  }
  if (source.secretKeyRef) {
    const ref = source.secretKeyRef;
    const name = ref.name ?? '';
    const secret = await secretOf(input.objects, namespace, name, ref.optional);
    if (!secret) return undefined;
    const encoded = secret.data?.[ref.key];
    if (encoded === undefined && !ref.optional) throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${namespace}/${name}`);
    return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
  }
  return undefined;
}
