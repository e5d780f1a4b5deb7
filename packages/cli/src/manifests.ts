// Objects from -f arguments: files, directories (their .yaml/.yml/.json files, in name
// order) and "-" for stdin; multi-document YAML; JSON or YAML Lists are expanded.

import * as fs from 'fs';
import * as path from 'path';
import type { KubeObject } from '@peapod/api';
import { CliError } from './errors';

export interface Manifest {
  /** Where it came from, as kubectl names it in messages: the file path or "STDIN". */
  source: string;
  object: KubeObject;
}

const manifestExtensions = new Set(['.yaml', '.yml', '.json']);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function parseDocuments(text: string, source: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      return Array.isArray(value) ? value : [value];
    } catch {
      // Not JSON after all (a YAML flow mapping, say): YAML reads it below.
    }
  }
  const { parseAllDocuments } = require('yaml') as typeof import('yaml');
  const docs: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new CliError(`error parsing ${source}: ${doc.errors[0].message.split('\n')[0]}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  return docs;
}

function expand(value: unknown, source: string, out: Manifest[]): void {
  if (!isRecord(value)) throw new CliError(`error validating "${source}": the document is not an object`);
  const kind = value.kind;
  if (typeof kind === 'string' && (kind === 'List' || kind.endsWith('List')) && Array.isArray(value.items)) {
    for (const item of value.items) expand(item, source, out);
    return;
  }
  const missing: string[] = [];
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') missing.push('apiVersion not set');
  if (typeof kind !== 'string' || kind === '') missing.push('kind not set');
  if (missing.length > 0) throw new CliError(`error validating "${source}": error validating data: [${missing.join(', ')}]`);
  out.push({ source, object: value as unknown as KubeObject });
}

function filesOf(arg: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(arg);
  } catch {
    throw new CliError(`the path "${arg}" does not exist`);
  }
  if (!stat.isDirectory()) return [arg];
  return fs
    .readdirSync(arg)
    .filter((f) => manifestExtensions.has(path.extname(f).toLowerCase()))
    .sort()
    .map((f) => path.join(arg, f));
}

/** Reads every -f argument for `verb` (create, apply, delete); `stdin` is read when an argument is "-". */
export function readManifests(filenames: string[], verb: string, stdin: () => string = () => fs.readFileSync(0, 'utf8')): Manifest[] {
  if (filenames.length === 0) throw new CliError('must specify one of -f and -k');
  const out: Manifest[] = [];
  for (const arg of filenames) {
    if (arg === '-') {
      for (const doc of parseDocuments(stdin(), 'STDIN')) expand(doc, 'STDIN', out);
      continue;
    }
    for (const file of filesOf(arg)) {
      for (const doc of parseDocuments(fs.readFileSync(file, 'utf8'), file)) expand(doc, file, out);
    }
  }
  if (out.length === 0) throw new CliError(`no objects passed to ${verb}`);
  return out;
}
