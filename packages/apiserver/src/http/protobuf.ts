// Request bodies in Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf), which
// kubectl's typed commands send (`kubectl create service ...`). The body is the 4-byte magic
// "k8s\0" and a runtime.Unknown carrying the kind and the object's own protobuf; the object is
// decoded with the message definitions below (field numbers as k8s.io/api defines them) and
// turned into the JSON form the rest of the server reads. Kinds without a definition here are
// refused with 415, as before. Replies stay JSON, which these clients also accept.

import protobuf from 'protobufjs';

export const protobufContentType = 'application/vnd.kubernetes.protobuf';

const definitions = `
syntax = "proto2";
package k8s;

message Unknown {
  optional TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  optional string contentEncoding = 3;
  optional string contentType = 4;
}
message TypeMeta {
  optional string apiVersion = 1;
  optional string kind = 2;
}
message Time {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}
message IntOrString {
  optional int64 type = 1;
  optional int32 intVal = 2;
  optional string strVal = 3;
}
message OwnerReference {
  optional string kind = 1;
  optional string name = 3;
  optional string uid = 4;
  optional string apiVersion = 5;
  optional bool controller = 6;
  optional bool blockOwnerDeletion = 7;
}
message FieldsV1 {
  optional bytes Raw = 1;
}
message ManagedFieldsEntry {
  optional string manager = 1;
  optional string operation = 2;
  optional string apiVersion = 3;
  optional Time time = 4;
  optional string fieldsType = 6;
  optional FieldsV1 fieldsV1 = 7;
  optional string subresource = 8;
}
message ObjectMeta {
  optional string name = 1;
  optional string generateName = 2;
  optional string namespace = 3;
  optional string selfLink = 4;
  optional string uid = 5;
  optional string resourceVersion = 6;
  optional int64 generation = 7;
  optional Time creationTimestamp = 8;
  optional Time deletionTimestamp = 9;
  optional int64 deletionGracePeriodSeconds = 10;
  map<string, string> labels = 11;
  map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13;
  repeated string finalizers = 14;
  repeated ManagedFieldsEntry managedFields = 17;
}
message Condition {
  optional string type = 1;
  optional string status = 2;
  optional int64 observedGeneration = 3;
  optional Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}

message ServicePort {
  optional string name = 1;
  optional string protocol = 2;
  optional int32 port = 3;
  optional IntOrString targetPort = 4;
  optional int32 nodePort = 5;
  optional string appProtocol = 6;
}
message ClientIPConfig {
  optional int32 timeoutSeconds = 1;
}
message SessionAffinityConfig {
  optional ClientIPConfig clientIP = 1;
}
message ServiceSpec {
  repeated ServicePort ports = 1;
  map<string, string> selector = 2;
  optional string clusterIP = 3;
  optional string type = 4;
  repeated string externalIPs = 5;
  optional string sessionAffinity = 7;
  optional string loadBalancerIP = 8;
  repeated string loadBalancerSourceRanges = 9;
  optional string externalName = 10;
  optional string externalTrafficPolicy = 11;
  optional int32 healthCheckNodePort = 12;
  optional bool publishNotReadyAddresses = 13;
  optional SessionAffinityConfig sessionAffinityConfig = 14;
  optional string ipFamilyPolicy = 17;
  repeated string clusterIPs = 18;
  repeated string ipFamilies = 19;
  optional bool allocateLoadBalancerNodePorts = 20;
  optional string loadBalancerClass = 21;
  optional string internalTrafficPolicy = 22;
  optional string trafficDistribution = 23;
}
message PortStatus {
  optional int32 port = 1;
  optional string protocol = 2;
  optional string error = 3;
}
message LoadBalancerIngress {
  optional string ip = 1;
  optional string hostname = 2;
  optional string ipMode = 3;
  repeated PortStatus ports = 4;
}
message LoadBalancerStatus {
  repeated LoadBalancerIngress ingress = 1;
}
message ServiceStatus {
  optional LoadBalancerStatus loadBalancer = 1;
  repeated Condition conditions = 2;
}
message Service {
  optional ObjectMeta metadata = 1;
  optional ServiceSpec spec = 2;
  optional ServiceStatus status = 3;
}
`;

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The message of each kind that can arrive as protobuf, by apiVersion and kind. */
const messageByKind: Record<string, string> = { 'v1/Service': 'k8s.Service' };

let root: protobuf.Root | undefined;

function types(): protobuf.Root {
  root ??= protobuf.parse(definitions, { keepCase: true }).root;
  return root;
}

function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The JSON form of a decoded message: times as RFC 3339, int-or-string as either, raw fields as JSON, zero values left out. */
function toJson(value: unknown, type: protobuf.Type): unknown {
  if (type.fullName === '.k8s.Time') return rfc3339(Number((value as { seconds?: number }).seconds ?? 0));
  if (type.fullName === '.k8s.IntOrString') {
    const v = value as { type?: number; intVal?: number; strVal?: string };
    return Number(v.type ?? 0) === 1 ? (v.strVal ?? '') : (v.intVal ?? 0);
  }
  if (type.fullName === '.k8s.FieldsV1') {
    const raw = (value as { Raw?: Uint8Array }).Raw;
    return raw ? JSON.parse(Buffer.from(raw).toString('utf8')) : {};
  }
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    // Go writes empty strings, zeros and false on the wire where JSON would omit them: so do we.
    if (v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0)) continue;
    const field = type.fields[name];
    const sub = field?.resolvedType;
    if (!(sub instanceof protobuf.Type) || field.map) out[name] = v;
    else if (Array.isArray(v)) out[name] = v.map((x) => toJson(x, sub));
    else out[name] = toJson(v, sub);
  }
  return out;
}

/**
 * Decodes a protobuf request body into the object's JSON form, or says why it cannot: a body
 * that is not Kubernetes protobuf (400), or a kind not known here (415).
 */
export function decodeProtobuf(body: Buffer): { object: unknown } | { badRequest: string } | { unsupportedKind: string } {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) {
    return { badRequest: 'the body is not Kubernetes protobuf: it does not start with the k8s magic number' };
  }
  const root = types();
  let envelope: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
  try {
    const unknownType = root.lookupType('k8s.Unknown');
    envelope = unknownType.toObject(unknownType.decode(body.subarray(magic.length)), { longs: Number }) as typeof envelope;
  } catch (err) {
    return { badRequest: `the protobuf body could not be decoded: ${(err as Error).message}` };
  }
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  const message = messageByKind[`${apiVersion}/${kind}`];
  if (message === undefined) return { unsupportedKind: `${apiVersion}, Kind=${kind}` };
  try {
    const type = root.lookupType(message);
    const decoded = type.toObject(type.decode(envelope.raw ?? new Uint8Array()), { longs: Number });
    return { object: { apiVersion, kind, ...(toJson(decoded, type) as Record<string, unknown>) } };
  } catch (err) {
    return { badRequest: `the protobuf body could not be decoded as ${kind}: ${(err as Error).message}` };
  }
}
