// Our JSON objects ↔ the plain objects protobufjs encodes and decodes, by Go's rules
// (conventions: ./proto/meta.ts). Encoding writes every value field, zero when the JSON
// lacks it, and pointer fields only when present, so the bytes are those Kubernetes
// writes. Decoding gives the JSON Go would give: zero values are left out unless the field
// has no omitempty, value messages are always there, and the zero time is left out (Go
// writes null, which every reader takes as absent).
//
// The wire forms of a few apimachinery types differ from their JSON: Time and MicroTime
// (seconds + nanos ↔ RFC 3339), Quantity and IntOrString (a message ↔ the string or number
// itself), FieldsV1 and RawExtension (bytes ↔ the embedded JSON), ExtraValue (a message ↔
// the list itself); bytes fields are base64 strings in JSON.

import protobuf from 'protobufjs';

type Json = Record<string, unknown>;
type Special = 'time' | 'microtime' | 'quantity' | 'intorstring' | 'fieldsv1' | 'rawextension' | 'extravalue';

const specials: Record<string, Special> = {
  'k8s.io.apimachinery.pkg.apis.meta.v1.Time': 'time',
  'k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime': 'microtime',
  'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1': 'fieldsv1',
  'k8s.io.apimachinery.pkg.api.resource.Quantity': 'quantity',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'intorstring',
  'k8s.io.apimachinery.pkg.runtime.RawExtension': 'rawextension',
  'k8s.io.api.authentication.v1.ExtraValue': 'extravalue',
  'k8s.io.api.authorization.v1.ExtraValue': 'extravalue',
};

interface FieldPlan {
  name: string;
  shape: 'single' | 'repeated' | 'map';
  /** protobuf scalar type, for scalar fields and scalar map values */
  scalar?: string;
  message?: MessagePlan;
  /** Go pointer: on the wire only when present */
  pointer: boolean;
  /** JSON carries the zero value (no omitempty) */
  always: boolean;
  /** an embedded struct: its fields are in the parent's JSON object */
  inline: boolean;
}

interface MessagePlan {
  special?: Special;
  fields: FieldPlan[];
  /** the message with every value field zero, built once */
  zero?: Json;
}

/** A value on the wire or in JSON that does not fit its message. */
export class ProtobufConversionError extends Error {
  /** where the value is ("spec", "containers[0]", "ports"), filled in as the error goes up */
  readonly path: string[] = [];
  constructor(readonly problem: string) {
    super(problem);
  }
  /** Records the field (and index or key) the error came through. */
  within(step: string): this {
    this.path.unshift(step);
    this.message = `${this.path.join('.')}: ${this.problem}`;
    return this;
  }
}

const plans = new Map<protobuf.Type, MessagePlan>();

export function planOf(type: protobuf.Type): MessagePlan {
  let plan = plans.get(type);
  if (plan) return plan;
  plan = { special: specials[type.fullName.slice(1)], fields: [] };
  // Registered before its fields are planned: a message may (indirectly) contain itself.
  plans.set(type, plan);
  for (const f of type.fieldsArray) {
    const options = f.options ?? {};
    const resolved = f.resolvedType;
    if (resolved && !(resolved instanceof protobuf.Type)) throw new Error(`field ${f.fullName}: enums are not used in Kubernetes messages`);
    plan.fields.push({
      name: f.name,
      shape: f.map ? 'map' : f.repeated ? 'repeated' : 'single',
      scalar: resolved ? undefined : f.type,
      message: resolved ? planOf(resolved) : undefined,
      pointer: options.proto3_optional === true,
      always: options['(json_always)'] === true,
      inline: options['(json_inline)'] === true,
    });
  }
  return plan;
}

// ---------- JSON → message ----------

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function zeroScalar(scalar: string): unknown {
  switch (scalar) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'bytes':
      return Buffer.alloc(0);
    default:
      return 0;
  }
}

