// Message definitions of core/v1 (conventions: ./meta.ts). Volume sources, volume
// projections and pod-spec fields Peapod does not run are left out; every Go value field
// of a declared message is declared, so what is encoded is what Kubernetes encodes.

export const coreV1Proto = `
syntax = "proto3";

package k8s.io.api.core.v1;

// --- pods ---

message Pod {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  PodSpec spec = 2;
  PodStatus status = 3;
}

message PodList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated Pod items = 2;
}

message PodSpec {
  repeated Volume volumes = 1;
  repeated Container containers = 2;
  string restartPolicy = 3;
  optional int64 terminationGracePeriodSeconds = 4;
  optional int64 activeDeadlineSeconds = 5;
  string dnsPolicy = 6;
  map<string, string> nodeSelector = 7;
  string serviceAccountName = 8;
  string serviceAccount = 9;
  string nodeName = 10;
  bool hostNetwork = 11;
  bool hostPID = 12;
  bool hostIPC = 13;
  optional PodSecurityContext securityContext = 14;
  repeated LocalObjectReference imagePullSecrets = 15;
  string hostname = 16;
  string subdomain = 17;
  optional Affinity affinity = 18;
  string schedulerName = 19;
  repeated Container initContainers = 20;
  optional bool automountServiceAccountToken = 21;
  repeated Toleration tolerations = 22;
  repeated HostAlias hostAliases = 23;
  string priorityClassName = 24;
  optional int32 priority = 25;
  optional PodDNSConfig dnsConfig = 26;
  optional bool shareProcessNamespace = 27;
  repeated PodReadinessGate readinessGates = 28;
  optional string runtimeClassName = 29;
  optional bool enableServiceLinks = 30;
  optional string preemptionPolicy = 31;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> overhead = 32;
  repeated TopologySpreadConstraint topologySpreadConstraints = 33;
  repeated EphemeralContainer ephemeralContainers = 34;
  optional bool setHostnameAsFQDN = 35;
  optional PodOS os = 36;
  optional bool hostUsers = 37;
  repeated PodSchedulingGate schedulingGates = 38;
  optional ResourceRequirements resources = 40;
}

message Container {
  string name = 1 [(json_always) = true];
  string image = 2;
  repeated string command = 3;
  repeated string args = 4;
  string workingDir = 5;
  repeated ContainerPort ports = 6;
  repeated EnvVar env = 7;
  ResourceRequirements resources = 8;
  repeated VolumeMount volumeMounts = 9;
  optional Probe livenessProbe = 10;
  optional Probe readinessProbe = 11;
  optional Lifecycle lifecycle = 12;
  string terminationMessagePath = 13;
  string imagePullPolicy = 14;
  optional SecurityContext securityContext = 15;
  bool stdin = 16;
  bool stdinOnce = 17;
  bool tty = 18;
  repeated EnvFromSource envFrom = 19;
  string terminationMessagePolicy = 20;
  optional Probe startupProbe = 22;
  repeated ContainerResizePolicy resizePolicy = 23;
  optional string restartPolicy = 24;
}

// Kubernetes' EphemeralContainerCommon numbers its fields as Container does: Container stands in for it.
message EphemeralContainer {
  Container ephemeralContainerCommon = 1 [(json_inline) = true];
  string targetContainerName = 2;
}

message ContainerPort {
  string name = 1;
  int32 hostPort = 2;
  int32 containerPort = 3 [(json_always) = true];
  string protocol = 4;
  string hostIP = 5;
}

message ContainerResizePolicy {
  string resourceName = 1 [(json_always) = true];
  string restartPolicy = 2 [(json_always) = true];
}

message EnvVar {
  string name = 1 [(json_always) = true];
  string value = 2;
  optional EnvVarSource valueFrom = 3;
}

message EnvVarSource {
  optional ObjectFieldSelector fieldRef = 1;
  optional ResourceFieldSelector resourceFieldRef = 2;
  optional ConfigMapKeySelector configMapKeyRef = 3;
  optional SecretKeySelector secretKeyRef = 4;
}

message ObjectFieldSelector {
  string apiVersion = 1;
  string fieldPath = 2 [(json_always) = true];
}

message ResourceFieldSelector {
  string containerName = 1;
  string resource = 2 [(json_always) = true];
  k8s.io.apimachinery.pkg.api.resource.Quantity divisor = 3;
}

message ConfigMapKeySelector {
  LocalObjectReference localObjectReference = 1 [(json_inline) = true];
  string key = 2 [(json_always) = true];
  optional bool optional = 3;
}

message SecretKeySelector {
  LocalObjectReference localObjectReference = 1 [(json_inline) = true];
  string key = 2 [(json_always) = true];
  optional bool optional = 3;
}

message EnvFromSource {
  string prefix = 1;
  optional ConfigMapEnvSource configMapRef = 2;
  optional SecretEnvSource secretRef = 3;
}

message ConfigMapEnvSource {
  LocalObjectReference localObjectReference = 1 [(json_inline) = true];
  optional bool optional = 2;
}

message SecretEnvSource {
  LocalObjectReference localObjectReference = 1 [(json_inline) = true];
  optional bool optional = 2;
}

message ResourceRequirements {
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> limits = 1;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> requests = 2;
  repeated ResourceClaim claims = 3;
}

message ResourceClaim {
  string name = 1 [(json_always) = true];
  string request = 2;
}

message VolumeMount {
  string name = 1 [(json_always) = true];
  bool readOnly = 2;
  string mountPath = 3 [(json_always) = true];
  string subPath = 4;
  optional string mountPropagation = 5;
  string subPathExpr = 6;
  optional string recursiveReadOnly = 7;
}

message Volume {
  string name = 1 [(json_always) = true];
  VolumeSource volumeSource = 2 [(json_inline) = true];
}

message VolumeSource {
  optional HostPathVolumeSource hostPath = 1;
  optional EmptyDirVolumeSource emptyDir = 2;
  optional SecretVolumeSource secret = 6;
  optional PersistentVolumeClaimVolumeSource persistentVolumeClaim = 10;
  optional DownwardAPIVolumeSource downwardAPI = 16;
  optional ConfigMapVolumeSource configMap = 19;
  optional ProjectedVolumeSource projected = 26;
}

message HostPathVolumeSource {
  string path = 1 [(json_always) = true];
  optional string type = 2;
}

message EmptyDirVolumeSource {
  string medium = 1;
  optional k8s.io.apimachinery.pkg.api.resource.Quantity sizeLimit = 2;
}

message SecretVolumeSource {
  string secretName = 1;
  repeated KeyToPath items = 2;
  optional int32 defaultMode = 3;
  optional bool optional = 4;
}

message ConfigMapVolumeSource {
  LocalObjectReference localObjectReference = 1 [(json_inline) = true];
  repeated KeyToPath items = 2;
  optional int32 defaultMode = 3;
  optional bool optional = 4;
}

message KeyToPath {
  string key = 1 [(json_always) = true];
  string path = 2 [(json_always) = true];
  optional int32 mode = 3;
}

message PersistentVolumeClaimVolumeSource {
  string claimName = 1 [(json_always) = true];
  bool readOnly = 2;
}

message DownwardAPIVolumeSource {
  repeated DownwardAPIVolumeFile items = 1;
  optional int32 defaultMode = 2;
}

message DownwardAPIVolumeFile {
  string path = 1 [(json_always) = true];
  optional ObjectFieldSelector fieldRef = 2;
  optional ResourceFieldSelector resourceFieldRef = 3;
  optional int32 mode = 4;
}

message ProjectedVolumeSource {
  repeated VolumeProjection sources = 1;
  optional int32 defaultMode = 2;
}

message VolumeProjection {
  optional SecretProjection secret = 1;
  optional DownwardAPIProjection downwardAPI = 2;
  optional ConfigMapProjection configMap = 3;
  optional ServiceAccountTokenProjection serviceAccountToken = 4;
}

message SecretProjection {
  LocalObjectReference localObjectReference = 1 [(json_inline) = true];
  repeated KeyToPath items = 2;
  optional bool optional = 4;
}

message ConfigMapProjection {
  LocalObjectReference localObjectReference = 1 [(json_inline) = true];
  repeated KeyToPath items = 2;
  optional bool optional = 4;
}

message DownwardAPIProjection {
  repeated DownwardAPIVolumeFile items = 1;
}

message ServiceAccountTokenProjection {
  string audience = 1;
  optional int64 expirationSeconds = 2;
  string path = 3 [(json_always) = true];
}

message Lifecycle {
  optional LifecycleHandler postStart = 1;
  optional LifecycleHandler preStop = 2;
}

message LifecycleHandler {
  optional ExecAction exec = 1;
  optional HTTPGetAction httpGet = 2;
  optional TCPSocketAction tcpSocket = 3;
  optional SleepAction sleep = 4;
}

message ExecAction {
  repeated string command = 1;
}

message HTTPGetAction {
  string path = 1;
  k8s.io.apimachinery.pkg.util.intstr.IntOrString port = 2;
  string host = 3;
  string scheme = 4;
  repeated HTTPHeader httpHeaders = 5;
}

message HTTPHeader {
  string name = 1 [(json_always) = true];
  string value = 2 [(json_always) = true];
}

message TCPSocketAction {
  k8s.io.apimachinery.pkg.util.intstr.IntOrString port = 1;
  string host = 2;
}

message SleepAction {
  int64 seconds = 1 [(json_always) = true];
}

message GRPCAction {
  int32 port = 1 [(json_always) = true];
  optional string service = 2;
}

message Probe {
  ProbeHandler handler = 1 [(json_inline) = true];
  int32 initialDelaySeconds = 2;
  int32 timeoutSeconds = 3;
  int32 periodSeconds = 4;
  int32 successThreshold = 5;
  int32 failureThreshold = 6;
  optional int64 terminationGracePeriodSeconds = 7;
}

message ProbeHandler {
  optional ExecAction exec = 1;
  optional HTTPGetAction httpGet = 2;
  optional TCPSocketAction tcpSocket = 3;
  optional GRPCAction grpc = 4;
}

message SecurityContext {
  optional Capabilities capabilities = 1;
  optional bool privileged = 2;
  optional SELinuxOptions seLinuxOptions = 3;
  optional int64 runAsUser = 4;
  optional bool runAsNonRoot = 5;
  optional bool readOnlyRootFilesystem = 6;
  optional bool allowPrivilegeEscalation = 7;
  optional int64 runAsGroup = 8;
  optional string procMount = 9;
  optional SeccompProfile seccompProfile = 11;
  optional AppArmorProfile appArmorProfile = 12;
}

message Capabilities {
  repeated string add = 1;
  repeated string drop = 2;
}

message PodSecurityContext {
  optional SELinuxOptions seLinuxOptions = 1;
  optional int64 runAsUser = 2;
  optional bool runAsNonRoot = 3;
  repeated int64 supplementalGroups = 4 [packed = false];
  optional int64 fsGroup = 5;
  optional int64 runAsGroup = 6;
  repeated Sysctl sysctls = 7;
  optional string fsGroupChangePolicy = 9;
  optional SeccompProfile seccompProfile = 10;
  optional AppArmorProfile appArmorProfile = 11;
  optional string supplementalGroupsPolicy = 12;
  optional string seLinuxChangePolicy = 13;
}

message SELinuxOptions {
  string user = 1;
  string role = 2;
  string type = 3;
  string level = 4;
}

message SeccompProfile {
  string type = 1 [(json_always) = true];
  optional string localhostProfile = 2;
}

message AppArmorProfile {
  string type = 1 [(json_always) = true];
  optional string localhostProfile = 2;
}

message Sysctl {
  string name = 1 [(json_always) = true];
  string value = 2 [(json_always) = true];
}

message LocalObjectReference {
  string name = 1;
}

message Toleration {
  string key = 1;
  string operator = 2;
  string value = 3;
  string effect = 4;
  optional int64 tolerationSeconds = 5;
}

message Affinity {
  optional NodeAffinity nodeAffinity = 1;
  optional PodAffinity podAffinity = 2;
  optional PodAntiAffinity podAntiAffinity = 3;
}

message NodeAffinity {
  optional NodeSelector requiredDuringSchedulingIgnoredDuringExecution = 1;
  repeated PreferredSchedulingTerm preferredDuringSchedulingIgnoredDuringExecution = 2;
}

message PodAffinity {
  repeated PodAffinityTerm requiredDuringSchedulingIgnoredDuringExecution = 1;
  repeated WeightedPodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution = 2;
}

message PodAntiAffinity {
  repeated PodAffinityTerm requiredDuringSchedulingIgnoredDuringExecution = 1;
  repeated WeightedPodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution = 2;
}

message PodAffinityTerm {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector labelSelector = 1;
  repeated string namespaces = 2;
  string topologyKey = 3 [(json_always) = true];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector namespaceSelector = 4;
  repeated string matchLabelKeys = 5;
  repeated string mismatchLabelKeys = 6;
}

message WeightedPodAffinityTerm {
  int32 weight = 1 [(json_always) = true];
  PodAffinityTerm podAffinityTerm = 2;
}

message NodeSelector {
  repeated NodeSelectorTerm nodeSelectorTerms = 1;
}

message NodeSelectorTerm {
  repeated NodeSelectorRequirement matchExpressions = 1;
  repeated NodeSelectorRequirement matchFields = 2;
}

message NodeSelectorRequirement {
  string key = 1 [(json_always) = true];
  string operator = 2 [(json_always) = true];
  repeated string values = 3;
}

message PreferredSchedulingTerm {
  int32 weight = 1 [(json_always) = true];
  NodeSelectorTerm preference = 2;
}

message HostAlias {
  string ip = 1 [(json_always) = true];
  repeated string hostnames = 2;
}

message PodDNSConfig {
  repeated string nameservers = 1;
  repeated string searches = 2;
  repeated PodDNSConfigOption options = 3;
}

message PodDNSConfigOption {
  string name = 1;
  optional string value = 2;
}

message PodReadinessGate {
  string conditionType = 1 [(json_always) = true];
}

message TopologySpreadConstraint {
  int32 maxSkew = 1 [(json_always) = true];
  string topologyKey = 2 [(json_always) = true];
  string whenUnsatisfiable = 3 [(json_always) = true];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector labelSelector = 4;
  optional int32 minDomains = 5;
  optional string nodeAffinityPolicy = 6;
  optional string nodeTaintsPolicy = 7;
  repeated string matchLabelKeys = 8;
}

message PodOS {
  string name = 1 [(json_always) = true];
}

message PodSchedulingGate {
  string name = 1 [(json_always) = true];
}

message PodStatus {
  string phase = 1;
  repeated PodCondition conditions = 2;
  string message = 3;
  string reason = 4;
  string hostIP = 5;
  string podIP = 6;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time startTime = 7;
  repeated ContainerStatus containerStatuses = 8;
  string qosClass = 9;
  repeated ContainerStatus initContainerStatuses = 10;
  string nominatedNodeName = 11;
  repeated PodIP podIPs = 12;
  repeated ContainerStatus ephemeralContainerStatuses = 13;
  string resize = 14;
  repeated HostIP hostIPs = 16;
}

message PodCondition {
  string type = 1 [(json_always) = true];
  string status = 2 [(json_always) = true];
  k8s.io.apimachinery.pkg.apis.meta.v1.Time lastProbeTime = 3;
  k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 4;
  string reason = 5;
  string message = 6;
}

message HostIP {
  string ip = 1 [(json_always) = true];
}

message PodIP {
  string ip = 1 [(json_always) = true];
}

message ContainerStatus {
  string name = 1 [(json_always) = true];
  ContainerState state = 2;
  ContainerState lastState = 3;
  bool ready = 4 [(json_always) = true];
  int32 restartCount = 5 [(json_always) = true];
  string image = 6 [(json_always) = true];
  string imageID = 7 [(json_always) = true];
  string containerID = 8;
  optional bool started = 9;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> allocatedResources = 10;
  optional ResourceRequirements resources = 11;
}

message ContainerState {
  optional ContainerStateWaiting waiting = 1;
  optional ContainerStateRunning running = 2;
  optional ContainerStateTerminated terminated = 3;
}

message ContainerStateWaiting {
  string reason = 1;
  string message = 2;
}

message ContainerStateRunning {
  k8s.io.apimachinery.pkg.apis.meta.v1.Time startedAt = 1;
}

message ContainerStateTerminated {
  int32 exitCode = 1 [(json_always) = true];
  int32 signal = 2;
  string reason = 3;
  string message = 4;
  k8s.io.apimachinery.pkg.apis.meta.v1.Time startedAt = 5;
  k8s.io.apimachinery.pkg.apis.meta.v1.Time finishedAt = 6;
  string containerID = 7;
}

message PodTemplateSpec {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  PodSpec spec = 2;
}

// --- bindings and references ---

message Binding {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  ObjectReference target = 2;
}

message ObjectReference {
  string kind = 1;
  string namespace = 2;
  string name = 3;
  string uid = 4;
  string apiVersion = 5;
  string resourceVersion = 6;
  string fieldPath = 7;
}

// --- nodes ---

message Node {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  NodeSpec spec = 2;
  NodeStatus status = 3;
}

message NodeList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated Node items = 2;
}

message NodeSpec {
  string podCIDR = 1;
  string externalID = 2;
  string providerID = 3;
  bool unschedulable = 4;
  repeated Taint taints = 5;
  repeated string podCIDRs = 7;
}

message Taint {
  string key = 1 [(json_always) = true];
  string value = 2;
  string effect = 3 [(json_always) = true];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time timeAdded = 4;
}

message NodeStatus {
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> capacity = 1;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> allocatable = 2;
  string phase = 3;
  repeated NodeCondition conditions = 4;
  repeated NodeAddress addresses = 5;
  NodeDaemonEndpoints daemonEndpoints = 6;
  NodeSystemInfo nodeInfo = 7;
  repeated ContainerImage images = 8;
  repeated string volumesInUse = 9;
  repeated NodeRuntimeHandler runtimeHandlers = 12;
  optional NodeFeatures features = 13;
}

message NodeCondition {
  string type = 1 [(json_always) = true];
  string status = 2 [(json_always) = true];
  k8s.io.apimachinery.pkg.apis.meta.v1.Time lastHeartbeatTime = 3;
  k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 4;
  string reason = 5;
  string message = 6;
}

message NodeAddress {
  string type = 1 [(json_always) = true];
  string address = 2 [(json_always) = true];
}

message NodeDaemonEndpoints {
  DaemonEndpoint kubeletEndpoint = 1;
}

message DaemonEndpoint {
  int32 Port = 1 [(json_always) = true];
}

message NodeSystemInfo {
  string machineID = 1 [(json_always) = true];
  string systemUUID = 2 [(json_always) = true];
  string bootID = 3 [(json_always) = true];
  string kernelVersion = 4 [(json_always) = true];
  string osImage = 5 [(json_always) = true];
  string containerRuntimeVersion = 6 [(json_always) = true];
  string kubeletVersion = 7 [(json_always) = true];
  string kubeProxyVersion = 8 [(json_always) = true];
  string operatingSystem = 9 [(json_always) = true];
  string architecture = 10 [(json_always) = true];
}

message ContainerImage {
  repeated string names = 1;
  int64 sizeBytes = 2;
}

message NodeRuntimeHandler {
  string name = 1 [(json_always) = true];
  optional NodeRuntimeHandlerFeatures features = 2;
}

message NodeRuntimeHandlerFeatures {
  optional bool recursiveReadOnlyMounts = 1;
  optional bool userNamespaces = 2;
}

message NodeFeatures {
  optional bool supplementalGroupsPolicy = 1;
}

// --- namespaces ---

message Namespace {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  NamespaceSpec spec = 2;
  NamespaceStatus status = 3;
}

message NamespaceList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated Namespace items = 2;
}

message NamespaceSpec {
  repeated string finalizers = 1;
}

message NamespaceStatus {
  string phase = 1;
  repeated NamespaceCondition conditions = 2;
}

message NamespaceCondition {
  string type = 1 [(json_always) = true];
  string status = 2 [(json_always) = true];
  k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 4;
  string reason = 5;
  string message = 6;
}

// --- events ---

message Event {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  ObjectReference involvedObject = 2;
  string reason = 3;
  string message = 4;
  EventSource source = 5;
  k8s.io.apimachinery.pkg.apis.meta.v1.Time firstTimestamp = 6;
  k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTimestamp = 7;
  int32 count = 8;
  string type = 9;
  k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime eventTime = 10;
  optional EventSeries series = 11;
  string action = 12;
  optional ObjectReference related = 13;
  string reportingComponent = 14 [(json_always) = true];
  string reportingInstance = 15 [(json_always) = true];
}

message EventList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated Event items = 2;
}

message EventSource {
  string component = 1;
  string host = 2;
}

message EventSeries {
  int32 count = 1;
  k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime lastObservedTime = 2;
}

// --- replication controllers ---

message ReplicationController {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  ReplicationControllerSpec spec = 2;
  ReplicationControllerStatus status = 3;
}

message ReplicationControllerList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated ReplicationController items = 2;
}

message ReplicationControllerSpec {
  optional int32 replicas = 1;
  map<string, string> selector = 2;
  optional PodTemplateSpec template = 3;
  int32 minReadySeconds = 4;
}

message ReplicationControllerStatus {
  int32 replicas = 1 [(json_always) = true];
  int32 fullyLabeledReplicas = 2;
  int64 observedGeneration = 3;
  int32 readyReplicas = 4;
  int32 availableReplicas = 5;
  repeated ReplicationControllerCondition conditions = 6;
}

message ReplicationControllerCondition {
  string type = 1 [(json_always) = true];
  string status = 2 [(json_always) = true];
  k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 3;
  string reason = 4;
  string message = 5;
}

// --- services and endpoints ---

message Service {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  ServiceSpec spec = 2;
  ServiceStatus status = 3;
}

message ServiceList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated Service items = 2;
}

message ServiceSpec {
  repeated ServicePort ports = 1;
  map<string, string> selector = 2;
  string clusterIP = 3;
  string type = 4;
  repeated string externalIPs = 5;
  string sessionAffinity = 7;
  string loadBalancerIP = 8;
  repeated string loadBalancerSourceRanges = 9;
  string externalName = 10;
  string externalTrafficPolicy = 11;
  int32 healthCheckNodePort = 12;
  bool publishNotReadyAddresses = 13;
  optional SessionAffinityConfig sessionAffinityConfig = 14;
  optional string ipFamilyPolicy = 17;
  repeated string clusterIPs = 18;
  repeated string ipFamilies = 19;
  optional bool allocateLoadBalancerNodePorts = 20;
  optional string loadBalancerClass = 21;
  optional string internalTrafficPolicy = 22;
  optional string trafficDistribution = 23;
}

message ServicePort {
  string name = 1;
  string protocol = 2;
  int32 port = 3 [(json_always) = true];
  k8s.io.apimachinery.pkg.util.intstr.IntOrString targetPort = 4;
  int32 nodePort = 5;
  optional string appProtocol = 6;
}

message SessionAffinityConfig {
  optional ClientIPConfig clientIP = 1;
}

message ClientIPConfig {
  optional int32 timeoutSeconds = 1;
}

message ServiceStatus {
  LoadBalancerStatus loadBalancer = 1;
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.Condition conditions = 2;
}

message LoadBalancerStatus {
  repeated LoadBalancerIngress ingress = 1;
}

message LoadBalancerIngress {
  string ip = 1;
  string hostname = 2;
  optional string ipMode = 3;
  repeated PortStatus ports = 4;
}

message PortStatus {
  int32 port = 1 [(json_always) = true];
  string protocol = 2 [(json_always) = true];
  optional string error = 3;
}

message Endpoints {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated EndpointSubset subsets = 2;
}

message EndpointsList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated Endpoints items = 2;
}

message EndpointSubset {
  repeated EndpointAddress addresses = 1;
  repeated EndpointAddress notReadyAddresses = 2;
  repeated EndpointPort ports = 3;
}

message EndpointAddress {
  string ip = 1 [(json_always) = true];
  optional ObjectReference targetRef = 2;
  string hostname = 3;
  optional string nodeName = 4;
}

message EndpointPort {
  string name = 1;
  int32 port = 2 [(json_always) = true];
  string protocol = 3;
  optional string appProtocol = 4;
}

// --- configuration and identities ---

message ConfigMap {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  map<string, string> data = 2;
  map<string, bytes> binaryData = 3;
  optional bool immutable = 4;
}

message ConfigMapList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated ConfigMap items = 2;
}

message Secret {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  map<string, bytes> data = 2;
  string type = 3;
  map<string, string> stringData = 4;
  optional bool immutable = 5;
}

message SecretList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated Secret items = 2;
}

message ServiceAccount {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated ObjectReference secrets = 2;
  repeated LocalObjectReference imagePullSecrets = 3;
  optional bool automountServiceAccountToken = 4;
}

message ServiceAccountList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated ServiceAccount items = 2;
}
`;
