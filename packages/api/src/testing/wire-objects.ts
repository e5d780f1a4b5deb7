// One object of every kind Peapod serves or is getting, written as Kubernetes' API server
// returns them in JSON (value structs present even when empty, zero scalars left out unless
// the field has no omitempty): the protobuf codec must carry each through unchanged.

type Json = Record<string, unknown>;

const meta = (name: string, extra: Json = {}): Json => ({
  name,
  namespace: 'default',
  uid: '0c4bd1f0-4a1e-4c8c-9a64-2f8a0a1b2c3d',
  resourceVersion: '1234',
  creationTimestamp: '2024-03-01T10:00:00Z',
  ...extra,
});

const container: Json = {
  name: 'app',
  image: 'peapod/busybox:latest',
  command: ['sh', '-c'],
  args: ['sleep 3600'],
  workingDir: '/work',
  ports: [
    { name: 'http', containerPort: 8080, protocol: 'TCP' },
    { containerPort: 53, hostPort: 5353, hostIP: '0.0.0.0', protocol: 'UDP' },
  ],
  envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'settings', optional: true } }, { secretRef: { name: 'creds' } }],
  env: [
    { name: 'MODE', value: 'fast' },
    { name: 'EMPTY' },
    { name: 'NODE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
    { name: 'MEM', valueFrom: { resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } } },
    { name: 'KEY', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
    { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password', optional: false } } },
  ],
  resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
  volumeMounts: [
    { name: 'scratch', mountPath: '/scratch' },
    { name: 'host', readOnly: true, mountPath: '/host', subPath: 'etc', mountPropagation: 'HostToContainer' },
  ],
  livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: '1' }] }, initialDelaySeconds: 5, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
  readinessProbe: { tcpSocket: { port: 8080 }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 },
  startupProbe: { exec: { command: ['true'] }, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 30, terminationGracePeriodSeconds: 3 },
  lifecycle: { postStart: { exec: { command: ['echo', 'hi'] } }, preStop: { sleep: { seconds: 5 } } },
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  imagePullPolicy: 'IfNotPresent',
  securityContext: { privileged: false, runAsUser: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } },
  stdin: true,
  tty: true,
};

const podSpec: Json = {
  volumes: [
    { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } },
    { name: 'host', hostPath: { path: '/etc', type: 'Directory' } },
    { name: 'cfg', configMap: { name: 'settings', items: [{ key: 'mode', path: 'mode.txt', mode: 420 }], defaultMode: 420 } },
    { name: 'sec', secret: { secretName: 'creds', defaultMode: 256, optional: true } },
    { name: 'token', projected: { sources: [{ serviceAccountToken: { audience: 'api', expirationSeconds: 3600, path: 'token' } }, { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }], defaultMode: 420 } },
  ],
  initContainers: [{ name: 'init', image: 'peapod/busybox:latest', command: ['true'], resources: {} }],
  containers: [container, { name: 'sidecar', image: 'peapod/busybox:latest', resources: {} }],
  ephemeralContainers: [{ name: 'debugger', image: 'peapod/busybox:latest', command: ['sh'], stdin: true, tty: true, resources: {}, targetContainerName: 'sidecar' }],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  activeDeadlineSeconds: 600,
  dnsPolicy: 'ClusterFirst',
  nodeSelector: { 'kubernetes.io/os': 'linux', disk: 'ssd' },
  serviceAccountName: 'default',
  serviceAccount: 'default',
  automountServiceAccountToken: false,
  nodeName: 'node-1',
  shareProcessNamespace: true,
  securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000, 5000], sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] },
  imagePullSecrets: [{ name: 'registry' }],
  hostname: 'web',
  subdomain: 'svc',
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] },
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } }],
    },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' } }] },
  },
  schedulerName: 'default-scheduler',
  tolerations: [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' },
  ],
  priority: 0,
  enableServiceLinks: true,
  preemptionPolicy: 'PreemptLowerPriority',
};