function scalarToWire(scalar: string, v: unknown): unknown {
  switch (scalar) {
    case 'string':
      return typeof v === 'string' ? v : String(v);
    case 'bool':
      if (typeof v !== 'boolean') throw new ProtobufConversionError(`expected a boolean`);
      return v;
    case 'bytes':
      if (typeof v !== 'string') throw new ProtobufConversionError(`expected a base64 string`);
      return Buffer.from(v, 'base64');
    default: {
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n)) throw new ProtobufConversionError(`expected a number`);
      return n;
    }
  }
}

const rfc3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i;

/** RFC 3339 → seconds and nanoseconds (nanoseconds truncated to microseconds, as MicroTime keeps them). */
function parseTime(v: unknown): { seconds: number; nanos: number } {
  const m = typeof v === 'string' ? rfc3339.exec(v) : null;
  const ms = m ? Date.parse(`${m[1]}${m[3].toUpperCase()}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new ProtobufConversionError(`expected an RFC 3339 time`);
  const micros = (m[2] ?? '').slice(0, 6).padEnd(6, '0');
  return { seconds: Math.floor(ms / 1000), nanos: Number(micros) * 1000 };
}

function specialToWire(special: Special, v: unknown): Json {
  switch (special) {
    case 'time':
      // Time keeps seconds only: Kubernetes writes nanos as 0.
      return { seconds: parseTime(v).seconds, nanos: 0 };
    case 'microtime':
      return parseTime(v);
    case 'quantity':
      if (typeof v !== 'string' && typeof v !== 'number') throw new ProtobufConversionError(`expected a quantity`);
      return { string: String(v) };
    case 'intorstring':
      if (typeof v === 'number' && Number.isInteger(v)) return { type: 0, intVal: v, strVal: '' };
      if (typeof v === 'string') return { type: 1, intVal: 0, strVal: v };
      throw new ProtobufConversionError(`expected an integer or a string`);
    case 'fieldsv1':
    case 'rawextension':
      return { raw: Buffer.from(JSON.stringify(v)) };
    case 'extravalue':
      if (!Array.isArray(v)) throw new ProtobufConversionError(`expected a list of strings`);
      return { items: v.map((s) => String(s)) };
  }
}

function zeroMessage(plan: MessagePlan): Json {
  if (plan.zero) return plan.zero;
  let zero: Json;
  switch (plan.special) {
    case 'quantity':
      zero = { string: '0' };
      break;
    case 'intorstring':
      zero = { type: 0, intVal: 0, strVal: '' };
      break;
    case undefined:
      zero = toWire(plan, {});
      break;
    default:
      // the zero time and empty raw bytes are an empty message
      zero = {};
  }
  plan.zero = zero;
  return zero;
}

function messageToWire(plan: MessagePlan, v: unknown): Json {
  if (plan.special) return specialToWire(plan.special, v);
  if (!isObject(v)) throw new ProtobufConversionError('expected an object');
  return toWire(plan, v);
}

function elementToWire(f: FieldPlan, v: unknown): unknown {
  return f.message ? messageToWire(f.message, v) : scalarToWire(f.scalar!, v);
}

/** Go writes map entries in key order. (JavaScript objects list integer-like keys first whatever their insertion order.) */
function sortedKeys(o: Json): string[] {
  return Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function toWire(plan: MessagePlan, json: Json): Json {
  const out: Json = {};
  // Where a bad value is, kept only to be told when there is one (no strings built on the way).
  let field: FieldPlan | undefined;
  let at: number | string | undefined;
  try {
    for (const f of plan.fields) {
      field = f;
      at = undefined;
      if (f.inline) {
        out[f.name] = toWire(f.message!, json);
        continue;
      }
      const v = json[f.name];
      if (v === undefined || v === null) {
        if (!f.pointer && f.shape === 'single') out[f.name] = f.message ? zeroMessage(f.message) : zeroScalar(f.scalar!);
        continue;
      }
      if (f.shape === 'repeated') {
        if (!Array.isArray(v)) throw new ProtobufConversionError('expected a list');
        const list = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          at = i;
          list[i] = elementToWire(f, v[i]);
        }
        out[f.name] = list;
      } else if (f.shape === 'map') {
        if (!isObject(v)) throw new ProtobufConversionError('expected an object');
        const m: Json = {};
        for (const k of sortedKeys(v)) {
          at = k;
          if (v[k] !== null && v[k] !== undefined) m[k] = elementToWire(f, v[k]);
        }
        out[f.name] = m;
      } else {
        out[f.name] = elementToWire(f, v);
      }
    }
  } catch (err) {
    if (err instanceof ProtobufConversionError && field && !field.inline) {
      err.within(at === undefined ? field.name : typeof at === 'number' ? `${field.name}[${at}]` : `${field.name}.${at}`);
    }
    throw err;
  }
  return out;
}

// ---------- message → JSON ----------

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
const empty: Json = Object.freeze({}) as Json;

function num(v: unknown): number {
  return typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber();
}

function scalarToJson(scalar: string, v: unknown): unknown {
  switch (scalar) {
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return num(v);
    case 'bytes':
      return Buffer.from(v as Uint8Array).toString('base64');
    default:
      return v;
  }
}

function zeroJson(scalar: string): unknown {
  return scalar === 'string' || scalar === 'bytes' ? '' : scalar === 'bool' ? false : 0;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function formatTime(seconds: number, micros?: number): string {
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micros === undefined ? `${iso}Z` : `${iso}.${String(micros).padStart(6, '0')}Z`;
}

function parseEmbeddedJson(raw: unknown, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(raw as Uint8Array).toString('utf8'));
  } catch {
    throw new ProtobufConversionError(`${what} does not hold JSON`);
  }
}

function specialToJson(special: Special, m: Json): unknown {
  switch (special) {
    case 'time':
    case 'microtime': {
      if (!hasOwn(m, 'seconds') && !hasOwn(m, 'nanos')) return undefined;
      const seconds = hasOwn(m, 'seconds') ? num(m.seconds) : 0;
      // Time keeps seconds only, as Kubernetes reads it.
      return special === 'time' ? formatTime(seconds) : formatTime(seconds, Math.floor(num(m.nanos ?? 0) / 1000));
    }
    case 'quantity':
      return hasOwn(m, 'string') ? m.string : '0';
    case 'intorstring':
      return num(m.type ?? 0) === 1 ? (m.strVal ?? '') : (m.intVal ?? 0);
    case 'fieldsv1':
    case 'rawextension':
      return hasOwn(m, 'raw') ? parseEmbeddedJson(m.raw, special) : undefined;
    case 'extravalue':
      return [...((m.items as string[]) ?? [])];
  }
}

function messageToJson(plan: MessagePlan, m: Json): unknown {
  return plan.special ? specialToJson(plan.special, m) : toJson(plan, m, {});
}

function elementToJson(f: FieldPlan, v: unknown): unknown {
  return f.message ? messageToJson(f.message, v as Json) : scalarToJson(f.scalar!, v);
}

export function toJson(plan: MessagePlan, m: Json, out: Json): Json {
  for (const f of plan.fields) {
    const present = hasOwn(m, f.name);
    const v = m[f.name];
    if (f.inline) {
      toJson(f.message!, present ? (v as Json) : empty, out);
    } else if (f.shape === 'repeated') {
      const list = v as unknown[] | undefined;
      if (list && list.length) out[f.name] = list.map((e) => elementToJson(f, e));
    } else if (f.shape === 'map') {
      const map = v as Json | undefined;
      if (map) {
        const keys = Object.keys(map);
        if (keys.length) {
          const o: Json = {};
          for (const k of keys) o[k] = elementToJson(f, map[k]);
          out[f.name] = o;
        }
      }
    } else if (f.message) {
      if (!present && f.pointer) continue;
      const j = messageToJson(f.message, present ? (v as Json) : empty);
      if (j !== undefined) out[f.name] = j;
    } else if (f.pointer) {
      if (present) out[f.name] = scalarToJson(f.scalar!, v);
    } else {
      const s = present ? scalarToJson(f.scalar!, v) : zeroJson(f.scalar!);
      if (f.always || !isZero(s)) out[f.name] = s;
    }
  }
  return out;
}
