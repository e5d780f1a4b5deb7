// Message definitions of apimachinery: runtime (the envelope), resource (Quantity), intstr
// and meta/v1, as Kubernetes v1.32 puts them on the wire. Written for protobufjs.
//
// Conventions of every file in this folder (the wire is the same as Kubernetes' proto2
// definitions; proto3 syntax is used because its two kinds of presence match Go's two
// kinds of fields):
// - a field without a label is a Go value field: it is always on the wire (zero when the
//   JSON lacks it), and reads back as its zero value when absent;
// - `optional` is a Go pointer field: on the wire only when the JSON has it;
// - [(json_always) = true]: JSON carries the field even when it is zero (no omitempty);
// - [(json_inline) = true]: the message's fields sit in the parent's JSON object (Go's
//   embedded structs, `json:",inline"`);
// - field names are the JSON names; repeated numbers are unpacked, as proto2 writes them.
// Only the fields Peapod's kinds use are declared; a field read from the wire that is not
// declared here is skipped, as the API server prunes fields its schemas do not know.

export const metaProto = `
syntax = "proto3";

package k8s.io.apimachinery.pkg.runtime;

// The envelope of every protobuf body: after the 4-byte magic "k8s\\0".
message Unknown {
  TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  string contentEncoding = 3;
  string contentType = 4;
}

message TypeMeta {
  string apiVersion = 1;
  string kind = 2;
}

// An embedded object, as bytes of its own encoding.
message RawExtension {
  optional bytes raw = 1;
}
`;

export const resourceProto = `
syntax = "proto3";

package k8s.io.apimachinery.pkg.api.resource;

// "100m", "64Mi": JSON carries the string itself.
message Quantity {
  string string = 1;
}
`;

export const intstrProto = `
syntax = "proto3";

package k8s.io.apimachinery.pkg.util.intstr;

// JSON carries the number (type 0) or the string (type 1) itself.
message IntOrString {
  int64 type = 1;
  int32 intVal = 2;
  string strVal = 3;
}
`;

export const metaV1Proto = `
syntax = "proto3";

package k8s.io.apimachinery.pkg.apis.meta.v1;

// JSON: RFC 3339 to the second. The zero time is an empty message.
message Time {
  int64 seconds = 1;
  int32 nanos = 2;
}

// JSON: RFC 3339 to the microsecond.
message MicroTime {
  int64 seconds = 1;
  int32 nanos = 2;
}

// JSON: the field set itself; the wire carries its JSON text.
message FieldsV1 {
  optional bytes raw = 1;
}

message ObjectMeta {
  string name = 1;
  string generateName = 2;
  string namespace = 3;
  string selfLink = 4;
  string uid = 5;
  string resourceVersion = 6;
  int64 generation = 7;
  Time creationTimestamp = 8;
  optional Time deletionTimestamp = 9;
  optional int64 deletionGracePeriodSeconds = 10;
  map<string, string> labels = 11;
  map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13;
  repeated string finalizers = 14;
  repeated ManagedFieldsEntry managedFields = 17;
}

message ListMeta {
  string selfLink = 1;
  string resourceVersion = 2;
  string continue = 3;
  optional int64 remainingItemCount = 4;
}

message OwnerReference {
  string kind = 1 [(json_always) = true];
  string name = 3 [(json_always) = true];
  string uid = 4 [(json_always) = true];
  string apiVersion = 5 [(json_always) = true];
  optional bool controller = 6;
  optional bool blockOwnerDeletion = 7;
}

message ManagedFieldsEntry {
  string manager = 1;
  string operation = 2;
  string apiVersion = 3;
  optional Time time = 4;
  string fieldsType = 6;
  optional FieldsV1 fieldsV1 = 7;
  string subresource = 8;
}

message Status {
  ListMeta metadata = 1;
  string status = 2;
  string message = 3;
  string reason = 4;
  optional StatusDetails details = 5;
  int32 code = 6;
}

message StatusDetails {
  string name = 1;
  string group = 2;
  string kind = 3;
  repeated StatusCause causes = 4;
  int32 retryAfterSeconds = 5;
  string uid = 6;
}

message StatusCause {
  string reason = 1;
  string message = 2;
  string field = 3;
}

message DeleteOptions {
  optional int64 gracePeriodSeconds = 1;
  optional Preconditions preconditions = 2;
  optional bool orphanDependents = 3;
  optional string propagationPolicy = 4;
  repeated string dryRun = 5;
  optional bool ignoreStoreReadErrorWithClusterBreakingPotential = 6;
}

message Preconditions {
  optional string uid = 1;
  optional string resourceVersion = 2;
}

// One event of a watch stream; object carries the object's own envelope.
message WatchEvent {
  string type = 1 [(json_always) = true];
  k8s.io.apimachinery.pkg.runtime.RawExtension object = 2;
}

message LabelSelector {
  map<string, string> matchLabels = 1;
  repeated LabelSelectorRequirement matchExpressions = 2;
}

message LabelSelectorRequirement {
  string key = 1 [(json_always) = true];
  string operator = 2 [(json_always) = true];
  repeated string values = 3;
}

message FieldSelectorRequirement {
  string key = 1 [(json_always) = true];
  string operator = 2 [(json_always) = true];
  repeated string values = 3;
}

message Condition {
  string type = 1 [(json_always) = true];
  string status = 2 [(json_always) = true];
  int64 observedGeneration = 3;
  Time lastTransitionTime = 4;
  string reason = 5 [(json_always) = true];
  string message = 6 [(json_always) = true];
}
`;
