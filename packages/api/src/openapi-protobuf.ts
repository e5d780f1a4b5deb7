// /openapi/v2 as client-go and kubectl fetch it: the swagger document (./openapi) as
// gnostic's OpenAPI v2 Document message (./protobuf/proto/openapi). Built once, on first use.

import { openapiV2 } from './openapi';
import { typeNamed } from './protobuf/messages';

type Json = Record<string, unknown>;

/** What a client asks for (kubectl the first, with an '@' that is not valid in a Content-Type) ... */
export const openapiV2ProtobufAccepted = ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'];
/** ... and the Content-Type of the answer, as kube-openapi gives it. */
export const openapiV2ProtobufMediaType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** A value of any JSON type, as gnostic carries it: its YAML text (JSON text is YAML). */
const any = (v: unknown): Json => ({ yaml: JSON.stringify(v) });

function vendorExtensions(o: Json): Json[] {
  return Object.entries(o)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, value]) => ({ name, value: any(value) }));
}

const scalarSchemaFields: [string, string][] = [
  ['$ref', '_ref'],
  ['format', 'format'],
  ['title', 'title'],
  ['description', 'description'],
  ['multipleOf', 'multiple_of'],
  ['maximum', 'maximum'],
  ['exclusiveMaximum', 'exclusive_maximum'],
  ['minimum', 'minimum'],
  ['exclusiveMinimum', 'exclusive_minimum'],
  ['maxLength', 'max_length'],
  ['minLength', 'min_length'],
  ['pattern', 'pattern'],
  ['maxItems', 'max_items'],
  ['minItems', 'min_items'],
  ['uniqueItems', 'unique_items'],
  ['maxProperties', 'max_properties'],
  ['minProperties', 'min_properties'],
  ['discriminator', 'discriminator'],
  ['readOnly', 'read_only'],
];

function schema(s: Json): Json {
  const out: Json = {};
  for (const [from, to] of scalarSchemaFields) if (s[from] !== undefined) out[to] = s[from];
  if (s.default !== undefined) out.default = any(s.default);
  if (s.example !== undefined) out.example = any(s.example);
  if (Array.isArray(s.required)) out.required = s.required;
  if (Array.isArray(s.enum)) out.enum = s.enum.map(any);
  if (typeof s.type === 'string') out.type = { value: [s.type] };
  if (Array.isArray(s.type)) out.type = { value: s.type };
  if (s.items !== undefined) out.items = { schema: (Array.isArray(s.items) ? s.items : [s.items]).map((i) => schema(i as Json)) };
  if (Array.isArray(s.allOf)) out.all_of = s.allOf.map((a) => schema(a as Json));
  if (typeof s.additionalProperties === 'boolean') out.additional_properties = { boolean: s.additionalProperties };
  else if (s.additionalProperties !== undefined) out.additional_properties = { schema: schema(s.additionalProperties as Json) };
  if (s.properties !== undefined) {
    out.properties = { additional_properties: Object.entries(s.properties as Json).map(([name, p]) => ({ name, value: schema(p as Json) })) };
  }
  out.vendor_extension = vendorExtensions(s);
  return out;
}

function parameter(p: Json): Json {
  if (typeof p.$ref === 'string') return { json_reference: { _ref: p.$ref } };
  if (p.in === 'body') {
    return { parameter: { body_parameter: { description: p.description, name: p.name, in: p.in, required: p.required === true, schema: schema(p.schema as Json), vendor_extension: vendorExtensions(p) } } };
  }
  const sub: Json = { required: p.required === true, in: p.in, description: p.description, name: p.name, type: p.type, format: p.format, unique_items: p.uniqueItems === true, vendor_extension: vendorExtensions(p) };
  const kind = p.in === 'path' ? 'path_parameter_sub_schema' : p.in === 'header' ? 'header_parameter_sub_schema' : 'query_parameter_sub_schema';
  return { parameter: { non_body_parameter: { [kind]: sub } } };
}

function operation(op: Json): Json {
  const responses = Object.entries((op.responses ?? {}) as Json).map(([code, r]) => {
    const resp = r as Json;
    return { name: code, value: { response: { description: resp.description ?? '', schema: resp.schema ? { schema: schema(resp.schema as Json) } : undefined, vendor_extension: vendorExtensions(resp) } } };
  });
  return {
    tags: op.tags ?? [],
    summary: op.summary,
    description: op.description,
    operation_id: op.operationId,
    produces: op.produces ?? [],
    consumes: op.consumes ?? [],
    parameters: ((op.parameters ?? []) as Json[]).map(parameter),
    responses: { response_code: responses },
    schemes: op.schemes ?? [],
    deprecated: op.deprecated === true,
    vendor_extension: vendorExtensions(op),
  };
}

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

function pathItem(item: Json): Json {
  const out: Json = { parameters: ((item.parameters ?? []) as Json[]).map(parameter), vendor_extension: vendorExtensions(item) };
  for (const m of methods) if (item[m]) out[m] = operation(item[m] as Json);
  return out;
}

function securityRequirements(list: unknown): Json[] {
  return ((list ?? []) as Json[]).map((req) => ({ additional_properties: Object.entries(req).map(([name, scopes]) => ({ name, value: { value: scopes } })) }));
}

let encoded: Buffer | undefined;

/** The /openapi/v2 document as a gnostic OpenAPI v2 Document. */
export function openapiV2Protobuf(): Buffer {
  if (encoded) return encoded;
  const doc = openapiV2();
  const info = doc.info as Json;
  const message = {
    swagger: doc.swagger,
    info: { title: info.title, version: info.version },
    paths: { path: Object.entries(doc.paths as Json).map(([name, item]) => ({ name, value: pathItem(item as Json) })) },
    definitions: { additional_properties: Object.entries(doc.definitions as Json).map(([name, s]) => ({ name, value: schema(s as Json) })) },
    security: securityRequirements(doc.security),
    security_definitions: {
      additional_properties: Object.entries((doc.securityDefinitions ?? {}) as Json).map(([name, d]) => {
        const def = d as Json;
        return { name, value: { api_key_security: { type: def.type, name: def.name, in: def.in, description: def.description, vendor_extension: vendorExtensions(def) } } };
      }),
    },
    vendor_extension: vendorExtensions(doc),
  };
  const t = typeNamed('openapi.v2.Document');
  encoded = Buffer.from(t.encode(t.fromObject(message)).finish());
  return encoded;
}
