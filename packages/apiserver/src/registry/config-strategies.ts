// Strategies of the objects that configure pods: ConfigMaps, Secrets and ServiceAccounts.
// Their data is validated as Kubernetes validates it (key names, 1 MiB in all, the keys each
// Secret type requires) and base64 is checked while the body is decoded, so a bad value is
// a 400 as in Kubernetes; `immutable` objects keep their data for good.

import { isConfigMapKey } from '@peapod/api';
import type { ConfigMap, KubeObject, Secret, StatusCause } from '@peapod/api';
import { badRequest } from '../errors';
import { canonicalBase64 } from './base64';
import { BaseStrategy } from './strategies';
import type { Strategy, StrategyOptions } from './strategy';

/** Kubernetes' limit on the data of one ConfigMap or Secret. */
export const maxDataBytes = 1024 * 1024;

export const secretTypes = {
  opaque: 'Opaque',
  serviceAccountToken: 'kubernetes.io/service-account-token',
  dockerConfigJson: 'kubernetes.io/dockerconfigjson',
  tls: 'kubernetes.io/tls',
  basicAuth: 'kubernetes.io/basic-auth',
} as const;

const immutableMessage = 'Forbidden: field is immutable when `immutable` is set';

function isStringMap(x: unknown): x is Record<string, string> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.values(x).every((v) => typeof v === 'string');
}

/**
 * Replaces each base64 value of a map by its canonical form; refuses the body, as
 * Kubernetes' decoder does, at the first value that is not base64.
 */
function canonicalizeBytes(kind: string, map: unknown): void {
  if (!isStringMap(map)) return;
  for (const [key, text] of Object.entries(map)) {
    const canonical = canonicalBase64(text);
    if ('errorOffset' in canonical) throw badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: illegal base64 data at input byte ${canonical.errorOffset}`);
    map[key] = canonical.value;
  }
}

/** The decoded size of canonical base64 values. */
function base64Bytes(map: unknown): number {
  if (!isStringMap(map)) return 0;
  let n = 0;
  for (const v of Object.values(map)) n += (v.length / 4) * 3 - (v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0);
  return n;
}

function keyCauses(map: unknown, field: string): StatusCause[] {
  if (!isStringMap(map)) return [];
  const causes: StatusCause[] = [];
  for (const key of Object.keys(map)) {
    for (const msg of isConfigMapKey(key)) causes.push({ reason: 'FieldValueInvalid', field: `${field}[${key}]`, message: `Invalid value: ${JSON.stringify(key)}: ${msg}` });
  }
  return causes;
}

function tooLong(field: string): StatusCause {
  return { reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${maxDataBytes} bytes` };
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b ?? {}, k) && b![k] === a![k]);
}

/** An immutable object keeps `immutable` and the named maps. */
function immutableCauses(obj: KubeObject & { immutable?: boolean }, old: KubeObject & { immutable?: boolean }, maps: string[]): StatusCause[] {
  if (old.immutable !== true) return [];
  const causes: StatusCause[] = [];
  if (obj.immutable !== true) causes.push({ reason: 'FieldValueForbidden', field: 'immutable', message: immutableMessage });
  for (const m of maps) {
    const now = (obj as unknown as Record<string, Record<string, string> | undefined>)[m];
    const before = (old as unknown as Record<string, Record<string, string> | undefined>)[m];
    if (!sameMap(now, before)) causes.push({ reason: 'FieldValueForbidden', field: m, message: immutableMessage });
  }
  return causes;
}

function utf8Bytes(map: Record<string, string> | undefined): number {
  let n = 0;
  for (const v of Object.values(map ?? {})) if (typeof v === 'string') n += Buffer.byteLength(v);
  return n;
}

export class ConfigMapStrategy extends BaseStrategy {
  canonicalize(obj: KubeObject): void {
    canonicalizeBytes('ConfigMap', (obj as ConfigMap).binaryData);
  }