const pod: Json = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: meta('web', {
    generateName: 'web-',
    generation: 2,
    labels: { app: 'web', tier: 'front' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":1}\n' },
    ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'web', uid: '11111111-2222-3333-4444-555555555555', controller: true, blockOwnerDeletion: true }],
    finalizers: ['peapod.io/hold'],
    deletionTimestamp: '2024-03-01T10:05:00Z',
    deletionGracePeriodSeconds: 30,
    managedFields: [
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2024-03-01T10:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {} } } } },
      },
    ],
  }),
  spec: podSpec,
  status: {
    phase: 'Running',
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-03-01T10:00:01Z' },
      { type: 'Ready', status: 'False', lastProbeTime: '2024-03-01T10:00:03Z', lastTransitionTime: '2024-03-01T10:00:02Z', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' },
    ],
    hostIP: '10.0.0.1',
    hostIPs: [{ ip: '10.0.0.1' }],
    podIP: '172.17.0.5',
    podIPs: [{ ip: '172.17.0.5' }],
    startTime: '2024-03-01T10:00:01Z',
    initContainerStatuses: [
      { name: 'init', state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2024-03-01T10:00:01Z', finishedAt: '2024-03-01T10:00:02Z', containerID: 'docker://aaa' } }, lastState: {}, ready: true, restartCount: 0, image: 'peapod/busybox:latest', imageID: 'docker://sha256:abc', containerID: 'docker://aaa', started: false },
    ],
    containerStatuses: [
      { name: 'app', state: { running: { startedAt: '2024-03-01T10:00:02Z' } }, lastState: { terminated: { exitCode: 137, signal: 9, reason: 'Error', message: 'killed', startedAt: '2024-03-01T09:59:00Z', finishedAt: '2024-03-01T10:00:00Z', containerID: 'docker://bbb' } }, ready: false, restartCount: 3, image: 'peapod/busybox:latest', imageID: '', containerID: 'docker://ccc', started: true },
      { name: 'sidecar', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } }, lastState: {}, ready: false, restartCount: 0, image: 'peapod/busybox:latest', imageID: '' },
    ],
    ephemeralContainerStatuses: [
      { name: 'debugger', state: { running: { startedAt: '2024-03-01T10:05:00Z' } }, lastState: {}, ready: false, restartCount: 0, image: 'peapod/busybox:latest', imageID: 'docker://sha256:abc', containerID: 'docker://ddd' },
    ],
    qosClass: 'Burstable',
  },
};

const listMeta = { resourceVersion: '1234' };

const node: Json = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node-1', uid: 'a1b2c3d4-0000-4000-8000-000000000001', resourceVersion: '7', creationTimestamp: '2024-03-01T09:00:00Z', labels: { 'kubernetes.io/hostname': 'node-1' } },
  spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'], unschedulable: true, taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-03-01T09:30:00Z' }, { key: 'dedicated', value: 'web', effect: 'NoSchedule' }] },
  status: {
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    allocatable: { cpu: '3800m', memory: '7Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2024-03-01T09:59:50Z', lastTransitionTime: '2024-03-01T09:00:10Z', reason: 'AgentReady', message: 'agent is posting ready status' }],
    addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'node-1' }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: { machineID: 'm', systemUUID: 's', bootID: 'b', kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12', containerRuntimeVersion: 'docker://28.2.2', kubeletVersion: 'v1.32.0-peapod', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' },
    images: [{ names: ['peapod/busybox:latest'], sizeBytes: 1234567 }],
  },
};

