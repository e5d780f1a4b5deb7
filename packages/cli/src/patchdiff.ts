// kubectl apply's three-way diff, computed on the client: a strategic merge patch that
// sets what the new configuration changes relative to the live object and removes what
// the last applied configuration had and the new one dropped. Lists declared with a merge
// key (containers by name, env by name, ...) are diffed item by item, so fields the server
// defaulted inside an item survive; other lists are replaced whole when they differ.

import { resolveSchema, schemaFor } from '@peapod/api';
import type { JSONSchema } from '@peapod/api';

type Json = Record<string, unknown>;

function isRecord(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function childSchema(schema: JSONSchema | undefined, key: string): JSONSchema | undefined {
  if (schema === undefined) return undefined;
  const s = resolveSchema(schema);
  const props = s.properties as Record<string, JSONSchema> | undefined;
  if (props !== undefined && Object.hasOwn(props, key)) return props[key];
  return isRecord(s.additionalProperties) ? (s.additionalProperties as JSONSchema) : undefined;
}

function diffMap(last: Json | undefined, config: Json, live: Json | undefined, schema: JSONSchema | undefined): Json {
  const patch: Json = {};
  for (const [k, c] of Object.entries(config)) {
    const l = live?.[k];
    const sub = childSchema(schema, k);
    const prev = isRecord(last) ? last[k] : undefined;
    if (isRecord(c) && isRecord(l)) {
      const d = diffMap(isRecord(prev) ? prev : undefined, c, l, sub);
      if (Object.keys(d).length > 0) patch[k] = d;
    } else if (Array.isArray(c) && Array.isArray(l)) {
      const d = diffList(Array.isArray(prev) ? prev : undefined, c, l, sub);
      if (d !== undefined) patch[k] = d;
    } else if (!deepEqual(c, l)) {
      patch[k] = c;
    }
  }
  if (last !== undefined) {
    for (const k of Object.keys(last)) {
      if (!Object.hasOwn(config, k) && live !== undefined && Object.hasOwn(live, k)) patch[k] = null;
    }
  }
  return patch;
}

function diffList(last: unknown[] | undefined, config: unknown[], live: unknown[], schema: JSONSchema | undefined): unknown[] | undefined {
  const resolved = schema !== undefined ? resolveSchema(schema) : undefined;
  const strategy = String(resolved?.['x-kubernetes-patch-strategy'] ?? '').split(',');
  const mergeKey = resolved?.['x-kubernetes-patch-merge-key'];
  const keyed = strategy.includes('merge') && typeof mergeKey === 'string' && [...config, ...live].every(isRecord);
  if (!keyed) return deepEqual(config, live) ? undefined : config;

  const key = mergeKey as string;
  const itemSchema = isRecord(resolved?.items) ? (resolved.items as JSONSchema) : undefined;
  const find = (list: unknown[] | undefined, k: unknown): Json | undefined =>
    list?.find((i): i is Json => isRecord(i) && i[key] === k);
  const items: unknown[] = [];
  for (const item of config as Json[]) {
    const liveItem = find(live, item[key]);
    if (liveItem === undefined) {
      items.push(item);
      continue;
    }
    const d = diffMap(find(last, item[key]), item, liveItem, itemSchema);
    if (Object.keys(d).length > 0) items.push({ [key]: item[key], ...d });
  }
  for (const item of (last ?? []) as Json[]) {
    const k = isRecord(item) ? item[key] : undefined;
    if (k !== undefined && find(config, k) === undefined && find(live, k) !== undefined) items.push({ [key]: k, $patch: 'delete' });
  }
  return items.length > 0 ? items : undefined;
}

/** The strategic merge patch that takes `live` to `config`, given the configuration applied before. */
export function threeWayPatch(kind: string, lastApplied: unknown, config: unknown, live: unknown): Json {
  if (!isRecord(config)) return {};
  return diffMap(isRecord(lastApplied) ? lastApplied : undefined, config, isRecord(live) ? live : undefined, schemaFor(kind));
}
