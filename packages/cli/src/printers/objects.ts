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

/** The text of one object in a List's items: each line indented as JSON.stringify indents them two levels down. */
function jsonItem(obj: KubeObject): string {
  return '        ' + JSON.stringify(sortKeys(obj), null, 4).replace(/\n/g, '\n        ');
}

/** The text of one object in a List's items in YAML: `- ` before its first line, its other lines indented by two (blank lines in block scalars left blank). */
function yamlItem(obj: KubeObject): string {
  return '- ' + toYaml(obj).replace(/\n(?=[^\n])/g, '\n  ');
}

/**
 * A List of objects as JSON or YAML, one piece an object, so that a list of any length is
 * printed without building one string for all of it (V8's longest string is about 512 MiB,
 * less than a 150,000-pod cluster's JSON). The pieces join to exactly what toJson/toYaml print for asList.
 */
function* listPieces(objects: KubeObject[], kind: 'json' | 'yaml'): Generator<string> {
  if (objects.length === 0) {
    yield kind === 'json' ? toJson(asList([])) : toYaml(asList([]));
    return;
  }
  if (kind === 'json') {
    yield '{\n    "apiVersion": "v1",\n    "items": [\n';
    for (let i = 0; i < objects.length; i++) yield jsonItem(objects[i]) + (i < objects.length - 1 ? ',\n' : '\n');
    yield '    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n';
    return;
  }
  yield 'apiVersion: v1\nitems:\n';
  for (const obj of objects) yield yamlItem(obj);
  yield 'kind: List\nmetadata:\n  resourceVersion: ""\n';
}

/**
 * Prints objects, in pieces; `single` (one named object asked for) prints it alone rather
 * than in a List; JSON and YAML leave managedFields out unless `showManagedFields`.
 */
export function* objectPieces(objects: KubeObject[], format: OutputFormat, single: boolean, kind: string, showManagedFields = false): Generator<string> {
  const shown = showManagedFields || (format.kind !== 'json' && format.kind !== 'yaml') ? objects : objects.map(withoutManagedFields);
  switch (format.kind) {
    case 'name':
      for (const o of objects) yield nameOf(o, kind) + '\n';
      return;
    case 'json':
      if (single && shown.length === 1) yield toJson(shown[0]);
      else yield* listPieces(shown, 'json');
      return;
    case 'yaml':
      if (single && shown.length === 1) yield toYaml(shown[0]);
      else yield* listPieces(shown, 'yaml');
      return;
    case 'jsonpath':
      yield renderJsonPath(format.template, single && objects.length === 1 ? objects[0] : asList(objects));
      return;
    default:
      throw new Error(`format ${format.kind} prints tables, not objects`);
  }
}

/** objectPieces as one string, for the few objects that create, run and get by name print. */
export function formatObjects(objects: KubeObject[], format: OutputFormat, single: boolean, kind: string, showManagedFields = false): string {
  return [...objectPieces(objects, format, single, kind, showManagedFields)].join('');
}

/** Writes pieces to out about a megabyte at a time, waiting whenever out asks (a slow pipe). */
export async function writePieces(out: NodeJS.WritableStream, pieces: Iterable<string>): Promise<void> {
  const chunkChars = 1 << 20;
  let buffered: string[] = [];
  let length = 0;
  const flush = async () => {
    const text = buffered.join('');
    buffered = [];
    length = 0;
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve));
  };
  for (const piece of pieces) {
    buffered.push(piece);
    length += piece.length;
    if (length >= chunkChars) await flush();
  }
  if (length > 0) await flush();
}
