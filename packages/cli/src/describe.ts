// kubectl's describe layout for pods, nodes, replication controllers, services, endpoints
// and EndpointSlices: "Key:<tab>value" lines at indentation
// levels, aligned like Go's tabwriter (a line without a tab ends an alignment block),
// and the object's Events table at the end.

import { formatAge, formatBytes, formatCpuMillis, formatSelector, isPodTerminal, parseBytes, parseCpuMillis } from '@peapod/api';
import type {
  ConfigMap,
  Container,
  ContainerState,
  ContainerStatus,
  DownwardAPIVolumeFile,
  EndpointSlice,
  Endpoints,
  EnvVar,
  Event,
  Lease,
  Node,
  NodeStatus,
  Pod,
  Probe,
  ClusterRole,
  ReplicationController,
  RoleBinding,
  Secret,
  Service,
  ServiceAccount,
  Toleration,
  Volume,
} from '@peapod/api';
import { lastAppliedAnnotation } from './annotations';
import { eventMoment } from './event-follow';
import { alignTabs, describeLayout } from './printers/tabwriter';

const none = '<none>';

class Writer {
  private text = '';

  line(level: number, content: string): void {
    this.text += '  '.repeat(level) + content + '\n';
  }

  /** `Name:<tab>k=v` then one `<tab>k=v` line per further entry. */
  multiline(level: number, title: string, entries: string[]): void {
    if (entries.length === 0) {
      this.line(level, `${title}:\t${none}`);
      return;
    }
    this.line(level, `${title}:\t${entries[0]}`);
    for (const e of entries.slice(1)) this.line(level, `\t${e}`);
  }

