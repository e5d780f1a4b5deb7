// The building blocks of validation: causes worded as Kubernetes words them, readers of
// unknown JSON that tolerate wrong types (the schema reports those), and the rules several
// kinds share (object metadata, labels, port numbers and names).

import { isDNS1123Label, validateLabelKey, validateLabelValue } from './names';
import type { StatusCause } from './types';

export type CauseReason =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound';

export interface ValidationCause extends StatusCause {
  reason: CauseReason;
  field: string;
  message: string;
}

// --- causes, worded as Kubernetes words them ---

export function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v);
}

export const invalid = (field: string, value: unknown, detail: string): ValidationCause => ({
  reason: 'FieldValueInvalid',
  field,
  message: `Invalid value: ${formatValue(value)}: ${detail}`,
});
export const required = (field: string, detail?: string): ValidationCause => ({
  reason: 'FieldValueRequired',
  field,
  message: detail ? `Required value: ${detail}` : 'Required value',
});
export const notSupported = (field: string, value: unknown, supported: string[]): ValidationCause => ({
  reason: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${formatValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});
export const forbidden = (field: string, detail: string): ValidationCause => ({
  reason: 'FieldValueForbidden',
  field,
  message: `Forbidden: ${detail}`,
});
export const duplicate = (field: string, value: unknown): ValidationCause => ({
  reason: 'FieldValueDuplicate',
  field,
  message: `Duplicate value: ${formatValue(value)}`,
});
export const tooLong = (field: string, max: number): ValidationCause => ({
  reason: 'FieldValueTooLong',
  field,
  message: `Too long: may not be more than ${max} bytes`,
});
export const tooMany = (field: string, actual: number, max: number): ValidationCause => ({
  reason: 'FieldValueTooMany',
  field,
  message: `Too many: ${actual}: must have at most ${max} items`,
});
export const invalidIPMessage = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

export const notFound = (field: string, value: unknown): ValidationCause => ({
  reason: 'FieldValueNotFound',
  field,
  message: `Not found: ${formatValue(value)}`,
});

// --- reading unknown JSON defensively (the schema reports wrong types) ---

export type JsonObject = Record<string, unknown>;

export function asObject(x: unknown): JsonObject | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as JsonObject) : undefined;
}

export function asArray(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

export function asString(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

export function asNumber(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

export function stringMap(x: unknown): [string, string][] {
  const o = asObject(x);
  if (!o) return [];
  return Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string');
}

export type NameRule = (s: string) => string[];

export interface MetaRules {
  nameRule: NameRule;
  requireName: boolean;
}

const maxAnnotationsBytes = 256 * 1024;

export function validateLabels(labels: unknown, field: string, out: ValidationCause[]): void {
  for (const [k, v] of stringMap(labels)) {
    for (const msg of validateLabelKey(k)) out.push(invalid(field, k, msg));
    for (const msg of validateLabelValue(v)) out.push(invalid(field, v, msg));
  }
}

export function validateMeta(metaRaw: unknown, rules: MetaRules, out: ValidationCause[], base = 'metadata'): void {
  const meta = asObject(metaRaw) ?? {};
  const name = asString(meta.name);
  const generateName = asString(meta.generateName);
  if (name) {
    for (const msg of rules.nameRule(name)) out.push(invalid(`${base}.name`, name, msg));
  } else if (generateName) {
    // A generated name is the prefix plus random characters: a trailing '-' is fine.
    for (const msg of rules.nameRule(generateName.replace(/-$/, 'a'))) out.push(invalid(`${base}.generateName`, generateName, msg));
  } else if (rules.requireName) {
    out.push(required(`${base}.name`, 'name or generateName is required'));
  }
  const namespace = asString(meta.namespace);
  if (namespace) for (const msg of isDNS1123Label(namespace)) out.push(invalid(`${base}.namespace`, namespace, msg));
  validateLabels(meta.labels, `${base}.labels`, out);
  let annotationBytes = 0;
  for (const [k, v] of stringMap(meta.annotations)) {
    for (const msg of validateLabelKey(k.toLowerCase())) out.push(invalid(`${base}.annotations`, k, msg));
    annotationBytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (annotationBytes > maxAnnotationsBytes) out.push(tooLong(`${base}.annotations`, maxAnnotationsBytes));
}

const ianaSvcNameRe = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** A named port: up to 15 lowercase alphanumerics or '-', with a letter, no "--". */
export function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push('must be no more than 15 characters');
  if (!ianaSvcNameRe.test(name)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  else if (name.includes('--')) errs.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  return errs;
}

export function validatePortNumber(v: unknown, field: string, out: ValidationCause[], allowZero = false): void {
  const n = asNumber(v);
  if (n === undefined) return;
  if (!Number.isInteger(n) || n > 65535 || n < (allowZero ? 0 : 1)) {
    out.push(invalid(field, v, `must be between ${allowZero ? 0 : 1} and 65535, inclusive`));
  }
}

export function validateIntOrStringPort(v: unknown, field: string, out: ValidationCause[]): void {
  if (typeof v === 'number') validatePortNumber(v, field, out);
  else if (typeof v === 'string') for (const msg of portNameErrors(v)) out.push(invalid(field, v, msg));
}
