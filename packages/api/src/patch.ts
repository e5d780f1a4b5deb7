// The three PATCH flavours the API accepts. Inputs are never mutated: each function works
// on its own copy. Strategic merge reads list merge keys and strategies from the schemas,
// the same declarations /openapi publishes for `kubectl apply`.

import { applyOperation, JsonPatchError, type Operation } from 'fast-json-patch';
import { resolveSchema, schemaFor, type JSONSchema } from './schemas';

export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

type JsonObject = Record<string, unknown>;

function isObject(x: unknown): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function clone<T>(x: T): T {
  return x === undefined ? x : structuredClone(x);
}

// --- RFC 7386 JSON merge patch ---

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

/** RFC 7386: objects merge key by key, null deletes, anything else (lists too) replaces. */
export function applyMergePatch<T>(target: T, patch: unknown): T {
  return mergePatch(clone(target), patch) as T;
}

// --- RFC 6902 JSON patch ---

const jsonPatchReasons: Partial<Record<string, string>> = {
  TEST_OPERATION_FAILED: 'test operation failed',
  OPERATION_PATH_UNRESOLVABLE: 'path does not exist',
  OPERATION_FROM_UNRESOLVABLE: '"from" path does not exist',
  OPERATION_PATH_CANNOT_ADD: 'parent of path does not exist',
  OPERATION_PATH_ILLEGAL_ARRAY_INDEX: 'illegal array index',
  OPERATION_VALUE_OUT_OF_BOUNDS: 'array index out of bounds',
};

/** RFC 6902; throws PatchError saying which operation failed and why. */
export function applyJsonPatch<T>(target: T, ops: unknown): T {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be a list of operations');
  let doc = clone(target);
  // One operation at a time, so an error can say which one failed.
  ops.forEach((raw: unknown, i) => {
    try {
      doc = applyOperation(doc, raw as Operation, true, true, true, i).newDocument;
    } catch (e) {
      const op = isObject(raw) ? raw : {};
      const where = op.op !== undefined ? ` (${String(op.op)} ${String(op.path)})` : '';
      const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
      const reason = (e instanceof JsonPatchError ? jsonPatchReasons[e.name] : undefined) ?? message;
      throw new PatchError(`json patch operation ${i}${where} failed: ${reason}`);
    }
  });
  return doc;
}

// --- strategic merge patch ---

const DELETE = Symbol('delete');

const setElementOrderPrefix = '$setElementOrder/';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList/';

function isDirectiveKey(k: string): boolean {
  return k === '$patch' || k === '$retainKeys' || k.startsWith(setElementOrderPrefix) || k.startsWith(deleteFromPrimitiveListPrefix);
}

/** A copy of a patch value with every directive removed, for where it is used as-is. */
function withoutDirectives(x: unknown): unknown {
  if (Array.isArray(x)) return x.filter((i) => !(isObject(i) && i.$patch !== undefined && Object.keys(i).length === 1)).map(withoutDirectives);
  if (!isObject(x)) return x;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(x)) if (!isDirectiveKey(k) && v !== null) out[k] = withoutDirectives(v);
  return out;
}

function childSchema(schema: JSONSchema | undefined, key: string): JSONSchema | undefined {
  if (!schema) return undefined;
  const s = resolveSchema(schema);
  const props = s.properties as Record<string, JSONSchema> | undefined;
  if (props && Object.hasOwn(props, key)) return props[key];
  return isObject(s.additionalProperties) ? s.additionalProperties : undefined;
}

function mergeMap(original: unknown, patch: JsonObject, schema: JSONSchema | undefined): JsonObject | typeof DELETE {
  const directive = patch.$patch;
  if (directive === 'delete') return DELETE;
  if (directive === 'replace') return withoutDirectives(patch) as JsonObject;
  if (directive !== undefined && directive !== 'merge') throw new PatchError(`unknown patch type: ${JSON.stringify(directive)} in map`);

  const result: JsonObject = isObject(original) ? { ...original } : {};
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw new PatchError('$retainKeys must be a list of field names');
    const keep = new Set(retain.map(String));
    for (const k of Object.keys(result)) if (!keep.has(k)) delete result[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(deleteFromPrimitiveListPrefix)) continue;
    const field = k.slice(deleteFromPrimitiveListPrefix.length);
    if (!Array.isArray(v)) throw new PatchError(`${k} must be a list`);
    if (Array.isArray(result[field])) {
      result[field] = (result[field] as unknown[]).filter((item) => !v.includes(item));
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (isDirectiveKey(k)) continue;
    if (v === null) {
      delete result[k];
      continue;
    }
    const sub = childSchema(schema, k);
    if (Array.isArray(v)) {
      result[k] = mergeList(result[k], v, sub);
    } else if (isObject(v)) {
      const merged = mergeMap(result[k], v, sub);
      if (merged === DELETE) delete result[k];
      else result[k] = merged;
    } else {
      result[k] = v;
    }
  }
  return result;
}

function mergeList(original: unknown, patch: unknown[], schema: JSONSchema | undefined): unknown[] {
  const strategy = String(schema?.['x-kubernetes-patch-strategy'] ?? '');
  const replaceDirective = patch.some((i) => isObject(i) && i.$patch === 'replace');
  if (!strategy.split(',').includes('merge') || replaceDirective) return withoutDirectives(patch) as unknown[];

  const result = Array.isArray(original) ? [...original] : [];
  const mergeKey = schema?.['x-kubernetes-patch-merge-key'];
  if (typeof mergeKey !== 'string') {
    // A merged list of scalars (finalizers, say): the union, in order.
    for (const item of patch) if (!result.includes(item)) result.push(withoutDirectives(item));
    return result;
  }
  const itemSchema = isObject(schema?.items) ? (schema.items as JSONSchema) : undefined;
  for (const item of patch) {
    if (!isObject(item)) throw new PatchError(`list items must be objects with merge key "${mergeKey}"`);
    const key = item[mergeKey];
    if (key === undefined) throw new PatchError(`list item does not contain declared merge key: ${mergeKey}`);
    const index = result.findIndex((o) => isObject(o) && o[mergeKey] === key);
    if (item.$patch === 'delete') {
      for (let i = result.length - 1; i >= 0; i--) {
        const o = result[i];
        if (isObject(o) && o[mergeKey] === key) result.splice(i, 1);
      }
      continue;
    }
    const merged = mergeMap(index >= 0 ? result[index] : undefined, item, itemSchema);
    if (merged === DELETE) continue;
    if (index >= 0) result[index] = merged;
    else result.push(merged);
  }
  return result;
}

/**
 * Kubernetes' strategic merge patch for objects of a kind: a merge patch in which lists
 * declared with a merge key (containers by name, env by name, ports by containerPort, ...)
 * merge item by item, and the directives $patch (merge/replace/delete), $retainKeys,
 * $deleteFromPrimitiveList/<field> and $setElementOrder/<field> (order only: ignored) apply.
 */
export function applyStrategicMergePatch<T>(kind: string, target: T, patch: unknown): T {
  if (!isObject(patch)) throw new PatchError('strategic merge patch must be a JSON object');
  const merged = mergeMap(clone(target), patch, schemaFor(kind));
  return (merged === DELETE ? {} : merged) as T;
}