const namespace: Json = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'team-a', uid: 'a1b2c3d4-0000-4000-8000-000000000002', resourceVersion: '3', creationTimestamp: '2024-03-01T09:00:00Z', labels: { 'kubernetes.io/metadata.name': 'team-a' }, deletionTimestamp: '2024-03-01T11:00:00Z', deletionGracePeriodSeconds: 0 },
  spec: { finalizers: ['kubernetes'] },
  status: { phase: 'Terminating', conditions: [{ type: 'NamespaceContentRemaining', status: 'True', lastTransitionTime: '2024-03-01T11:00:01Z', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: pods. has 1 resource instances' }] },
};

const event: Json = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: meta('web.17b2c3d4e5f60718'),
  involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: '0c4bd1f0-4a1e-4c8c-9a64-2f8a0a1b2c3d', apiVersion: 'v1', resourceVersion: '1230', fieldPath: 'spec.containers{app}' },
  reason: 'BackOff',
  message: 'Back-off restarting failed container',
  source: { component: 'agent', host: 'node-1' },
  firstTimestamp: '2024-03-01T10:00:00Z',
  lastTimestamp: '2024-03-01T10:02:00Z',
  count: 5,
  type: 'Warning',
  eventTime: '2024-03-01T10:00:00.250000Z',
  series: { count: 4, lastObservedTime: '2024-03-01T10:02:00.000001Z' },
  action: 'Restarting',
  related: { kind: 'Node', name: 'node-1', apiVersion: 'v1' },
  reportingComponent: 'peapod-agent',
  reportingInstance: 'node-1',
};

const replicationController: Json = {
  apiVersion: 'v1',
  kind: 'ReplicationController',
  metadata: meta('web', { generation: 3 }),
  spec: {
    replicas: 3,
    selector: { app: 'web' },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'peapod/busybox:latest', resources: {} }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } },
    minReadySeconds: 5,
  },
  status: { replicas: 0, conditions: [{ type: 'ReplicaFailure', status: 'True', lastTransitionTime: '2024-03-01T10:00:00Z', reason: 'FailedCreate', message: 'quota' }] },
};

const service: Json = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: meta('web'),
  spec: {
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080, appProtocol: 'http' }, { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 }],
    selector: { app: 'web' },
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10'],
    type: 'NodePort',
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    externalTrafficPolicy: 'Cluster',
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    internalTrafficPolicy: 'Cluster',
  },
  status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }] }, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-03-01T10:00:00Z', reason: 'Ok', message: '' }] },
};

