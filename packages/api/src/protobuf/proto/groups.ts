// Message definitions of the named API groups Peapod serves or is getting (conventions:
// ./meta.ts): autoscaling/v1, coordination.k8s.io/v1, policy/v1, discovery.k8s.io/v1,
// authentication.k8s.io/v1, authorization.k8s.io/v1 and rbac.authorization.k8s.io/v1.

export const autoscalingV1Proto = `
syntax = "proto3";

package k8s.io.api.autoscaling.v1;

message Scale {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  ScaleSpec spec = 2;
  ScaleStatus status = 3;
}

message ScaleSpec {
  int32 replicas = 1;
}

message ScaleStatus {
  int32 replicas = 1 [(json_always) = true];
  string selector = 2;
}
`;

export const coordinationV1Proto = `
syntax = "proto3";

package k8s.io.api.coordination.v1;

message Lease {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  LeaseSpec spec = 2;
}

message LeaseList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated Lease items = 2;
}

message LeaseSpec {
  optional string holderIdentity = 1;
  optional int32 leaseDurationSeconds = 2;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime acquireTime = 3;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime renewTime = 4;
  optional int32 leaseTransitions = 5;
  optional string strategy = 6;
  optional string preferredHolder = 7;
}
`;

export const policyV1Proto = `
syntax = "proto3";

package k8s.io.api.policy.v1;

message Eviction {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions deleteOptions = 2;
}
`;

export const discoveryV1Proto = `
syntax = "proto3";

package k8s.io.api.discovery.v1;

message EndpointSlice {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated Endpoint endpoints = 2;
  repeated EndpointPort ports = 3;
  string addressType = 4 [(json_always) = true];
}

message EndpointSliceList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated EndpointSlice items = 2;
}

message Endpoint {
  repeated string addresses = 1;
  EndpointConditions conditions = 2;
  optional string hostname = 3;
  optional k8s.io.api.core.v1.ObjectReference targetRef = 4;
  map<string, string> deprecatedTopology = 5;
  optional string nodeName = 6;
  optional string zone = 7;
  optional EndpointHints hints = 8;
}

message EndpointConditions {
  optional bool ready = 1;
  optional bool serving = 2;
  optional bool terminating = 3;
}

message EndpointHints {
  repeated ForZone forZones = 1;
  // Kubernetes 1.33 and later.
  repeated ForNode forNodes = 2;
}

message ForZone {
  string name = 1 [(json_always) = true];
}

message ForNode {
  string name = 1 [(json_always) = true];
}

message EndpointPort {
  optional string name = 1;
  optional string protocol = 2;
  optional int32 port = 3;
  optional string appProtocol = 4;
}
`;

export const authenticationV1Proto = `
syntax = "proto3";

package k8s.io.api.authentication.v1;

message TokenReview {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  TokenReviewSpec spec = 2;
  TokenReviewStatus status = 3;
}

message TokenReviewSpec {
  string token = 1;
  repeated string audiences = 2;
}

message TokenReviewStatus {
  bool authenticated = 1;
  UserInfo user = 2;
  string error = 3;
  repeated string audiences = 4;
}

message UserInfo {
  string username = 1;
  string uid = 2;
  repeated string groups = 3;
  map<string, ExtraValue> extra = 4;
}

// JSON: the list of strings itself.
message ExtraValue {
  repeated string items = 1;
}

message SelfSubjectReview {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  SelfSubjectReviewStatus status = 2;
}

message SelfSubjectReviewStatus {
  UserInfo userInfo = 1;
}

message TokenRequest {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  TokenRequestSpec spec = 2;
  TokenRequestStatus status = 3;
}

message TokenRequestSpec {
  repeated string audiences = 1;
  optional BoundObjectReference boundObjectRef = 3;
  optional int64 expirationSeconds = 4;
}

message TokenRequestStatus {
  string token = 1 [(json_always) = true];
  k8s.io.apimachinery.pkg.apis.meta.v1.Time expirationTimestamp = 2;
}

message BoundObjectReference {
  string kind = 1;
  string apiVersion = 2;
  string name = 3;
  string uid = 4;
}
`;

