// -o json|yaml|name|jsonpath=...: one object as itself, several as a `v1 List`, keys
// sorted as kubectl prints them.

import type { KubeObject } from '@peapod/api';
import { CliError } from '../errors';
import { renderJsonPath } from './jsonpath';

export type OutputFormat =
  | { kind: 'table' }
  | { kind: 'wide' }
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'name' }
  | { kind: 'jsonpath'; template: string };

const allowed = 'json,jsonpath,name,wide,yaml';

export function parseOutputFormat(o: string | undefined): OutputFormat {
  if (o === undefined || o === '') return { kind: 'table' };
  if (o === 'wide' || o === 'json' || o === 'yaml' || o === 'name') return { kind: o };
  const m = /^jsonpath=(.*)$/s.exec(o);
  if (m) {
    if (m[1] === '') throw new CliError('template format specified but no template given');
    return { kind: 'jsonpath', template: m[1] };
  }
  throw new CliError(`unable to match a printer suitable for the output format "${o}", allowed formats are: ${allowed}`);
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
  return out;
}

export function asList(objects: KubeObject[]): KubeObject {
  return { apiVersion: 'v1', items: objects, kind: 'List', metadata: { resourceVersion: '' } } as unknown as KubeObject;
}

export function toJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 4) + '\n';
}

export function toYaml(value: unknown): string {
  // Loaded here: most commands never print YAML, and yaml is a heavy module to load.
  const { stringify } = require('yaml') as typeof import('yaml');
  // YAML 1.1 quoting (timestamps, "on", "y") matches what kubectl's Go encoder writes.
  return stringify(sortKeys(value), { version: '1.1', indentSeq: false, lineWidth: 0 });
}

/** `pod/web`: the lower-case kind and the name. */
export function nameOf(obj: KubeObject, fallbackKind: string): string {
  return `${(obj.kind ?? fallbackKind).toLowerCase()}/${obj.metadata?.name ?? ''}`;
}

/** The object without metadata.managedFields, which kubectl leaves out of JSON and YAML unless asked. */
function withoutManagedFields(obj: KubeObject): KubeObject {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _omitted, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/**
 * Prints objects; `single` (one named object asked for) prints it alone rather than in a
 * List; JSON and YAML leave managedFields out unless `showManagedFields`.
 */
export function formatObjects(objects: KubeObject[], format: OutputFormat, single: boolean, kind: string, showManagedFields = false): string {
  const shown = showManagedFields || (format.kind !== 'json' && format.kind !== 'yaml') ? objects : objects.map(withoutManagedFields);
  switch (format.kind) {
    case 'name':
      return objects.map((o) => nameOf(o, kind) + '\n').join('');
    case 'json':
      return toJson(single && shown.length === 1 ? shown[0] : asList(shown));
    case 'yaml':
      return toYaml(single && shown.length === 1 ? shown[0] : asList(shown));
    case 'jsonpath':
      return renderJsonPath(format.template, single && objects.length === 1 ? objects[0] : asList(objects));
    default:
      throw new Error(`format ${format.kind} prints tables, not objects`);
  }
}