const endpoints: Json = {
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: meta('web'),
  subsets: [
    {
      addresses: [{ ip: '172.17.0.5', hostname: 'web', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web', uid: '0c4bd1f0-4a1e-4c8c-9a64-2f8a0a1b2c3d' } }],
      notReadyAddresses: [{ ip: '172.17.0.6' }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
  ],
};

const endpointSlice: Json = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: meta('web-abcde', { labels: { 'kubernetes.io/service-name': 'web' } }),
  addressType: 'IPv4',
  endpoints: [
    { addresses: ['172.17.0.5'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web' }, zone: 'a', hints: { forZones: [{ name: 'a' }], forNodes: [{ name: 'node-1' }] } },
    { addresses: ['172.17.0.6'], conditions: {} },
  ],
  ports: [{ name: 'http', protocol: 'TCP', port: 8080 }, { port: 53 }],
};

const configMap: Json = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('settings'), data: { mode: 'fast', 'app.properties': 'a=1\nb=2\n' }, binaryData: { blob: 'AAEC/v8=' }, immutable: true };

const secret: Json = { apiVersion: 'v1', kind: 'Secret', metadata: meta('creds'), type: 'Opaque', data: { password: 'czNjcjN0w6k=', empty: '' }, immutable: false };

const serviceAccount: Json = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('robot'), secrets: [{ name: 'robot-token' }], imagePullSecrets: [{ name: 'registry' }], automountServiceAccountToken: true };

const status: Json = {
  apiVersion: 'v1',
  kind: 'Status',
  metadata: {},
  status: 'Failure',
  message: 'Pod "web" is invalid: spec.containers[0].image: Required value',
  reason: 'Invalid',
  details: { name: 'web', kind: 'Pod', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' }] },
  code: 422,
};

export const roundTripObjects: Record<string, Json> = {
  Pod: pod,
  PodList: { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1234', continue: 'eyJ2IjoxfQ', remainingItemCount: 12 }, items: [pod] },
  Node: node,
  NodeList: { apiVersion: 'v1', kind: 'NodeList', metadata: listMeta, items: [node] },
  Namespace: namespace,
  NamespaceList: { apiVersion: 'v1', kind: 'NamespaceList', metadata: listMeta, items: [namespace] },
  Event: event,
  EventList: { apiVersion: 'v1', kind: 'EventList', metadata: listMeta, items: [event] },
  ReplicationController: replicationController,
  ReplicationControllerList: { apiVersion: 'v1', kind: 'ReplicationControllerList', metadata: listMeta, items: [replicationController] },
  Binding: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web', namespace: 'default', uid: '0c4bd1f0-4a1e-4c8c-9a64-2f8a0a1b2c3d' }, target: { kind: 'Node', name: 'node-1' } },
  Scale: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: meta('web'), spec: { replicas: 3 }, status: { replicas: 0, selector: 'app=web' } },
  Lease: {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { ...meta('node-1'), namespace: 'kube-node-lease' },
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, acquireTime: '2024-03-01T09:00:00.000000Z', renewTime: '2024-03-01T10:00:00.123456Z', leaseTransitions: 0 },
  },
  LeaseList: { apiVersion: 'coordination.k8s.io/v1', kind: 'LeaseList', metadata: listMeta, items: [] },
  DeleteOptions: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: '0c4bd1f0-4a1e-4c8c-9a64-2f8a0a1b2c3d', resourceVersion: '12' }, propagationPolicy: 'Foreground', dryRun: ['All'], orphanDependents: false },
  Status: status,
  Eviction: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 10 } },
  Service: service,
  ServiceList: { apiVersion: 'v1', kind: 'ServiceList', metadata: listMeta, items: [service] },
  Endpoints: endpoints,
  EndpointsList: { apiVersion: 'v1', kind: 'EndpointsList', metadata: listMeta, items: [endpoints] },
  EndpointSlice: endpointSlice,
  EndpointSliceList: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSliceList', metadata: listMeta, items: [endpointSlice] },
  ConfigMap: configMap,
  ConfigMapList: { apiVersion: 'v1', kind: 'ConfigMapList', metadata: listMeta, items: [configMap] },
  Secret: secret,
  SecretList: { apiVersion: 'v1', kind: 'SecretList', metadata: listMeta, items: [secret] },
  ServiceAccount: serviceAccount,
  ServiceAccountList: { apiVersion: 'v1', kind: 'ServiceAccountList', metadata: listMeta, items: [serviceAccount] },
  TokenReview: {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    metadata: {},
    spec: { token: 'abc.def', audiences: ['https://kubernetes.default.svc'] },
    status: { authenticated: true, user: { username: 'system:node:node-1', uid: 'u-1', groups: ['system:nodes', 'system:authenticated'], extra: { 'authentication.kubernetes.io/node-name': ['node-1'] } }, audiences: ['https://kubernetes.default.svc'] },
  },
  TokenRequest: {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { name: 'robot', namespace: 'default' },
    spec: { audiences: ['api'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: '0c4bd1f0-4a1e-4c8c-9a64-2f8a0a1b2c3d' } },
    status: { token: 'eyJhbGciOi', expirationTimestamp: '2024-03-01T11:00:00Z' },
  },
  SelfSubjectReview: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: { creationTimestamp: '2024-03-01T10:00:00Z' }, status: { userInfo: { username: 'admin', groups: ['system:masters', 'system:authenticated'] } } },
  SelfSubjectAccessReview: {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
    spec: { resourceAttributes: { namespace: 'default', verb: 'list', group: 'coordination.k8s.io', resource: 'leases', fieldSelector: { rawSelector: 'metadata.name=x' }, labelSelector: { requirements: [{ key: 'app', operator: 'In', values: ['web'] }] } } },
    status: { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "admin"' },
  },
  SubjectAccessReview: {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    metadata: {},
    spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' }, user: 'alice', groups: ['dev'], extra: { scopes: ['a', 'b'] }, uid: 'u-2' },
    status: { allowed: false, denied: true, reason: 'no rule', evaluationError: 'x' },
  },
};