  override validate(obj: KubeObject): StatusCause[] {
    const cm = obj as ConfigMap;
    const causes = [...super.validate(obj), ...keyCauses(cm.data, 'data'), ...keyCauses(cm.binaryData, 'binaryData')];
    if (isStringMap(cm.data) && isStringMap(cm.binaryData)) {
      for (const key of Object.keys(cm.data)) {
        if (Object.hasOwn(cm.binaryData, key)) causes.push({ reason: 'FieldValueInvalid', field: `data[${key}]`, message: `Invalid value: ${JSON.stringify(key)}: duplicate of key present in binaryData` });
      }
    }
    if (utf8Bytes(cm.data) + base64Bytes(cm.binaryData) > maxDataBytes) causes.push(tooLong(''));
    return causes;
  }

  override validateUpdate(obj: KubeObject, old: KubeObject): StatusCause[] {
    return [...immutableCauses(obj, old, ['data', 'binaryData']), ...this.validate(obj)];
  }
}

export class SecretStrategy extends BaseStrategy {
  /** stringData is written into data (winning over it) and never kept, as Kubernetes' conversion does. */
  canonicalize(obj: KubeObject): void {
    const secret = obj as Secret;
    canonicalizeBytes('Secret', secret.data);
    if (secret.stringData === undefined) return;
    if (isStringMap(secret.stringData) && (secret.data === undefined || isStringMap(secret.data))) {
      const data = { ...secret.data };
      for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
      secret.data = data;
    }
    delete secret.stringData;
  }

  override applyDefaults(obj: KubeObject): void {
    const secret = obj as Secret;
    if (secret.type === undefined || secret.type === '') secret.type = secretTypes.opaque;
  }

  override validate(obj: KubeObject): StatusCause[] {
    const secret = obj as Secret;
    const causes = [...super.validate(obj), ...keyCauses(secret.data, 'data')];
    const data = isStringMap(secret.data) ? secret.data : {};
    if (base64Bytes(data) > maxDataBytes) causes.push(tooLong('data'));
    causes.push(...typeCauses(secret, data));
    return causes;
  }

  override validateUpdate(obj: KubeObject, old: KubeObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const type = (obj as Secret).type;
    if (type !== (old as Secret).type) causes.push({ reason: 'FieldValueInvalid', field: 'type', message: `Invalid value: ${JSON.stringify(type)}: field is immutable` });
    return [...causes, ...immutableCauses(obj, old, ['data']), ...this.validate(obj)];
  }
}

const required = (field: string): StatusCause => ({ reason: 'FieldValueRequired', field, message: 'Required value' });

/** The keys each Secret type requires, as Kubernetes checks them. */
function typeCauses(secret: Secret, data: Record<string, string>): StatusCause[] {
  const has = (k: string) => Object.hasOwn(data, k);
  switch (secret.type) {
    case secretTypes.serviceAccountToken: {
      const key = 'kubernetes.io/service-account.name';
      return secret.metadata.annotations?.[key] ? [] : [required(`metadata.annotations[${key}]`)];
    }
    case secretTypes.dockerConfigJson: {
      const key = '.dockerconfigjson';
      if (!has(key)) return [required(`data[${key}]`)];
      // The parser's own message would quote the contents: the cause says only what is wrong.
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(data[key], 'base64').toString('utf8'));
      } catch {
        return [{ reason: 'FieldValueInvalid', field: `data[${key}]`, message: 'Invalid value: "<secret contents redacted>": the contents are not valid JSON' }];
      }
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return [];
      return [{ reason: 'FieldValueInvalid', field: `data[${key}]`, message: 'Invalid value: "<secret contents redacted>": json: cannot unmarshal into Go value of type map[string]interface {}' }];
    }
    case secretTypes.basicAuth:
      // Either may be empty, but one of them must be there.
      return has('username') || has('password') ? [] : [required('data[username]'), required('data[password]')];
    case secretTypes.tls:
      return [...(has('tls.crt') ? [] : [required('data[tls.crt]')]), ...(has('tls.key') ? [] : [required('data[tls.key]')])];
    default:
      return [];
  }
}

export function configStrategies(opts: StrategyOptions): Map<string, Strategy> {
  const list: Strategy[] = [new ConfigMapStrategy('configmaps', opts), new SecretStrategy('secrets', opts), new BaseStrategy('serviceaccounts', opts)];
  return new Map(list.map((s) => [s.resource.name, s]));
}
