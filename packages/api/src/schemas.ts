// JSON Schemas (draft-07, as ajv 8 reads them) of every object the API serves. They are the
// single description of our wire format: validation compiles them, /openapi/v2 and
// /openapi/v3 are generated from them, and strategic merge patch reads the patch
// strategies declared on their lists. References are '#/definitions/<name>' with names as
// Kubernetes spells them ("io.k8s.api.core.v1.Pod").

import {
  authenticationDescriptions,
  autoscalingDescriptions,
  coordinationDescriptions,
  coreDescriptions,
  discoveryDescriptions,
  metaDescriptions,
  policyDescriptions,
  rbacDescriptions,
} from './schema-descriptions';

export type JSONSchema = Record<string, unknown>;

export const CORE = 'io.k8s.api.core.v1.';
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const AUTOSCALING = 'io.k8s.api.autoscaling.v1.';
const COORDINATION = 'io.k8s.api.coordination.v1.';
const DISCOVERY = 'io.k8s.api.discovery.v1.';
const AUTHENTICATION = 'io.k8s.api.authentication.v1.';
const POLICY = 'io.k8s.api.policy.v1.';
const RBAC = 'io.k8s.api.rbac.v1.';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

const ref = (name: string): JSONSchema => ({ $ref: `#/definitions/${name}` });
const core = (name: string): JSONSchema => ref(CORE + name);
const meta = (name: string): JSONSchema => ref(META + name);
const str: JSONSchema = { type: 'string' };
const bool: JSONSchema = { type: 'boolean' };
const int32: JSONSchema = { type: 'integer', format: 'int32' };
const int64: JSONSchema = { type: 'integer', format: 'int64' };
const time = meta('Time');
const strMap: JSONSchema = { type: 'object', additionalProperties: str };
const bytesMap: JSONSchema = { type: 'object', additionalProperties: { type: 'string', format: 'byte' } };
const strList: JSONSchema = { type: 'array', items: str };
const quantityMap: JSONSchema = { type: 'object', additionalProperties: ref(QUANTITY) };
const freeForm: JSONSchema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

function enumOf(...values: string[]): JSONSchema {
  return { type: 'string', enum: values };
}

function obj(properties: Record<string, JSONSchema>, required: string[] = [], extra: JSONSchema = {}): JSONSchema {
  const s: JSONSchema = { type: 'object', properties, ...extra };
  if (required.length) s.required = required;
  return s;
}

function list(items: JSONSchema): JSONSchema {
  return { type: 'array', items };
}

/** A list merged by key in strategic merge patch (and described so to kubectl apply). */
function keyedList(items: JSONSchema, mergeKey: string, strategy = 'merge'): JSONSchema {
  return {
    type: 'array',
    items,
    'x-kubernetes-patch-merge-key': mergeKey,
    'x-kubernetes-patch-strategy': strategy,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': [mergeKey],
  };
}

function gvk(kind: string, group = '', version = 'v1'): JSONSchema {
  return { 'x-kubernetes-group-version-kind': [{ group, kind, version }] };
}

/** A top-level object: apiVersion, kind, metadata plus its own fields. */
function topLevel(kind: string, properties: Record<string, JSONSchema>, required: string[] = [], group = ''): JSONSchema {
  return obj({ apiVersion: str, kind: str, metadata: meta('ObjectMeta'), ...properties }, required, gvk(kind, group));
}

function listOf(kind: string, itemDef: string, group = ''): JSONSchema {
  return obj({ apiVersion: str, kind: str, metadata: meta('ListMeta'), items: list(ref(itemDef)) }, ['items'], gvk(kind, group));
}