  toString(): string {
    return alignTabs(this.text, describeLayout);
  }
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** RFC 1123 with a numeric zone, in local time: "Wed, 25 Nov 2026 14:00:00 +0000". */
export function describeTime(iso: string | null | undefined): string {
  if (!iso) return none;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const offset = -d.getTimezoneOffset();
  const zone = `${offset >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return `${days[d.getDay()]}, ${pad(d.getDate())} ${months[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
}

function sortedEntries(map: Record<string, string> | undefined, sep: string): string[] {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}${sep}${(map as Record<string, string>)[k]}`);
}

/** kubectl breaks an annotation longer than this (or of several lines) onto lines of its own. */
const maxAnnotationLength = 140;

function shorten(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

function annotationEntries(map: Record<string, string> | undefined): string[] {
  const entries: string[] = [];
  for (const key of Object.keys(map ?? {}).sort()) {
    if (key === lastAppliedAnnotation) continue;
    const value = (map as Record<string, string>)[key].replace(/\n$/, '');
    if (value.length + key.length + 2 > maxAnnotationLength || value.includes('\n')) {
      entries.push(`${key}:`, ...value.split('\n').map((line) => `  ${shorten(line, maxAnnotationLength - 2)}`));
    } else {
      entries.push(`${key}: ${value}`);
    }
  }
  return entries;
}

function writeState(w: Writer, title: string, state: ContainerState | undefined): void {
  if (state?.running) {
    w.line(2, `${title}:\tRunning`);
    w.line(3, `Started:\t${describeTime(state.running.startedAt)}`);
  } else if (state?.waiting) {
    w.line(2, `${title}:\tWaiting`);
    if (state.waiting.reason) w.line(3, `Reason:\t${state.waiting.reason}`);
    if (state.waiting.message) w.line(3, `Message:\t${state.waiting.message}`);
  } else if (state?.terminated) {
    const t = state.terminated;
    w.line(2, `${title}:\tTerminated`);
    if (t.reason) w.line(3, `Reason:\t${t.reason}`);
    if (t.message) w.line(3, `Message:\t${t.message}`);
    w.line(3, `Exit Code:\t${t.exitCode}`);
    if (t.signal) w.line(3, `Signal:\t${t.signal}`);
    w.line(3, `Started:\t${describeTime(t.startedAt)}`);
    w.line(3, `Finished:\t${describeTime(t.finishedAt)}`);
  } else {
    w.line(2, `${title}:\tWaiting`);
  }
}

/** kubectl's "80/TCP, 443/TCP" for container or host ports, and the title in the plural when there are several. */
function writePorts(w: Writer, title: string, ports: string[]): void {
  if (ports.length > 1) w.line(2, `${title}s:\t${ports.join(', ')}`);
  else w.line(2, `${title}:\t${ports[0] ?? none}`);
}

/** Each line of a value that may span several, the first after `first`, the rest under it. */
function splitLines(value: string): string[] {
  return value.split('\n');
}

function envVarLines(e: EnvVar): string[] {
  if (e.valueFrom === undefined || e.valueFrom === null) {
    return splitLines(e.value ?? '').map((s, i) => (i === 0 ? `${e.name}:\t${s}` : `\t${s}`));
  }
  const from = e.valueFrom as Record<string, Record<string, unknown> | undefined>;
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  if (from.fieldRef) return [`${e.name}:\t (${text(from.fieldRef.apiVersion)}:${text(from.fieldRef.fieldPath)})`];
  if (from.resourceFieldRef) return [`${e.name}:\t (${text(from.resourceFieldRef.resource)})`];
  return [`${e.name}:\t`];
}

/** kubectl's one-line probe: "http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3". */
export function describeProbe(probe: Probe): string {
  const attrs = `delay=${probe.initialDelaySeconds ?? 0}s timeout=${probe.timeoutSeconds ?? 0}s period=${probe.periodSeconds ?? 0}s #success=${probe.successThreshold ?? 0} #failure=${probe.failureThreshold ?? 0}`;
  if (probe.exec) return `exec [${(probe.exec.command ?? []).join(' ')}] ${attrs}`;
  if (probe.httpGet) {
    const host = probe.httpGet.host ?? '';
    const port = String(probe.httpGet.port);
    const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return `http-get ${(probe.httpGet.scheme ?? '').toLowerCase()}://${hostPort}${probe.httpGet.path ?? ''} ${attrs}`;
  }
  if (probe.tcpSocket) return `tcp-socket ${probe.tcpSocket.host ?? ''}:${String(probe.tcpSocket.port)} ${attrs}`;
  return `unknown ${attrs}`;
}

/**
 * One container as kubectl describes it: in a pod (with its status) or in a pod template
 * (no status; names indented one more space, as kubectl does).
 */
function writeContainer(w: Writer, c: Container, status: ContainerStatus | undefined, inTemplate: boolean): void {
  w.line(1, `${inTemplate ? ' ' : ''}${c.name}:`);
  if (status?.containerID) w.line(2, `Container ID:\t${status.containerID}`);
  w.line(2, `Image:\t${c.image ?? ''}`);
  if (status !== undefined) w.line(2, `Image ID:\t${status.imageID ?? ''}`);
  const ports = c.ports ?? [];
  writePorts(w, 'Port', ports.map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`));
  writePorts(w, 'Host Port', ports.map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`));
  for (const [title, parts] of [['Command', c.command], ['Args', c.args]] as const) {
    if (!parts?.length) continue;
    w.line(2, `${title}:`);
    for (const part of parts) for (const s of splitLines(part)) w.line(3, s);
  }
  if (status !== undefined) {
    writeState(w, 'State', status.state);
    if (status.lastState?.running || status.lastState?.waiting || status.lastState?.terminated) writeState(w, 'Last State', status.lastState);
    w.line(2, `Ready:\t${status.ready ? 'True' : 'False'}`);
    w.line(2, `Restart Count:\t${status.restartCount ?? 0}`);
  }
  for (const kind of ['limits', 'requests'] as const) {
    const values = c.resources?.[kind];
    if (values === undefined || Object.keys(values).length === 0) continue;
    w.line(2, `${kind === 'limits' ? 'Limits' : 'Requests'}:`);
    for (const k of Object.keys(values).sort()) w.line(3, `${k}:\t${String(values[k])}`);
  }
  for (const [title, probe] of [['Liveness', c.livenessProbe], ['Readiness', c.readinessProbe], ['Startup', c.startupProbe]] as const) {
    if (probe) w.line(2, `${title}:\t${describeProbe(probe)}`);
  }
  const env = c.env ?? [];
  if (env.length === 0) w.line(2, `Environment:\t${none}`);
  else {
    w.line(2, 'Environment:');
    for (const e of env) for (const l of envVarLines(e)) w.line(3, l);
  }
  const mounts = [...(c.volumeMounts ?? [])].sort((a, b) => (a.mountPath < b.mountPath ? -1 : a.mountPath > b.mountPath ? 1 : 0));
  if (mounts.length === 0) w.line(2, `Mounts:\t${none}`);
  else {
    w.line(2, 'Mounts:');
    for (const m of mounts) {
      const flags = [m.readOnly ? 'ro' : 'rw', ...(m.subPath ? [`path=${JSON.stringify(m.subPath)}`] : [])];
      w.line(3, `${m.mountPath} from ${m.name} (${flags.join(',')})`);
    }
  }
}

/** A containers section; `space` is the template's two-space indentation ('' in a pod). */
function writeContainers(w: Writer, space: string, title: string, containers: Container[], statuses: ContainerStatus[] | undefined): void {
  w.line(0, `${space}${title}:${containers.length === 0 ? ` ${none}` : ''}`);
  for (const c of containers) writeContainer(w, c, statuses?.find((s) => s.name === c.name), space !== '');
}

function writeVolumes(w: Writer, space: string, volumes: Volume[]): void {
  if (volumes.length === 0) {
    w.line(0, `${space}Volumes:\t${none}`);
    return;
  }
  w.line(0, `${space}Volumes:`);
  for (const v of volumes) {
    w.line(1, `${space !== '' ? ' ' : ''}${v.name}:`);
    if (v.emptyDir) {
      w.line(2, `Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)`);
      w.line(2, `Medium:\t${v.emptyDir.medium ?? ''}`);
      w.line(2, `SizeLimit:\t${v.emptyDir.sizeLimit ?? '<unset>'}`);
    } else if (v.hostPath) {
      w.line(2, `Type:\tHostPath (bare host directory volume)`);
      w.line(2, `Path:\t${v.hostPath.path}`);
      w.line(2, `HostPathType:\t${v.hostPath.type ?? none}`);
    } else if (v.secret) {
      w.line(2, `Type:\tSecret (a volume populated by a Secret)`);
      w.line(2, `SecretName:\t${v.secret.secretName ?? ''}`);
      w.line(2, `Optional:\t${v.secret.optional === true}`);
    } else if (v.configMap) {
      w.line(2, `Type:\tConfigMap (a volume populated by a ConfigMap)`);
      w.line(2, `Name:\t${v.configMap.name ?? ''}`);
      w.line(2, `Optional:\t${v.configMap.optional === true}`);
    } else if (v.downwardAPI) {
      w.line(2, `Type:\tDownwardAPI (a volume populated by information about the pod)`);
      w.line(2, 'Items:');
      for (const line of downwardItems(v.downwardAPI.items)) w.line(3, line);
    } else if (v.projected) {
      writeProjected(w, v.projected.sources ?? []);
    } else {
      w.line(1, '<unknown>');
    }
  }
}

function downwardItems(items: DownwardAPIVolumeFile[] | undefined): string[] {
  return (items ?? []).flatMap((i) => [
    ...(i.fieldRef ? [`${i.fieldRef.fieldPath} -> ${i.path}`] : []),
    ...(i.resourceFieldRef ? [`${i.resourceFieldRef.resource} -> ${i.path}`] : []),
  ]);
}

/** An unset optional reads "<nil>", as kubectl prints the pointer it has. */
function optionalText(optional: boolean | undefined): string {
  return optional === undefined ? '<nil>' : String(optional);
}

function writeProjected(w: Writer, sources: NonNullable<Volume['projected']>['sources'] & object): void {
  w.line(2, `Type:\tProjected (a volume that contains injected data from multiple sources)`);
  for (const src of sources) {
    if (src.secret) {
      w.line(2, `SecretName:\t${src.secret.name ?? ''}`);
      w.line(2, `SecretOptionalName:\t${optionalText(src.secret.optional)}`);
    } else if (src.downwardAPI) {
      w.line(2, 'DownwardAPI:\ttrue');
    } else if (src.configMap) {
      w.line(2, `ConfigMapName:\t${src.configMap.name ?? ''}`);
      w.line(2, `ConfigMapOptional:\t${optionalText(src.configMap.optional)}`);
    } else if (src.serviceAccountToken) {
      w.line(2, `TokenExpirationSeconds:\t${src.serviceAccountToken.expirationSeconds ?? 3600}`);
    }
  }
}

/** kubectl lists tolerations by key. */
function sortedTolerations(tolerations: Toleration[] | undefined): Toleration[] {
  return [...(tolerations ?? [])].sort((a, b) => ((a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0));
}

function tolerationText(t: Toleration): string {
  let s = t.key ?? '';
  if (t.value) s += `=${t.value}`;
  if (t.effect) s += `:${t.effect}`;
  if (t.operator === 'Exists' && !t.value) s += s === '' ? 'op=Exists' : ' op=Exists';
  if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
  return s;
}

function eventAge(e: Event, now: number): string {
  const last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  const count = e.count ?? 1;
  if (count > 1 && e.firstTimestamp) return `${formatAge(last, now)} (x${count} over ${formatAge(e.firstTimestamp, now)})`;
  return formatAge(last ?? e.firstTimestamp, now);
}

function writeEvents(w: Writer, events: Event[], now: number): void {
  if (events.length === 0) {
    w.line(0, `Events:\t${none}`);
    return;
  }
  // In the order they happened, to the millisecond where events say (eventTime); ties keep the server's order.
  const sorted = [...events].sort((a, b) => eventMoment(a) - eventMoment(b));
  w.line(0, 'Events:');
  w.line(1, 'Type\tReason\tAge\tFrom\tMessage');
  w.line(1, '----\t------\t----\t----\t-------');
  for (const e of sorted) {
    const from = [e.source?.component || e.reportingComponent, e.source?.host].filter(Boolean).join(', ');
    w.line(1, `${e.type ?? ''}\t${e.reason ?? ''}\t${eventAge(e, now)}\t${from}\t${(e.message ?? '').trim()}`);
  }
}

export function describePod(pod: Pod, events: Event[], now = Date.now()): string {
  const w = new Writer();
  const meta = pod.metadata;
  const status = pod.status ?? {};
  w.line(0, `Name:\t${meta.name ?? ''}`);
  w.line(0, `Namespace:\t${meta.namespace ?? ''}`);
  w.line(0, `Priority:\t${pod.spec.priority ?? 0}`);
  if (pod.spec.serviceAccountName) w.line(0, `Service Account:\t${pod.spec.serviceAccountName}`);
  w.line(0, `Node:\t${pod.spec.nodeName ? `${pod.spec.nodeName}/${status.hostIP ?? ''}` : none}`);
  if (status.startTime) w.line(0, `Start Time:\t${describeTime(status.startTime)}`);
  w.multiline(0, 'Labels', sortedEntries(meta.labels, '='));
  w.multiline(0, 'Annotations', annotationEntries(meta.annotations));
  if (meta.deletionTimestamp) {
    // How long the pod has been terminating: since the delete, i.e. the deadline minus the grace period.
    const grace = meta.deletionGracePeriodSeconds ?? 0;
    const requested = new Date(Date.parse(meta.deletionTimestamp) - grace * 1000).toISOString();
    w.line(0, `Status:\tTerminating (lasts ${formatAge(requested, now)})`);
    w.line(0, `Termination Grace Period:\t${grace}s`);
    w.line(0, `Deletion Deadline:\t${describeTime(meta.deletionTimestamp)}`);
  } else {
    w.line(0, `Status:\t${status.phase ?? 'Unknown'}`);
  }
  if (status.reason) w.line(0, `Reason:\t${status.reason}`);
  if (status.message) w.line(0, `Message:\t${status.message}`);
  w.line(0, `IP:\t${status.podIP ?? ''}`);
  const ips = status.podIPs ?? [];
  if (ips.length === 0) w.line(0, `IPs:\t${none}`);
  else {
    w.line(0, 'IPs:');
    for (const ip of ips) w.line(1, `IP:\t${ip.ip}`);
  }
  const owner = meta.ownerReferences?.find((o) => o.controller);
  if (owner) w.line(0, `Controlled By:\t${owner.kind}/${owner.name}`);
  if (pod.spec.initContainers?.length) writeContainers(w, '', 'Init Containers', pod.spec.initContainers, status.initContainerStatuses ?? []);
  writeContainers(w, '', 'Containers', pod.spec.containers ?? [], status.containerStatuses ?? []);
  if (pod.spec.ephemeralContainers?.length) writeContainers(w, '', 'Ephemeral Containers', pod.spec.ephemeralContainers, status.ephemeralContainerStatuses ?? []);
  if (status.conditions?.length) {
    w.line(0, 'Conditions:');
    w.line(1, 'Type\tStatus');
    for (const c of status.conditions) w.line(1, `${c.type} \t${c.status} `);
  }
  writeVolumes(w, '', pod.spec.volumes ?? []);
  w.line(0, `QoS Class:\t${status.qosClass ?? ''}`);
  w.multiline(0, 'Node-Selectors', sortedEntries(pod.spec.nodeSelector, '='));
  w.multiline(0, 'Tolerations', sortedTolerations(pod.spec.tolerations).map(tolerationText));
  writeEvents(w, events, now);
  return w.toString();
}

interface PodResources {
  cpuRequests: number;
  cpuLimits: number;
  memRequests: number;
  memLimits: number;
  storageRequests: number;
  storageLimits: number;
}

const storage = 'ephemeral-storage';

function podResources(pod: Pod): PodResources {
  const r: PodResources = { cpuRequests: 0, cpuLimits: 0, memRequests: 0, memLimits: 0, storageRequests: 0, storageLimits: 0 };
  for (const c of pod.spec.containers ?? []) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    r.cpuRequests += parseCpuMillis(String(req.cpu ?? lim.cpu ?? '0'));
    r.cpuLimits += parseCpuMillis(String(lim.cpu ?? '0'));
    r.memRequests += parseBytes(String(req.memory ?? lim.memory ?? '0'));
    r.memLimits += parseBytes(String(lim.memory ?? '0'));
    r.storageRequests += parseBytes(String(req[storage] ?? lim[storage] ?? '0'));
    r.storageLimits += parseBytes(String(lim[storage] ?? '0'));
  }
  return r;
}

function percent(value: number, total: number): string {
  return total > 0 ? `${Math.floor((value * 100) / total)}%` : '0%';
}

/** The node's Lease as kubectl shows it, or why it could not be read. */
function writeLease(w: Writer, lease: Lease | Error): void {
  if (lease instanceof Error) {
    w.line(0, `Lease:\tFailed to get lease: ${lease.message}`);
    return;
  }
  const unset = '<unset>';
  const spec = lease.spec ?? {};
  w.line(0, 'Lease:');
  w.line(1, `HolderIdentity:\t${spec.holderIdentity ?? unset}`);
  w.line(1, `AcquireTime:\t${spec.acquireTime ? describeTime(spec.acquireTime) : unset}`);
  w.line(1, `RenewTime:\t${spec.renewTime ? describeTime(spec.renewTime) : unset}`);
}

/** A node as kubectl describes it; `lease` is its Lease in kube-node-lease, or the error reading it. */
export function describeNode(node: Node, pods: Pod[], events: Event[], lease: Lease | Error, now = Date.now()): string {
  const w = new Writer();
  const meta = node.metadata;
  const roles = Object.keys(meta.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean)
    .sort();
  w.line(0, `Name:\t${meta.name ?? ''}`);
  w.line(0, `Roles:\t${roles.length ? roles.join(',') : none}`);
  w.multiline(0, 'Labels', sortedEntries(meta.labels, '='));
  w.multiline(0, 'Annotations', annotationEntries(meta.annotations));
  w.line(0, `CreationTimestamp:\t${describeTime(meta.creationTimestamp)}`);
  w.multiline(0, 'Taints', (node.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`));
  w.line(0, `Unschedulable:\t${node.spec?.unschedulable ? 'true' : 'false'}`);
  writeLease(w, lease);
  const status = node.status ?? {};
  if (status.conditions?.length) {
    w.line(0, 'Conditions:');
    w.line(1, 'Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage');
    w.line(1, '----\t------\t-----------------\t------------------\t------\t-------');
    for (const c of status.conditions) {
      // kubectl ends each cell of these rows with a space; the header's cells have none.
      w.line(1, `${c.type} \t${c.status} \t${describeTime(c.lastHeartbeatTime)} \t${describeTime(c.lastTransitionTime)} \t${c.reason ?? ''} \t${c.message ?? ''}`);
    }
  }
  w.line(0, 'Addresses:');
  for (const a of status.addresses ?? []) w.line(1, `${a.type}:\t${a.address}`);
  for (const [title, values] of [['Capacity', status.capacity], ['Allocatable', status.allocatable]] as const) {
    if (values === undefined) continue;
    w.line(0, `${title}:`);
    for (const k of Object.keys(values).sort()) w.line(1, `${k}:\t${values[k]}`);
  }
  // kubectl prints System Info even for a node that reported none.
  const info: Partial<NonNullable<NodeStatus['nodeInfo']>> = status.nodeInfo ?? {};
  w.line(0, 'System Info:');
  w.line(1, `Machine ID:\t${info.machineID ?? ''}`);
  w.line(1, `System UUID:\t${info.systemUUID ?? ''}`);
  w.line(1, `Boot ID:\t${info.bootID ?? ''}`);
  w.line(1, `Kernel Version:\t${info.kernelVersion ?? ''}`);
  w.line(1, `OS Image:\t${info.osImage ?? ''}`);
  w.line(1, `Operating System:\t${info.operatingSystem ?? ''}`);
  w.line(1, `Architecture:\t${info.architecture ?? ''}`);
  w.line(1, `Container Runtime Version:\t${info.containerRuntimeVersion ?? ''}`);
  w.line(1, `Kubelet Version:\t${info.kubeletVersion ?? ''}`);
  w.line(1, `Kube-Proxy Version:\t${info.kubeProxyVersion ?? ''}`);
  const allocCpu = parseCpuMillis(String(status.allocatable?.cpu ?? '0'));
  const allocMem = parseBytes(String(status.allocatable?.memory ?? '0'));
  const running = pods.filter((p) => !isPodTerminal(p));
  w.line(0, `Non-terminated Pods:\t(${running.length} in total)`);
  const allocStorage = parseBytes(String(status.allocatable?.[storage] ?? '0'));
  const total: PodResources = { cpuRequests: 0, cpuLimits: 0, memRequests: 0, memLimits: 0, storageRequests: 0, storageLimits: 0 };
  if (running.length > 0) {
    // kubectl's layout has an empty column after Name.
    w.line(1, 'Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge');
    w.line(1, '---------\t----\t\t------------\t----------\t---------------\t-------------\t---');
    for (const p of running) {
      const r = podResources(p);
      total.cpuRequests += r.cpuRequests;
      total.cpuLimits += r.cpuLimits;
      total.memRequests += r.memRequests;
      total.memLimits += r.memLimits;
      total.storageRequests += r.storageRequests;
      total.storageLimits += r.storageLimits;
      w.line(
        1,
        `${p.metadata.namespace ?? ''}\t${p.metadata.name ?? ''}\t\t${formatCpuMillis(r.cpuRequests)} (${percent(r.cpuRequests, allocCpu)})\t` +
          `${formatCpuMillis(r.cpuLimits)} (${percent(r.cpuLimits, allocCpu)})\t${formatBytes(r.memRequests)} (${percent(r.memRequests, allocMem)})\t` +
          `${formatBytes(r.memLimits)} (${percent(r.memLimits, allocMem)})\t${formatAge(p.metadata.creationTimestamp, now)}`,
      );
    }
  }
  w.line(0, 'Allocated resources:');
  w.line(1, '(Total limits may be over 100 percent, i.e., overcommitted.)');
  w.line(1, 'Resource\tRequests\tLimits');
  w.line(1, '--------\t--------\t------');
  w.line(1, `cpu\t${formatCpuMillis(total.cpuRequests)} (${percent(total.cpuRequests, allocCpu)})\t${formatCpuMillis(total.cpuLimits)} (${percent(total.cpuLimits, allocCpu)})`);
  w.line(1, `memory\t${formatBytes(total.memRequests)} (${percent(total.memRequests, allocMem)})\t${formatBytes(total.memLimits)} (${percent(total.memLimits, allocMem)})`);
  w.line(1, `${storage}\t${formatBytes(total.storageRequests)} (${percent(total.storageRequests, allocStorage)})\t${formatBytes(total.storageLimits)} (${percent(total.storageLimits, allocStorage)})`);
  writeEvents(w, events, now);
  return w.toString();
}

/** How many of a controller's pods are in each phase, for its "Pods Status" line. */
export interface PodPhaseCounts {
  running: number;
  waiting: number;
  succeeded: number;
  failed: number;
}

/** Counts the pods the controller owns (its controller reference names its uid); orphans and others' pods do not count. */
export function countPodPhases(pods: Pod[], controllerUid: string | undefined): PodPhaseCounts {
  const counts: PodPhaseCounts = { running: 0, waiting: 0, succeeded: 0, failed: 0 };
  for (const p of pods) {
    const owner = p.metadata.ownerReferences?.find((o) => o.controller);
    if (owner === undefined || owner.uid !== controllerUid) continue;
    const phase = p.status?.phase;
    if (phase === 'Running') counts.running++;
    else if (phase === 'Pending') counts.waiting++;
    else if (phase === 'Succeeded') counts.succeeded++;
    else if (phase === 'Failed') counts.failed++;
  }
  return counts;
}

export function describeReplicationController(rc: ReplicationController, pods: PodPhaseCounts, events: Event[], now = Date.now()): string {
  const w = new Writer();
  const meta = rc.metadata;
  const spec = rc.spec ?? {};
  w.line(0, `Name:\t${meta.name ?? ''}`);
  w.line(0, `Namespace:\t${meta.namespace ?? ''}`);
  w.line(0, `Selector:\t${sortedEntries(spec.selector, '=').join(',')}`);
  w.multiline(0, 'Labels', sortedEntries(meta.labels, '='));
  w.multiline(0, 'Annotations', annotationEntries(meta.annotations));
  w.line(0, `Replicas:\t${rc.status?.replicas ?? 0} current / ${spec.replicas ?? 1} desired`);
  w.line(0, `Pods Status:\t${pods.running} Running / ${pods.waiting} Waiting / ${pods.succeeded} Succeeded / ${pods.failed} Failed`);
  w.line(0, 'Pod Template:');
  const template = spec.template;
  if (template === undefined) {
    w.line(1, '<unset>');
  } else {
    const tspec = template.spec;
    w.multiline(0, '  Labels', sortedEntries(template.metadata?.labels, '='));
    const annotations = annotationEntries(template.metadata?.annotations);
    if (annotations.length > 0) w.multiline(0, '  Annotations', annotations);
    if (tspec?.serviceAccountName) w.line(1, `Service Account:\t${tspec.serviceAccountName}`);
    if (tspec?.initContainers?.length) writeContainers(w, '  ', 'Init Containers', tspec.initContainers, undefined);
    writeContainers(w, '  ', 'Containers', tspec?.containers ?? [], undefined);
    writeVolumes(w, '  ', tspec?.volumes ?? []);
    w.multiline(0, '  Node-Selectors', sortedEntries(tspec?.nodeSelector, '='));
    w.multiline(0, '  Tolerations', sortedTolerations(tspec?.tolerations).map(tolerationText));
  }
  const conditions = rc.status?.conditions ?? [];
  if (conditions.length > 0) {
    w.line(0, 'Conditions:');
    w.line(1, 'Type\tStatus\tReason');
    w.line(1, '----\t------\t------');
    for (const c of conditions) w.line(1, `${c.type} \t${c.status}\t${c.reason ?? ''}`);
  }
  writeEvents(w, events, now);
  return w.toString();
}

/**
 * A service port's ready endpoints as "ip:port" from its EndpointSlices, the first three and
 * then " + N more..." (kubectl's formatEndpointSlices, including its way of counting).
 */
function sliceEndpointsText(slices: EndpointSlice[], portName: string): string {
  if (slices.length === 0) return none;
  const list: string[] = [];
  let more = false;
  let count = 0;
  const add = (text: string, ready: boolean): void => {
    if (list.length === 3) more = true;
    if (!ready) return;
    if (!more) list.push(text);
    count++;
  };
  for (const slice of slices) {
    const endpoints = slice.endpoints ?? [];
    const ready = (i: number) => endpoints[i].conditions?.ready !== false;
    if ((slice.ports ?? []).length === 0) {
      endpoints.forEach((e, i) => add(e.addresses[0], ready(i)));
      continue;
    }
    for (const port of slice.ports ?? []) {
      if ((port.name ?? '') !== portName) continue;
      endpoints.forEach((e, i) => {
        const ip = e.addresses[0];
        add(`${ip.includes(':') ? `[${ip}]` : ip}:${port.port}`, ready(i));
      });
    }
  }
  const text = list.join(',');
  return more ? `${text} + ${count - 3} more...` : text;
}

/** kubectl describe service, its endpoints read from the service's EndpointSlices. */
export function describeService(svc: Service, slices: EndpointSlice[], events: Event[], now = Date.now()): string {
  const w = new Writer();
  const spec = svc.spec ?? {};
  w.line(0, `Name:\t${svc.metadata.name ?? ''}`);
  w.line(0, `Namespace:\t${svc.metadata.namespace ?? ''}`);
  w.multiline(0, 'Labels', sortedEntries(svc.metadata.labels, '='));
  w.multiline(0, 'Annotations', annotationEntries(svc.metadata.annotations));
  w.line(0, `Selector:\t${formatSelector(spec.selector)}`);
  w.line(0, `Type:\t${spec.type ?? ''}`);
  if (spec.ipFamilyPolicy) w.line(0, `IP Family Policy:\t${spec.ipFamilyPolicy}`);
  w.line(0, `IP Families:\t${spec.ipFamilies?.length ? spec.ipFamilies.join(',') : none}`);
  w.line(0, `IP:\t${spec.clusterIP ?? ''}`);
  w.line(0, `IPs:\t${spec.clusterIPs?.length ? spec.clusterIPs.join(',') : none}`);
  if (spec.externalIPs?.length) w.line(0, `External IPs:\t${spec.externalIPs.join(',')}`);
  if (spec.loadBalancerIP) w.line(0, `Desired LoadBalancer IP:\t${spec.loadBalancerIP}`);
  if (spec.externalName) w.line(0, `External Name:\t${spec.externalName}`);
  for (const p of spec.ports ?? []) {
    const name = p.name || '<unset>';
    const protocol = p.protocol ?? 'TCP';
    w.line(0, `Port:\t${name}\t${p.port}/${protocol}`);
    w.line(0, `TargetPort:\t${String(p.targetPort ?? p.port)}/${protocol}`);
    if (p.appProtocol !== undefined) w.line(0, `AppProtocol:\t${p.appProtocol}`);
    if (p.nodePort) w.line(0, `NodePort:\t${name}\t${p.nodePort}/${protocol}`);
    w.line(0, `Endpoints:\t${sliceEndpointsText(slices, p.name ?? '')}`);
  }
  w.line(0, `Session Affinity:\t${spec.sessionAffinity ?? ''}`);
  if (spec.externalTrafficPolicy) w.line(0, `External Traffic Policy:\t${spec.externalTrafficPolicy}`);
  if (spec.internalTrafficPolicy) w.line(0, `Internal Traffic Policy:\t${spec.internalTrafficPolicy}`);
  writeEvents(w, events, now);
  return w.toString();
}

export function describeEndpoints(ep: Endpoints, events: Event[], now = Date.now()): string {
  const w = new Writer();
  w.line(0, `Name:\t${ep.metadata.name ?? ''}`);
  w.line(0, `Namespace:\t${ep.metadata.namespace ?? ''}`);
  w.multiline(0, 'Labels', sortedEntries(ep.metadata.labels, '='));
  w.multiline(0, 'Annotations', annotationEntries(ep.metadata.annotations));
  w.line(0, 'Subsets:');
  for (const subset of ep.subsets ?? []) {
    w.line(1, `Addresses:\t${(subset.addresses ?? []).map((a) => a.ip).join(',') || none}`);
    w.line(1, `NotReadyAddresses:\t${(subset.notReadyAddresses ?? []).map((a) => a.ip).join(',') || none}`);
    if (subset.ports?.length) {
      w.line(1, 'Ports:');
      w.line(2, 'Name\tPort\tProtocol');
      w.line(2, '----\t----\t--------');
      for (const p of subset.ports) w.line(2, `${p.name || '<unset>'}\t${p.port}\t${p.protocol ?? ''}`);
    }
    w.line(0, '');
  }
  writeEvents(w, events, now);
  return w.toString();
}

export function describeEndpointSlice(slice: EndpointSlice, events: Event[], now = Date.now()): string {
  const w = new Writer();
  w.line(0, `Name:\t${slice.metadata.name ?? ''}`);
  w.line(0, `Namespace:\t${slice.metadata.namespace ?? ''}`);
  w.multiline(0, 'Labels', sortedEntries(slice.metadata.labels, '='));
  w.multiline(0, 'Annotations', annotationEntries(slice.metadata.annotations));
  w.line(0, `AddressType:\t${slice.addressType}`);
  if (!slice.ports?.length) {
    w.line(0, 'Ports: <unset>');
  } else {
    w.line(0, 'Ports:');
    w.line(1, 'Name\tPort\tProtocol');
    w.line(1, '----\t----\t--------');
    for (const p of slice.ports) w.line(1, `${p.name || '<unset>'}\t${p.port ?? '<unset>'}\t${p.protocol ?? ''}`);
  }
  if (!slice.endpoints?.length) {
    w.line(0, `Endpoints: ${none}`);
  } else {
    w.line(0, 'Endpoints:');
    for (const e of slice.endpoints) {
      w.line(1, `- Addresses:\t${e.addresses.join(', ') || none}`);
      w.line(2, 'Conditions:');
      w.line(3, `Ready:\t${e.conditions?.ready === undefined ? '<unset>' : String(e.conditions.ready)}`);
      w.line(2, `Hostname:\t${e.hostname ?? '<unset>'}`);
      if (e.targetRef) w.line(2, `TargetRef:\t${e.targetRef.kind ?? ''}/${e.targetRef.name ?? ''}`);
      w.line(2, `NodeName:\t${e.nodeName ?? '<unset>'}`);
      w.line(2, `Zone:\t${e.zone ?? '<unset>'}`);
    }
  }
  writeEvents(w, events, now);
  return w.toString();
}

function writeMeta(w: Writer, meta: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }): void {
  w.line(0, `Name:\t${meta.name ?? ''}`);
  w.line(0, `Namespace:\t${meta.namespace ?? ''}`);
  w.multiline(0, 'Labels', sortedEntries(meta.labels, '='));
  w.multiline(0, 'Annotations', annotationEntries(meta.annotations));
}

/** Each value in full (it is configuration, not a secret), binary values by size. */
export function describeConfigMap(cm: ConfigMap, events: Event[], now = Date.now()): string {
  const w = new Writer();
  writeMeta(w, cm.metadata);
  w.line(0, '');
  w.line(0, 'Data');
  w.line(0, '====');
  for (const key of Object.keys(cm.data ?? {}).sort()) {
    w.line(0, `${key}:`);
    w.line(0, '----');
    w.line(0, (cm.data as Record<string, string>)[key]);
    w.line(0, '');
  }
  w.line(0, '');
  w.line(0, 'BinaryData');
  w.line(0, '====');
  for (const key of Object.keys(cm.binaryData ?? {}).sort()) {
    w.line(0, `${key}: ${Buffer.from((cm.binaryData as Record<string, string>)[key], 'base64').length} bytes`);
  }
  w.line(0, '');
  writeEvents(w, events, now);
  return w.toString();
}

/** Values are never shown: only their sizes (but a service account token secret's token, as kubectl). */
export function describeSecret(secret: Secret): string {
  const w = new Writer();
  writeMeta(w, secret.metadata);
  w.line(0, '');
  w.line(0, `Type:\t${secret.type ?? ''}`);
  w.line(0, '');
  w.line(0, 'Data');
  w.line(0, '====');
  for (const key of Object.keys(secret.data ?? {}).sort()) {
    const value = Buffer.from((secret.data as Record<string, string>)[key], 'base64');
    if (key === 'token' && secret.type === 'kubernetes.io/service-account-token') w.line(0, `${key}:\t${value.toString('utf8')}`);
    else w.line(0, `${key}:\t${value.length} bytes`);
  }
  return w.toString();
}

/**
 * `tokens` are the namespace's service account token secrets that name this account (by name
 * and uid); `missing` the secrets the account names that do not exist.
 */
export function describeServiceAccount(sa: ServiceAccount, tokens: string[], missing: Set<string>, events: Event[], now = Date.now()): string {
  const w = new Writer();
  writeMeta(w, sa.metadata);
  const rows: [string, string[]][] = [
    ['Image pull secrets:', (sa.imagePullSecrets ?? []).map((s) => s.name ?? '')],
    ['Mountable secrets: ', (sa.secrets ?? []).map((s) => s.name ?? '')],
    ['Tokens:            ', tokens],
  ];
  for (const [header, names] of rows) {
    if (names.length === 0) {
      w.line(0, `${header}\t${none}`);
      continue;
    }
    names.forEach((name, i) => w.line(0, `${i === 0 ? header : ' '.repeat(header.length)}\t${name}${missing.has(name) ? ' (not found)' : ''}`));
  }
  writeEvents(w, events, now);
  return w.toString();
}

/** Name, labels and annotations, without a namespace line, as kubectl describes RBAC objects. */
function writeRbacMeta(w: Writer, meta: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> }): void {
  w.line(0, `Name:\t${meta.name ?? ''}`);
  w.multiline(0, 'Labels', sortedEntries(meta.labels, '='));
  w.multiline(0, 'Annotations', annotationEntries(meta.annotations));
}

const list = (v: string[] | undefined): string => `[${(v ?? []).join(' ')}]`;

/** A role's rules, one row per resource ("pods", "leases.coordination.k8s.io") or per set of non-resource URLs, as kubectl lays them out. */
export function describeRole(role: ClusterRole): string {
  const w = new Writer();
  writeRbacMeta(w, role.metadata);
  const rows: string[] = [];
  for (const rule of role.rules ?? []) {
    if (rule.nonResourceURLs?.length) {
      rows.push(`\t${list(rule.nonResourceURLs)}\t[]\t${list(rule.verbs)}`);
      continue;
    }
    for (const resource of rule.resources ?? []) {
      for (const group of rule.apiGroups ?? ['']) {
        rows.push(`${group ? `${resource}.${group}` : resource}\t[]\t${list(rule.resourceNames)}\t${list(rule.verbs)}`);
      }
    }
  }
  w.line(0, 'PolicyRule:');
  w.line(1, 'Resources\tNon-Resource URLs\tResource Names\tVerbs');
  w.line(1, '---------\t-----------------\t--------------\t-----');
  for (const row of rows.sort()) w.line(1, row);
  return w.toString();
}

export function describeRoleBinding(binding: RoleBinding): string {
  const w = new Writer();
  writeRbacMeta(w, binding.metadata);
  w.line(0, 'Role:');
  w.line(1, `Kind:\t${binding.roleRef?.kind ?? ''}`);
  w.line(1, `Name:\t${binding.roleRef?.name ?? ''}`);
  w.line(0, 'Subjects:');
  w.line(1, 'Kind\tName\tNamespace');
  w.line(1, '----\t----\t---------');
  for (const s of binding.subjects ?? []) w.line(1, `${s.kind}\t${s.name}\t${s.namespace ?? ''}`);
  return w.toString();
}