export const authorizationV1Proto = `
syntax = "proto3";

package k8s.io.api.authorization.v1;

message SelfSubjectAccessReview {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  SelfSubjectAccessReviewSpec spec = 2;
  SubjectAccessReviewStatus status = 3;
}

message SelfSubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1;
  optional NonResourceAttributes nonResourceAttributes = 2;
}

message SubjectAccessReview {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  SubjectAccessReviewSpec spec = 2;
  SubjectAccessReviewStatus status = 3;
}

message SubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1;
  optional NonResourceAttributes nonResourceAttributes = 2;
  string user = 3;
  repeated string groups = 4;
  map<string, ExtraValue> extra = 5;
  string uid = 6;
}

// JSON: the list of strings itself.
message ExtraValue {
  repeated string items = 1;
}

// kubectl auth can-i --list
message SelfSubjectRulesReview {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  SelfSubjectRulesReviewSpec spec = 2;
  SubjectRulesReviewStatus status = 3;
}

message SelfSubjectRulesReviewSpec {
  string namespace = 1;
}

message SubjectRulesReviewStatus {
  repeated ResourceRule resourceRules = 1 [(json_always) = true];
  repeated NonResourceRule nonResourceRules = 2 [(json_always) = true];
  bool incomplete = 3 [(json_always) = true];
  string evaluationError = 4;
}

message ResourceRule {
  repeated string verbs = 1;
  repeated string apiGroups = 2;
  repeated string resources = 3;
  repeated string resourceNames = 4;
}

message NonResourceRule {
  repeated string verbs = 1;
  repeated string nonResourceURLs = 2;
}

message SubjectAccessReviewStatus {
  bool allowed = 1 [(json_always) = true];
  string reason = 2;
  string evaluationError = 3;
  bool denied = 4;
}

message ResourceAttributes {
  string namespace = 1;
  string verb = 2;
  string group = 3;
  string version = 4;
  string resource = 5;
  string subresource = 6;
  string name = 7;
  optional FieldSelectorAttributes fieldSelector = 8;
  optional LabelSelectorAttributes labelSelector = 9;
}

message NonResourceAttributes {
  string path = 1;
  string verb = 2;
}

message FieldSelectorAttributes {
  string rawSelector = 1;
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement requirements = 2;
}

message LabelSelectorAttributes {
  string rawSelector = 1;
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement requirements = 2;
}
`;

export const rbacV1Proto = `
syntax = "proto3";

package k8s.io.api.rbac.v1;

message PolicyRule {
  repeated string verbs = 1 [(json_always) = true];
  repeated string apiGroups = 2;
  repeated string resources = 3;
  repeated string resourceNames = 4;
  repeated string nonResourceURLs = 5;
}

message AggregationRule {
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector clusterRoleSelectors = 1;
}

message Role {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated PolicyRule rules = 2 [(json_always) = true];
}

message RoleList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated Role items = 2;
}

message ClusterRole {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated PolicyRule rules = 2 [(json_always) = true];
  optional AggregationRule aggregationRule = 3;
}

message ClusterRoleList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated ClusterRole items = 2;
}

message Subject {
  string kind = 1 [(json_always) = true];
  string apiGroup = 2;
  string name = 3 [(json_always) = true];
  string namespace = 4;
}

message RoleRef {
  string apiGroup = 1 [(json_always) = true];
  string kind = 2 [(json_always) = true];
  string name = 3 [(json_always) = true];
}

message RoleBinding {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated Subject subjects = 2;
  RoleRef roleRef = 3 [(json_always) = true];
}

message RoleBindingList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated RoleBinding items = 2;
}

message ClusterRoleBinding {
  k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated Subject subjects = 2;
  RoleRef roleRef = 3 [(json_always) = true];
}

message ClusterRoleBindingList {
  k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated ClusterRoleBinding items = 2;
}
`;