const metaDefs: Record<string, JSONSchema> = {
  Time: { type: 'string', format: 'date-time' },
  MicroTime: { type: 'string', format: 'date-time' },
  ObjectMeta: obj({
    name: str,
    generateName: str,
    namespace: str,
    selfLink: str,
    uid: str,
    resourceVersion: str,
    generation: int64,
    creationTimestamp: time,
    deletionTimestamp: time,
    deletionGracePeriodSeconds: int64,
    labels: strMap,
    annotations: strMap,
    ownerReferences: keyedList(meta('OwnerReference'), 'uid'),
    finalizers: { ...strList, 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' },
    managedFields: list(meta('ManagedFieldsEntry')),
  }),
  OwnerReference: obj(
    { apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool },
    ['apiVersion', 'kind', 'name', 'uid'],
  ),
  ManagedFieldsEntry: obj({
    manager: str,
    operation: str,
    apiVersion: str,
    time,
    fieldsType: str,
    fieldsV1: freeForm,
    subresource: str,
  }),
  ListMeta: obj({ selfLink: str, resourceVersion: str, continue: str, remainingItemCount: int64 }),
  LabelSelector: obj({ matchLabels: strMap, matchExpressions: list(meta('LabelSelectorRequirement')) }),
  LabelSelectorRequirement: obj({ key: str, operator: str, values: strList }, ['key', 'operator']),
  StatusCause: obj({ reason: str, message: str, field: str }),
  StatusDetails: obj({
    name: str,
    group: str,
    kind: str,
    uid: str,
    causes: list(meta('StatusCause')),
    retryAfterSeconds: int32,
  }),
  Status: obj(
    {
      apiVersion: str,
      kind: str,
      metadata: meta('ListMeta'),
      status: str,
      message: str,
      reason: str,
      details: meta('StatusDetails'),
      code: int32,
    },
    [],
    gvk('Status'),
  ),
  Condition: obj(
    { type: str, status: str, observedGeneration: int64, lastTransitionTime: time, reason: str, message: str },
    ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  ),
  Preconditions: obj({ uid: str, resourceVersion: str }),
  DeleteOptions: obj(
    {
      apiVersion: str,
      kind: str,
      gracePeriodSeconds: int64,
      preconditions: meta('Preconditions'),
      orphanDependents: bool,
      propagationPolicy: enumOf('Orphan', 'Background', 'Foreground'),
      dryRun: strList,
    },
    [],
    gvk('DeleteOptions'),
  ),
  // The body of a PATCH: its shape depends on the patch type, so it is described only as an object.
  Patch: { type: 'object' },
  WatchEvent: obj({ type: str, object: freeForm }, ['type', 'object'], gvk('WatchEvent')),
};

const probeHandlers: Record<string, JSONSchema> = {
  exec: core('ExecAction'),
  httpGet: core('HTTPGetAction'),
  tcpSocket: core('TCPSocketAction'),
};

const containerProperties: Record<string, JSONSchema> = {
  name: str,
  image: str,
  command: strList,
  args: strList,
  workingDir: str,
  ports: keyedList(core('ContainerPort'), 'containerPort'),
  env: keyedList(core('EnvVar'), 'name'),
  envFrom: list(core('EnvFromSource')),
  resources: core('ResourceRequirements'),
  volumeMounts: keyedList(core('VolumeMount'), 'mountPath'),
  lifecycle: core('Lifecycle'),
  livenessProbe: core('Probe'),
  readinessProbe: core('Probe'),
  startupProbe: core('Probe'),
  terminationMessagePath: str,
  terminationMessagePolicy: enumOf('File', 'FallbackToLogsOnError'),
  imagePullPolicy: enumOf('Always', 'IfNotPresent', 'Never'),
  securityContext: core('SecurityContext'),
  stdin: bool,
  stdinOnce: bool,
  tty: bool,
};

const coreDefs: Record<string, JSONSchema> = {
  // --- pods ---
  Pod: topLevel('Pod', { spec: core('PodSpec'), status: core('PodStatus') }),
  PodList: listOf('PodList', `${CORE}Pod`),
  PodSpec: obj(
    {
      containers: keyedList(core('Container'), 'name'),
      initContainers: keyedList(core('Container'), 'name'),
      ephemeralContainers: keyedList(core('EphemeralContainer'), 'name'),
      volumes: keyedList(core('Volume'), 'name', 'merge,retainKeys'),
      restartPolicy: enumOf('Always', 'OnFailure', 'Never'),
      terminationGracePeriodSeconds: int64,
      activeDeadlineSeconds: int64,
      dnsPolicy: enumOf('ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'),
      dnsConfig: core('PodDNSConfig'),
      hostAliases: keyedList(core('HostAlias'), 'ip'),
      nodeSelector: strMap,
      serviceAccountName: str,
      serviceAccount: str,
      automountServiceAccountToken: bool,
      nodeName: str,
      hostNetwork: bool,
      hostPID: bool,
      hostIPC: bool,
      shareProcessNamespace: bool,
      securityContext: core('PodSecurityContext'),
      imagePullSecrets: keyedList(core('LocalObjectReference'), 'name'),
      hostname: str,
      subdomain: str,
      affinity: core('Affinity'),
      schedulerName: str,
      tolerations: list(core('Toleration')),
      priorityClassName: str,
      priority: int32,
      preemptionPolicy: enumOf('PreemptLowerPriority', 'Never'),
      enableServiceLinks: bool,
    },
    ['containers'],
  ),
  Container: obj(containerProperties, ['name']),
  PodDNSConfig: obj({ nameservers: strList, searches: strList, options: list(core('PodDNSConfigOption')) }),
  PodDNSConfigOption: obj({ name: str, value: str }),
  HostAlias: obj({ ip: str, hostnames: strList }, ['ip']),
  EphemeralContainer: obj({ ...containerProperties, targetContainerName: str }, ['name']),
  ContainerPort: obj(
    { name: str, containerPort: int32, hostPort: int32, hostIP: str, protocol: enumOf('TCP', 'UDP', 'SCTP') },
    ['containerPort'],
  ),
  EnvVar: obj({ name: str, value: str, valueFrom: core('EnvVarSource') }, ['name']),
  EnvVarSource: obj({
    fieldRef: core('ObjectFieldSelector'),
    resourceFieldRef: core('ResourceFieldSelector'),
    configMapKeyRef: core('ConfigMapKeySelector'),
    secretKeyRef: core('SecretKeySelector'),
  }),
  EnvFromSource: obj({ prefix: str, configMapRef: core('ConfigMapEnvSource'), secretRef: core('SecretEnvSource') }),
  ConfigMapEnvSource: obj({ name: str, optional: bool }),
  SecretEnvSource: obj({ name: str, optional: bool }),
  ObjectFieldSelector: obj({ apiVersion: str, fieldPath: str }, ['fieldPath']),
  ResourceFieldSelector: obj({ containerName: str, resource: str, divisor: ref(QUANTITY) }, ['resource']),
  ConfigMapKeySelector: obj({ name: str, key: str, optional: bool }, ['key']),
  SecretKeySelector: obj({ name: str, key: str, optional: bool }, ['key']),
  ResourceRequirements: obj({ limits: quantityMap, requests: quantityMap }),
  VolumeMount: obj(
    { name: str, mountPath: str, readOnly: bool, subPath: str, mountPropagation: enumOf('None', 'HostToContainer', 'Bidirectional') },
    ['name', 'mountPath'],
  ),
  Volume: obj(
    {
      name: str,
      emptyDir: core('EmptyDirVolumeSource'),
      hostPath: core('HostPathVolumeSource'),
      configMap: core('ConfigMapVolumeSource'),
      secret: core('SecretVolumeSource'),
      downwardAPI: core('DownwardAPIVolumeSource'),
      projected: core('ProjectedVolumeSource'),
    },
    ['name'],
  ),
  KeyToPath: obj({ key: str, path: str, mode: int32 }, ['key', 'path']),
  ConfigMapVolumeSource: obj({ name: str, items: list(core('KeyToPath')), defaultMode: int32, optional: bool }),
  SecretVolumeSource: obj({ secretName: str, items: list(core('KeyToPath')), defaultMode: int32, optional: bool }),
  DownwardAPIVolumeFile: obj(
    { path: str, fieldRef: core('ObjectFieldSelector'), resourceFieldRef: core('ResourceFieldSelector'), mode: int32 },
    ['path'],
  ),
  DownwardAPIVolumeSource: obj({ items: list(core('DownwardAPIVolumeFile')), defaultMode: int32 }),
  ProjectedVolumeSource: obj({ sources: list(core('VolumeProjection')), defaultMode: int32 }),
  VolumeProjection: obj({
    secret: core('SecretProjection'),
    configMap: core('ConfigMapProjection'),
    downwardAPI: core('DownwardAPIProjection'),
    serviceAccountToken: core('ServiceAccountTokenProjection'),
  }),
  SecretProjection: obj({ name: str, items: list(core('KeyToPath')), optional: bool }),
  ConfigMapProjection: obj({ name: str, items: list(core('KeyToPath')), optional: bool }),
  DownwardAPIProjection: obj({ items: list(core('DownwardAPIVolumeFile')) }),
  ServiceAccountTokenProjection: obj({ audience: str, expirationSeconds: int64, path: str }, ['path']),
  EmptyDirVolumeSource: obj({ medium: str, sizeLimit: ref(QUANTITY) }),
  HostPathVolumeSource: obj(
    {
      path: str,
      type: enumOf('', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'),
    },
    ['path'],
  ),
  Lifecycle: obj({ postStart: core('LifecycleHandler'), preStop: core('LifecycleHandler') }),
  LifecycleHandler: obj({ ...probeHandlers, sleep: core('SleepAction') }),
  ExecAction: obj({ command: strList }),
  HTTPGetAction: obj(
    { path: str, port: ref(INT_OR_STRING), host: str, scheme: enumOf('HTTP', 'HTTPS'), httpHeaders: list(core('HTTPHeader')) },
    ['port'],
  ),
  HTTPHeader: obj({ name: str, value: str }, ['name', 'value']),
  TCPSocketAction: obj({ port: ref(INT_OR_STRING), host: str }, ['port']),
  SleepAction: obj({ seconds: int64 }, ['seconds']),
  Probe: obj({
    ...probeHandlers,
    // 0 means "the default"; negative numbers are refused by validation with Kubernetes' wording.
    initialDelaySeconds: int32,
    timeoutSeconds: int32,
    periodSeconds: int32,
    successThreshold: int32,
    failureThreshold: int32,
    terminationGracePeriodSeconds: int64,
  }),
  SecurityContext: obj({
    privileged: bool,
    runAsUser: int64,
    runAsGroup: int64,
    runAsNonRoot: bool,
    readOnlyRootFilesystem: bool,
    allowPrivilegeEscalation: bool,
    capabilities: core('Capabilities'),
  }),
  Capabilities: obj({ add: strList, drop: strList }),
  PodSecurityContext: obj({
    runAsUser: int64,
    runAsGroup: int64,
    fsGroup: int64,
    runAsNonRoot: bool,
    supplementalGroups: list(int64),
  }),
  LocalObjectReference: obj({ name: str }),
  Toleration: obj({
    key: str,
    operator: enumOf('Exists', 'Equal'),
    value: str,
    effect: enumOf('NoSchedule', 'PreferNoSchedule', 'NoExecute', ''),
    tolerationSeconds: int64,
  }),
  Affinity: obj({ nodeAffinity: core('NodeAffinity') }),
  NodeAffinity: obj({
    requiredDuringSchedulingIgnoredDuringExecution: core('NodeSelector'),
    preferredDuringSchedulingIgnoredDuringExecution: list(core('PreferredSchedulingTerm')),
  }),
  NodeSelector: obj({ nodeSelectorTerms: list(core('NodeSelectorTerm')) }, ['nodeSelectorTerms']),
  NodeSelectorTerm: obj({
    matchExpressions: list(core('NodeSelectorRequirement')),
    matchFields: list(core('NodeSelectorRequirement')),
  }),
  NodeSelectorRequirement: obj(
    { key: str, operator: enumOf('In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'), values: strList },
    ['key', 'operator'],
  ),
  PreferredSchedulingTerm: obj({ weight: { ...int32, minimum: 1, maximum: 100 }, preference: core('NodeSelectorTerm') }, [
    'weight',
    'preference',
  ]),
  PodStatus: obj({
    phase: enumOf('Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'),
    conditions: keyedList(core('PodCondition'), 'type'),
    message: str,
    reason: str,
    nominatedNodeName: str,
    hostIP: str,
    hostIPs: keyedList(core('HostIP'), 'ip'),
    podIP: str,
    podIPs: keyedList(core('PodIP'), 'ip'),
    startTime: time,
    initContainerStatuses: list(core('ContainerStatus')),
    containerStatuses: list(core('ContainerStatus')),
    ephemeralContainerStatuses: list(core('ContainerStatus')),
    qosClass: enumOf('Guaranteed', 'Burstable', 'BestEffort'),
  }),
  PodCondition: obj(
    { type: str, status: enumOf('True', 'False', 'Unknown'), lastProbeTime: time, lastTransitionTime: time, reason: str, message: str },
    ['type', 'status'],
  ),
  HostIP: obj({ ip: str }),
  PodIP: obj({ ip: str }),
  ContainerStatus: obj(
    {
      name: str,
      state: core('ContainerState'),
      lastState: core('ContainerState'),
      ready: bool,
      restartCount: int32,
      image: str,
      imageID: str,
      containerID: str,
      started: bool,
    },
    ['name', 'ready', 'restartCount', 'image', 'imageID'],
  ),
  ContainerState: obj({
    waiting: core('ContainerStateWaiting'),
    running: core('ContainerStateRunning'),
    terminated: core('ContainerStateTerminated'),
  }),
  ContainerStateWaiting: obj({ reason: str, message: str }),
  ContainerStateRunning: obj({ startedAt: time }),
  ContainerStateTerminated: obj(
    { exitCode: int32, signal: int32, reason: str, message: str, startedAt: time, finishedAt: time, containerID: str },
    ['exitCode'],
  ),
  PodTemplateSpec: obj({ metadata: meta('ObjectMeta'), spec: core('PodSpec') }),

  // --- bindings ---
  Binding: topLevel('Binding', { target: core('ObjectReference') }, ['target']),
  ObjectReference: obj({
    kind: str,
    namespace: str,
    name: str,
    uid: str,
    apiVersion: str,
    resourceVersion: str,
    fieldPath: str,
  }),

  // --- nodes ---
  Node: topLevel('Node', { spec: core('NodeSpec'), status: core('NodeStatus') }),
  NodeList: listOf('NodeList', `${CORE}Node`),
  NodeSpec: obj({
    podCIDR: str,
    podCIDRs: { ...strList, 'x-kubernetes-patch-strategy': 'merge' },
    providerID: str,
    unschedulable: bool,
    taints: keyedList(core('Taint'), 'key'),
  }),
  Taint: obj(
    { key: str, value: str, effect: enumOf('NoSchedule', 'PreferNoSchedule', 'NoExecute'), timeAdded: time },
    ['key', 'effect'],
  ),
  NodeStatus: obj({
    capacity: quantityMap,
    allocatable: quantityMap,
    phase: enumOf('Pending', 'Running', 'Terminated'),
    conditions: keyedList(core('NodeCondition'), 'type'),
    addresses: keyedList(core('NodeAddress'), 'type'),
    daemonEndpoints: core('NodeDaemonEndpoints'),
    nodeInfo: core('NodeSystemInfo'),
    images: list(core('ContainerImage')),
  }),
  NodeCondition: obj(
    {
      type: str,
      status: enumOf('True', 'False', 'Unknown'),
      lastHeartbeatTime: time,
      lastTransitionTime: time,
      reason: str,
      message: str,
    },
    ['type', 'status'],
  ),
  NodeAddress: obj({ type: str, address: str }, ['type', 'address']),
  NodeDaemonEndpoints: obj({ kubeletEndpoint: core('DaemonEndpoint') }),
  DaemonEndpoint: obj({ Port: int32 }, ['Port']),
  NodeSystemInfo: obj(
    {
      machineID: str,
      systemUUID: str,
      bootID: str,
      kernelVersion: str,
      osImage: str,
      containerRuntimeVersion: str,
      kubeletVersion: str,
      kubeProxyVersion: str,
      operatingSystem: str,
      architecture: str,
    },
    [],
  ),
  ContainerImage: obj({ names: strList, sizeBytes: int64 }),

  // --- namespaces ---
  Namespace: topLevel('Namespace', { spec: core('NamespaceSpec'), status: core('NamespaceStatus') }),
  NamespaceList: listOf('NamespaceList', `${CORE}Namespace`),
  NamespaceSpec: obj({ finalizers: strList }),
  NamespaceStatus: obj({ phase: enumOf('Active', 'Terminating') }),

  // --- events ---
  Event: topLevel(
    'Event',
    {
      involvedObject: core('ObjectReference'),
      reason: str,
      message: str,
      source: core('EventSource'),
      firstTimestamp: time,
      lastTimestamp: time,
      eventTime: meta('MicroTime'),
      count: int32,
      type: str,
      series: core('EventSeries'),
      related: core('ObjectReference'),
      reportingComponent: str,
      reportingInstance: str,
      action: str,
    },
    ['involvedObject'],
  ),
  EventList: listOf('EventList', `${CORE}Event`),
  EventSource: obj({ component: str, host: str }),
  EventSeries: obj({ count: int32, lastObservedTime: meta('MicroTime') }),

  // --- replication controllers ---
  ReplicationController: topLevel('ReplicationController', {
    spec: core('ReplicationControllerSpec'),
    status: core('ReplicationControllerStatus'),
  }),
  ReplicationControllerList: listOf('ReplicationControllerList', `${CORE}ReplicationController`),
  ReplicationControllerSpec: obj({
    replicas: int32,
    minReadySeconds: int32,
    selector: strMap,
    template: core('PodTemplateSpec'),
  }),
  ReplicationControllerStatus: obj(
    {
      replicas: int32,
      fullyLabeledReplicas: int32,
      readyReplicas: int32,
      availableReplicas: int32,
      observedGeneration: int64,
      conditions: keyedList(core('ReplicationControllerCondition'), 'type'),
    },
    ['replicas'],
  ),
  ReplicationControllerCondition: obj(
    { type: str, status: enumOf('True', 'False', 'Unknown'), lastTransitionTime: time, reason: str, message: str },
    ['type', 'status'],
  ),

  // --- services ---
  Service: topLevel('Service', { spec: core('ServiceSpec'), status: core('ServiceStatus') }),
  ServiceList: listOf('ServiceList', `${CORE}Service`),
  ServiceSpec: obj({
    type: str,
    selector: strMap,
    // Merged by port in a strategic merge patch; a port number may appear once per protocol.
    ports: { ...keyedList(core('ServicePort'), 'port'), 'x-kubernetes-list-map-keys': ['port', 'protocol'] },
    clusterIP: str,
    clusterIPs: strList,
    ipFamilies: strList,
    ipFamilyPolicy: str,
    sessionAffinity: str,
    sessionAffinityConfig: core('SessionAffinityConfig'),
    publishNotReadyAddresses: bool,
    externalIPs: strList,
    externalName: str,
    externalTrafficPolicy: str,
    internalTrafficPolicy: str,
    healthCheckNodePort: int32,
    loadBalancerIP: str,
    loadBalancerSourceRanges: strList,
    loadBalancerClass: str,
    allocateLoadBalancerNodePorts: bool,
    trafficDistribution: str,
  }),
  ServicePort: obj(
    { name: str, protocol: str, appProtocol: str, port: int32, targetPort: ref(INT_OR_STRING), nodePort: int32 },
    ['port'],
  ),
  SessionAffinityConfig: obj({ clientIP: core('ClientIPConfig') }),
  ClientIPConfig: obj({ timeoutSeconds: int32 }),
  ServiceStatus: obj({ loadBalancer: core('LoadBalancerStatus'), conditions: list(meta('Condition')) }),
  LoadBalancerStatus: obj({ ingress: list(core('LoadBalancerIngress')) }),
  LoadBalancerIngress: obj({ ip: str, hostname: str, ipMode: str, ports: list(core('PortStatus')) }),
  PortStatus: obj({ port: int32, protocol: str, error: str }, ['port', 'protocol']),

  // --- endpoints ---
  Endpoints: topLevel('Endpoints', { subsets: list(core('EndpointSubset')) }),
  EndpointsList: listOf('EndpointsList', `${CORE}Endpoints`),
  EndpointSubset: obj({
    addresses: list(core('EndpointAddress')),
    notReadyAddresses: list(core('EndpointAddress')),
    ports: list(core('EndpointPort')),
  }),
  EndpointAddress: obj({ ip: str, hostname: str, nodeName: str, targetRef: core('ObjectReference') }, ['ip']),
  EndpointPort: obj({ name: str, port: int32, protocol: str, appProtocol: str }, ['port']),
};

const configDefs: Record<string, JSONSchema> = {
  ConfigMap: topLevel('ConfigMap', { data: strMap, binaryData: bytesMap, immutable: bool }),
  ConfigMapList: listOf('ConfigMapList', `${CORE}ConfigMap`),
  Secret: topLevel('Secret', { data: bytesMap, stringData: strMap, type: str, immutable: bool }),
  SecretList: listOf('SecretList', `${CORE}Secret`),
  ServiceAccount: topLevel('ServiceAccount', {
    secrets: keyedList(core('ObjectReference'), 'name'),
    imagePullSecrets: list(core('LocalObjectReference')),
    automountServiceAccountToken: bool,
  }),
  ServiceAccountList: listOf('ServiceAccountList', `${CORE}ServiceAccount`),
};

const autoscalingDefs: Record<string, JSONSchema> = {
  Scale: topLevel('Scale', { spec: ref(`${AUTOSCALING}ScaleSpec`), status: ref(`${AUTOSCALING}ScaleStatus`) }, [], 'autoscaling'),
  ScaleSpec: obj({ replicas: int32 }),
  ScaleStatus: obj({ replicas: int32, selector: str }, ['replicas']),
};

/** The definitions with their package prefix and their descriptions (./schema-descriptions). */
function prefixed(prefix: string, defs: Record<string, JSONSchema>, descriptions: Record<string, Record<string, string>> = {}): Record<string, JSONSchema> {
  return Object.fromEntries(Object.entries(defs).map(([k, v]) => [prefix + k, described(v, descriptions[k])]));
}

/** A copy of a definition with its description and its fields' (schemas are shared between fields: never changed in place). */
function described(schema: JSONSchema, texts: Record<string, string> | undefined): JSONSchema {
  if (!texts) return schema;
  const out: JSONSchema = { ...schema };
  if (texts['']) out.description = texts[''];
  const props = schema.properties as Record<string, JSONSchema> | undefined;
  if (props) out.properties = Object.fromEntries(Object.entries(props).map(([name, p]) => [name, texts[name] ? { ...p, description: texts[name] } : p]));
  return out;
}

const coordinationDefs: Record<string, JSONSchema> = {
  Lease: topLevel('Lease', { spec: ref(`${COORDINATION}LeaseSpec`) }, [], 'coordination.k8s.io'),
  LeaseList: listOf('LeaseList', `${COORDINATION}Lease`, 'coordination.k8s.io'),
  LeaseSpec: obj({
    holderIdentity: str,
    leaseDurationSeconds: int32,
    acquireTime: meta('MicroTime'),
    renewTime: meta('MicroTime'),
    leaseTransitions: int32,
    strategy: str,
    preferredHolder: str,
  }),
};

const discoveryDefs: Record<string, JSONSchema> = {
  EndpointSlice: topLevel(
    'EndpointSlice',
    { addressType: str, endpoints: list(ref(`${DISCOVERY}Endpoint`)), ports: list(ref(`${DISCOVERY}EndpointPort`)) },
    ['addressType', 'endpoints'],
    'discovery.k8s.io',
  ),
  EndpointSliceList: listOf('EndpointSliceList', `${DISCOVERY}EndpointSlice`, 'discovery.k8s.io'),
  Endpoint: obj(
    {
      addresses: { ...strList, 'x-kubernetes-list-type': 'set' },
      conditions: ref(`${DISCOVERY}EndpointConditions`),
      hostname: str,
      targetRef: core('ObjectReference'),
      deprecatedTopology: strMap,
      nodeName: str,
      zone: str,
      hints: ref(`${DISCOVERY}EndpointHints`),
    },
    ['addresses'],
  ),
  EndpointConditions: obj({ ready: bool, serving: bool, terminating: bool }),
  EndpointHints: obj({ forZones: list(ref(`${DISCOVERY}ForZone`)), forNodes: list(ref(`${DISCOVERY}ForNode`)) }),
  ForZone: obj({ name: str }, ['name']),
  ForNode: obj({ name: str }, ['name']),
  EndpointPort: obj({ name: str, protocol: str, port: int32, appProtocol: str }),
};

const authenticationDefs: Record<string, JSONSchema> = {
  TokenRequest: topLevel(
    'TokenRequest',
    { spec: ref(`${AUTHENTICATION}TokenRequestSpec`), status: ref(`${AUTHENTICATION}TokenRequestStatus`) },
    ['spec'],
    'authentication.k8s.io',
  ),
  TokenRequestSpec: obj({ audiences: strList, expirationSeconds: int64, boundObjectRef: ref(`${AUTHENTICATION}BoundObjectReference`) }),
  TokenRequestStatus: obj({ token: str, expirationTimestamp: time }, ['token', 'expirationTimestamp']),
  BoundObjectReference: obj({ kind: str, apiVersion: str, name: str, uid: str }),
};

// The body of a pods/eviction request: the pod it names is deleted with these options.
const policyDefs: Record<string, JSONSchema> = {
  Eviction: topLevel('Eviction', { deleteOptions: meta('DeleteOptions') }, [], 'policy'),
};

const rbac = (name: string): JSONSchema => ref(RBAC + name);
const rbacGroupName = 'rbac.authorization.k8s.io';

const rbacDefs: Record<string, JSONSchema> = {
  PolicyRule: obj({ verbs: strList, apiGroups: strList, resources: strList, resourceNames: strList, nonResourceURLs: strList }, ['verbs']),
  AggregationRule: obj({ clusterRoleSelectors: list(meta('LabelSelector')) }),
  Subject: obj({ kind: str, apiGroup: str, name: str, namespace: str }, ['kind', 'name']),
  RoleRef: obj({ apiGroup: str, kind: str, name: str }, ['apiGroup', 'kind', 'name']),
  Role: topLevel('Role', { rules: list(rbac('PolicyRule')) }, [], rbacGroupName),
  RoleList: listOf('RoleList', `${RBAC}Role`, rbacGroupName),
  ClusterRole: topLevel('ClusterRole', { rules: list(rbac('PolicyRule')), aggregationRule: rbac('AggregationRule') }, [], rbacGroupName),
  ClusterRoleList: listOf('ClusterRoleList', `${RBAC}ClusterRole`, rbacGroupName),
  RoleBinding: topLevel('RoleBinding', { subjects: list(rbac('Subject')), roleRef: rbac('RoleRef') }, ['roleRef'], rbacGroupName),
  RoleBindingList: listOf('RoleBindingList', `${RBAC}RoleBinding`, rbacGroupName),
  ClusterRoleBinding: topLevel('ClusterRoleBinding', { subjects: list(rbac('Subject')), roleRef: rbac('RoleRef') }, ['roleRef'], rbacGroupName),
  ClusterRoleBindingList: listOf('ClusterRoleBindingList', `${RBAC}ClusterRoleBinding`, rbacGroupName),
};

/** Every schema, keyed by its Kubernetes definition name. */
export const definitions: Readonly<Record<string, JSONSchema>> = {
  ...prefixed(META, metaDefs, metaDescriptions),
  ...prefixed(CORE, coreDefs, coreDescriptions),
  ...prefixed(CORE, configDefs, coreDescriptions),
  ...prefixed(AUTOSCALING, autoscalingDefs, autoscalingDescriptions),
  ...prefixed(COORDINATION, coordinationDefs, coordinationDescriptions),
  ...prefixed(DISCOVERY, discoveryDefs, discoveryDescriptions),
  ...prefixed(AUTHENTICATION, authenticationDefs, authenticationDescriptions),
  ...prefixed(POLICY, policyDefs, policyDescriptions),
  ...prefixed(RBAC, rbacDefs, rbacDescriptions),
  [QUANTITY]: { anyOf: [{ type: 'string' }, { type: 'number' }], 'x-kubernetes-int-or-string': true },
  [INT_OR_STRING]: { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true },
};

const definitionNameByKind = new Map<string, string>();
for (const [name, schema] of Object.entries(definitions)) {
  const kinds = schema['x-kubernetes-group-version-kind'] as { kind: string }[] | undefined;
  if (kinds) for (const k of kinds) definitionNameByKind.set(k.kind, name);
}

/** The definition name of a kind ("Pod" → "io.k8s.api.core.v1.Pod"); a definition name maps to itself. */
export function definitionNameFor(kind: string): string | undefined {
  if (Object.hasOwn(definitions, kind)) return kind;
  return definitionNameByKind.get(kind);
}

/** The schema of a kind ("Pod", "DeleteOptions", "Scale", ...) or of a definition name. */
export function schemaFor(kind: string): JSONSchema | undefined {
  const name = definitionNameFor(kind);
  return name === undefined ? undefined : definitions[name];
}

// References already followed: every write resolves the schemas of the fields it walks, and
// a name cut from the reference would be a new string to hash in a table of hundreds.
const referenced = new Map<string, JSONSchema>();

/** Follows a '#/definitions/...' reference, or returns the schema itself. */
export function resolveSchema(schema: JSONSchema): JSONSchema {
  let s = schema;
  while (typeof s.$ref === 'string') {
    let target = referenced.get(s.$ref);
    if (target === undefined) {
      target = definitions[s.$ref.slice('#/definitions/'.length)];
      if (target === undefined) throw new Error(`unknown schema reference ${s.$ref}`);
      referenced.set(s.$ref, target);
    }
    s = target;
  }
  return s;
}

/** Vendor keywords our schemas use, to be declared to ajv. */
export const schemaExtensionKeywords = [
  'x-kubernetes-group-version-kind',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
];
