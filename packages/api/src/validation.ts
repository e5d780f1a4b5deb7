// Validation of objects sent to the API: the JSON Schema (types, enums, required fields)
// and the semantic rules a schema cannot say (name formats, uniqueness, cross-field
// checks). Every problem is reported, each as a Status cause with a Kubernetes field path.

import type Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { selectorFromSet } from './labels';
import {
  asArray,
  asNumber,
  asObject,
  asString,
  duplicate,
  forbidden,
  invalid,
  notFound,
  notSupported,
  required,
  stringMap,
  validateIntOrStringPort,
  validateLabels,
  validateMeta,
  validatePortNumber,
  portNameErrors,
  type JsonObject,
  type MetaRules,
  type ValidationCause,
} from './field-rules';
import { isDNS1123Label, isDNS1123Subdomain, validateLabelKey, validateLabelValue } from './names';
import { validatePodDNS } from './pod-dns-validation';
import { isValidQuantity, parseQuantity } from './quantity';
import { validateEndpointSlice, validateEndpoints, validateService } from './service-validation';
import { definitionNameFor, definitions, resolveSchema, schemaExtensionKeywords, type JSONSchema } from './schemas';
import { failureStatus } from './status';
import { validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from './rbac';
import { volumeSourceKinds } from './types';
import type { Status, StatusCause } from './types';

export interface ValidateOptions {
  /** false: containers asking for privileged mode are forbidden */
  allowPrivileged?: boolean;
}

/** "Pod "x" is invalid: f: msg" for one cause, "...: [f1: m1, f2: m2]" for several, as Kubernetes says it. */
export function invalidObjectMessage(kind: string, name: string, causes: StatusCause[]): string {
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : (c.message ?? '')));
  const body = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return `${kind} "${name}" is invalid: ${body}`;
}

/** The 422 Invalid Status for an object that failed validation. */
export function invalidStatus(kind: string, name: string, causes: StatusCause[], group = ''): Status {
  return failureStatus(422, invalidObjectMessage(kind, name, causes), { reason: 'Invalid', kind, name, group, causes });
}

/**
 * Go decodes a JSON null as an absent field; so do we, before validating. Only the objects on
 * the way to a null field are copied (pods carry some in their conditions), and the rest is
 * shared: validation reads, and runs on every write.
 */
function withoutNulls(x: unknown): unknown {
  if (Array.isArray(x)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < x.length; i++) {
      const v = withoutNulls(x[i]);
      if (v !== x[i]) (out ??= x.slice())[i] = v;
    }
    return out ?? x;
  }
  if (typeof x !== 'object' || x === null) return x;
  const o = x as JsonObject;
  let out: JsonObject | undefined;
  for (const k in o) {
    const v = o[k];
    const w = v === null ? undefined : withoutNulls(v);
    if (out) {
      if (v !== null) out[k] = w;
    } else if (w !== v) {
      // The first change: the fields before it are kept as they are.
      out = {};
      for (const before in o) {
        if (before === k) break;
        out[before] = o[before];
      }
      if (v !== null) out[k] = w;
    }
  }
  return out ?? x;
}

// --- schema validation ---

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function validatorFor(definitionName: string): ValidateFunction {
  let v = validators.get(definitionName);
  if (v) return v;
  if (!ajv) {
    // Loaded on first validation: clients that never validate (peactl) start faster without it.
    const AjvClass = (require('ajv') as typeof import('ajv')).default;
    ajv = new AjvClass({
      allErrors: true,
      verbose: true,
      strictTypes: false,
      keywords: schemaExtensionKeywords,
      formats: {
        'date-time': (s: string) => !Number.isNaN(Date.parse(s)),
        int32: true,
        int64: true,
        double: true,
        'int-or-string': true,
        // base64 is checked where the body is decoded (a 400, as Kubernetes' decoder gives)
        byte: true,
      },
    });
    ajv.addSchema({ $id: 'peapod', definitions });
  }
  v = ajv.getSchema(`peapod#/definitions/${definitionName}`);
  if (!v) throw new Error(`no schema for ${definitionName}`);
  validators.set(definitionName, v);
  return v;
}

/** "/spec/containers/0/image" → "spec.containers[0].image", reading the data to tell lists from maps. */
function fieldPath(instancePath: string, data: unknown): string {
  if (instancePath === '') return '';
  let out = '';
  let cur: unknown = data;
  for (const raw of instancePath.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      out += `[${seg}]`;
      cur = cur[Number(seg)];
    } else {
      out += out === '' ? seg : `.${seg}`;
      cur = asObject(cur)?.[seg];
    }
  }
  return out;
}

function join(path: string, prop: string): string {
  return path === '' ? prop : `${path}.${prop}`;
}

function schemaCauses(definitionName: string, data: unknown): ValidationCause[] {
  const validate = validatorFor(definitionName);
  if (validate(data)) return [];
  const causes: ValidationCause[] = [];
  for (const e of validate.errors as ErrorObject[]) {
    // The branches of an int-or-string anyOf fail individually; the anyOf error says it once.
    if (e.schemaPath.includes('/anyOf/')) continue;
    const field = fieldPath(e.instancePath, data);
    switch (e.keyword) {
      case 'required':
        causes.push(required(join(field, (e.params as { missingProperty: string }).missingProperty)));
        break;
      case 'type':
        causes.push(invalid(field, e.data, `must be of type ${(e.params as { type: string }).type}`));
        break;
      case 'anyOf': {
        const types = asArray((e.parentSchema as JSONSchema | undefined)?.anyOf).map((s) => asObject(s)?.type);
        causes.push(invalid(field, e.data, `must be of type ${types.join(' or ')}`));
        break;
      }
      case 'enum':
        causes.push(notSupported(field, e.data, (e.params as { allowedValues: string[] }).allowedValues));
        break;
      case 'minimum':
        causes.push(invalid(field, e.data, `must be greater than or equal to ${(e.params as { limit: number }).limit}`));
        break;
      case 'maximum':
        causes.push(invalid(field, e.data, `must be less than or equal to ${(e.params as { limit: number }).limit}`));
        break;
      case 'format':
        causes.push(invalid(field, e.data, `must be a valid ${(e.params as { format: string }).format}`));
        break;
      default:
        causes.push(invalid(field, e.data, e.message ?? 'is invalid'));
    }
  }
  return causes;
}

// --- semantic rules ---

const quantityRegexMessage = "must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/** Valid quantities of a resources map; returns their values (for request ≤ limit). */
function validateResourceList(list: unknown, field: string, out: ValidationCause[]): Map<string, number> {
  const values = new Map<string, number>();
  for (const [name, raw] of Object.entries(asObject(list) ?? {})) {
    const f = `${field}[${name}]`;
    for (const msg of validateLabelKey(name)) out.push(invalid(f, name, msg));
    if (typeof raw !== 'string' && typeof raw !== 'number') continue;
    const s = String(raw);
    if (!isValidQuantity(s)) {
      out.push(invalid(f, raw, quantityRegexMessage));
      continue;
    }
    const q = parseQuantity(s);
    if (q < 0) out.push(invalid(f, raw, 'must be greater than or equal to 0'));
    else values.set(name, q);
  }
  return values;
}

function validateResources(resources: unknown, field: string, out: ValidationCause[]): void {
  const r = asObject(resources);
  if (!r) return;
  const limits = validateResourceList(r.limits, `${field}.limits`, out);
  const requests = validateResourceList(r.requests, `${field}.requests`, out);
  const limitText = asObject(r.limits) ?? {};
  const requestText = asObject(r.requests) ?? {};
  for (const [name, req] of requests) {
    const lim = limits.get(name);
    if (lim !== undefined && req > lim) {
      out.push(
        invalid(`${field}.requests`, String(requestText[name]), `must be less than or equal to ${name} limit of ${String(limitText[name])}`),
      );
    }
  }
}

const httpHeaderNameRe = /^[-A-Za-z0-9]+$/;
const httpHeaderNameMessage =
  "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')";

function validateHandler(h: JsonObject, field: string, kinds: string[], out: ValidationCause[]): void {
  const present = kinds.filter((k) => h[k] !== undefined);
  if (present.length === 0) {
    out.push(required(field, 'must specify a handler type'));
    return;
  }
  if (present.length > 1) {
    out.push(forbidden(`${field}.${present[1]}`, 'may not specify more than 1 handler type'));
  }
  const exec = asObject(h.exec);
  if (exec && asArray(exec.command).length === 0) out.push(required(`${field}.exec.command`));
  const httpGet = asObject(h.httpGet);
  if (httpGet) {
    validateIntOrStringPort(httpGet.port, `${field}.httpGet.port`, out);
    asArray(httpGet.httpHeaders).forEach((header, i) => {
      const name = asString(asObject(header)?.name);
      if (name !== undefined && !httpHeaderNameRe.test(name)) {
        out.push(invalid(`${field}.httpGet.httpHeaders[${i}].name`, name, httpHeaderNameMessage));
      }
    });
  }
  const tcp = asObject(h.tcpSocket);
  if (tcp) validateIntOrStringPort(tcp.port, `${field}.tcpSocket.port`, out);
  const sleep = asObject(h.sleep);
  const seconds = asNumber(sleep?.seconds);
  if (seconds !== undefined && seconds < 0) out.push(invalid(`${field}.sleep.seconds`, seconds, 'must be greater than or equal to 0'));
}

type ProbeKind = 'livenessProbe' | 'readinessProbe' | 'startupProbe';
const probeKinds: ProbeKind[] = ['livenessProbe', 'readinessProbe', 'startupProbe'];
const probeCounts = ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'];

/** A probe's handler and numbers; liveness and startup probes must succeed once, not more. */
function validateProbe(p: JsonObject, field: string, kind: ProbeKind, out: ValidationCause[]): void {
  validateHandler(p, field, ['exec', 'httpGet', 'tcpSocket'], out);
  for (const name of probeCounts) {
    const n = asNumber(p[name]);
    if (n !== undefined && n < 0) out.push(invalid(`${field}.${name}`, n, 'must be greater than or equal to 0'));
  }
  const grace = asNumber(p.terminationGracePeriodSeconds);
  if (kind === 'readinessProbe') {
    if (p.terminationGracePeriodSeconds !== undefined && p.terminationGracePeriodSeconds !== null) {
      out.push(invalid(`${field}.terminationGracePeriodSeconds`, p.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
    }
  } else {
    if (grace !== undefined && grace <= 0) out.push(invalid(`${field}.terminationGracePeriodSeconds`, grace, 'must be greater than 0'));
    const successes = asNumber(p.successThreshold);
    if (successes !== undefined && successes !== 1) out.push(invalid(`${field}.successThreshold`, successes, 'must be 1'));
  }
}

interface ContainerContext {
  volumeNames: Set<string>;
  containerNames: Set<string>;
  hostNetwork: boolean;
  opts: ValidateOptions;
}

function validateContainer(raw: unknown, field: string, ctx: ContainerContext, out: ValidationCause[], init = false): void {
  const c = asObject(raw);
  if (!c) return;
  const name = asString(c.name);
  if (name === undefined || name === '') {
    out.push(required(`${field}.name`));
  } else {
    for (const msg of isDNS1123Label(name)) out.push(invalid(`${field}.name`, name, msg));
    if (ctx.containerNames.has(name)) out.push(duplicate(`${field}.name`, name));
    ctx.containerNames.add(name);
  }
  const image = asString(c.image);
  if (image === undefined || image.trim() === '') out.push(required(`${field}.image`));

  const portNames = new Set<string>();
  asArray(c.ports).forEach((pRaw, j) => {
    const p = asObject(pRaw);
    if (!p) return;
    const pf = `${field}.ports[${j}]`;
    validatePortNumber(p.containerPort, `${pf}.containerPort`, out);
    validatePortNumber(p.hostPort, `${pf}.hostPort`, out, true);
    const hostPort = asNumber(p.hostPort);
    if (ctx.hostNetwork && hostPort && hostPort !== p.containerPort) {
      out.push(invalid(`${pf}.hostPort`, hostPort, 'must match `containerPort` when `hostNetwork` is true'));
    }
    const portName = asString(p.name);
    if (portName) {
      for (const msg of portNameErrors(portName)) out.push(invalid(`${pf}.name`, portName, msg));
      if (portNames.has(portName)) out.push(duplicate(`${pf}.name`, portName));
      portNames.add(portName);
    }
  });

  asArray(c.env).forEach((eRaw, j) => {
    const e = asObject(eRaw);
    if (!e) return;
    const envName = asString(e.name);
    if (!envName) out.push(required(`${field}.env[${j}].name`));
    else if (envName.includes('=')) out.push(invalid(`${field}.env[${j}].name`, envName, "must not contain '='"));
    if (asString(e.value) && e.valueFrom !== undefined) {
      out.push(invalid(`${field}.env[${j}].valueFrom`, '', 'may not be specified when `value` is not empty'));
    }
  });

  validateResources(c.resources, `${field}.resources`, out);

  const mountPaths = new Set<string>();
  asArray(c.volumeMounts).forEach((mRaw, j) => {
    const m = asObject(mRaw);
    if (!m) return;
    const mf = `${field}.volumeMounts[${j}]`;
    const volume = asString(m.name);
    if (volume === '') out.push(required(`${mf}.name`));
    else if (volume !== undefined && !ctx.volumeNames.has(volume)) out.push(notFound(`${mf}.name`, volume));
    const mountPath = asString(m.mountPath);
    if (mountPath === '') out.push(required(`${mf}.mountPath`));
    else if (mountPath !== undefined) {
      if (mountPaths.has(mountPath)) out.push(invalid(`${mf}.mountPath`, mountPath, 'must be unique'));
      mountPaths.add(mountPath);
    }
  });

  if (init) {
    // Init containers run to completion one after another: nothing probes or hooks them.
    for (const name of ['lifecycle', ...probeKinds]) {
      if (c[name] !== undefined && c[name] !== null) out.push(forbidden(`${field}.${name}`, 'may not be set for init containers without restartPolicy=Always'));
    }
  } else {
    const lifecycle = asObject(c.lifecycle);
    for (const hook of ['postStart', 'preStop']) {
      const h = asObject(lifecycle?.[hook]);
      if (h) validateHandler(h, `${field}.lifecycle.${hook}`, ['exec', 'httpGet', 'tcpSocket', 'sleep'], out);
    }
    for (const kind of probeKinds) {
      const p = asObject(c[kind]);
      if (p) validateProbe(p, `${field}.${kind}`, kind, out);
    }
  }

  const sc = asObject(c.securityContext);
  if (sc?.privileged === true && ctx.opts.allowPrivileged === false) {
    out.push(forbidden(`${field}.securityContext.privileged`, 'disallowed by cluster policy'));
  }
}

function validateVolumes(spec: JsonObject, field: string, out: ValidationCause[]): Set<string> {
  const names = new Set<string>();
  asArray(spec.volumes).forEach((vRaw, i) => {
    const v = asObject(vRaw);
    if (!v) return;
    const vf = `${field}.volumes[${i}]`;
    const name = asString(v.name);
    if (!name) out.push(required(`${vf}.name`));
    else {
      for (const msg of isDNS1123Label(name)) out.push(invalid(`${vf}.name`, name, msg));
      if (names.has(name)) out.push(duplicate(`${vf}.name`, name));
      names.add(name);
    }
    const sources = volumeSourceKinds.filter((s) => v[s] !== undefined);
    if (sources.length === 0) out.push(required(vf, 'must specify a volume type'));
    else if (sources.length > 1) out.push(forbidden(`${vf}.${sources[1]}`, 'may not specify more than 1 volume type'));
    const hostPath = asObject(v.hostPath);
    if (hostPath && asString(hostPath.path) === '') out.push(required(`${vf}.hostPath.path`));
    const sizeLimit = asObject(v.emptyDir)?.sizeLimit;
    if ((typeof sizeLimit === 'string' || typeof sizeLimit === 'number') && !isValidQuantity(String(sizeLimit))) {
      out.push(invalid(`${vf}.emptyDir.sizeLimit`, sizeLimit, quantityRegexMessage));
    }
    validateDataVolume(v, vf, out);
  });
  return names;
}

const fileModeMessage = 'must be a number between 0 and 0777 (octal), both inclusive';

function validateFileMode(mode: unknown, field: string, out: ValidationCause[]): void {
  const m = asNumber(mode);
  if (m !== undefined && (m < 0 || m > 0o777)) out.push(invalid(field, m, fileModeMessage));
}

/** A path inside a volume: relative, never climbing out with "..". */
function validateVolumePath(path: unknown, field: string, out: ValidationCause[]): void {
  const p = asString(path);
  if (p === undefined) return;
  if (p === '') out.push(required(field));
  else if (p.startsWith('/')) out.push(invalid(field, p, 'must be a relative path'));
  else if (p.split('/').includes('..')) out.push(invalid(field, p, "must not contain '..'"));
  else if (p.startsWith('..')) out.push(invalid(field, p, "must not start with '..'"));
}

function validateItems(items: unknown, field: string, out: ValidationCause[]): void {
  asArray(items).forEach((raw, i) => {
    const item = asObject(raw);
    if (!item) return;
    if (asString(item.key) === '') out.push(required(`${field}[${i}].key`));
    validateVolumePath(item.path, `${field}[${i}].path`, out);
    validateFileMode(item.mode, `${field}[${i}].mode`, out);
  });
}

function validateDownwardItems(items: unknown, field: string, out: ValidationCause[]): void {
  asArray(items).forEach((raw, i) => {
    const item = asObject(raw);
    if (!item) return;
    validateVolumePath(item.path, `${field}[${i}].path`, out);
    validateFileMode(item.mode, `${field}[${i}].mode`, out);
    const refs = ['fieldRef', 'resourceFieldRef'].filter((k) => item[k] !== undefined);
    if (refs.length === 0) out.push(required(`${field}[${i}]`, 'one of fieldRef and resourceFieldRef is required'));
    else if (refs.length > 1) out.push(invalid(`${field}[${i}]`, '', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  });
}

const minTokenSeconds = 10 * 60;
const maxTokenSeconds = 2 ** 32;

/** configMap, secret, downwardAPI and projected volumes, as Kubernetes checks their shape. */
function validateDataVolume(v: JsonObject, vf: string, out: ValidationCause[]): void {
  const configMap = asObject(v.configMap);
  if (configMap) {
    if (!asString(configMap.name)) out.push(required(`${vf}.configMap.name`));
    validateItems(configMap.items, `${vf}.configMap.items`, out);
    validateFileMode(configMap.defaultMode, `${vf}.configMap.defaultMode`, out);
  }
  const secret = asObject(v.secret);
  if (secret) {
    if (!asString(secret.secretName)) out.push(required(`${vf}.secret.secretName`));
    validateItems(secret.items, `${vf}.secret.items`, out);
    validateFileMode(secret.defaultMode, `${vf}.secret.defaultMode`, out);
  }
  const downward = asObject(v.downwardAPI);
  if (downward) {
    validateDownwardItems(downward.items, `${vf}.downwardAPI.items`, out);
    validateFileMode(downward.defaultMode, `${vf}.downwardAPI.defaultMode`, out);
  }
  const projected = asObject(v.projected);
  if (!projected) return;
  validateFileMode(projected.defaultMode, `${vf}.projected.defaultMode`, out);
  asArray(projected.sources).forEach((raw, i) => {
    const src = asObject(raw);
    if (!src) return;
    const sf = `${vf}.projected.sources[${i}]`;
    const kinds = ['secret', 'configMap', 'downwardAPI', 'serviceAccountToken'].filter((k) => src[k] !== undefined);
    if (kinds.length > 1) out.push(forbidden(sf, 'may not specify more than 1 volume type per source'));
    for (const k of ['secret', 'configMap']) {
      const ref = asObject(src[k]);
      if (!ref) continue;
      if (!asString(ref.name)) out.push(required(`${sf}.${k}.name`));
      validateItems(ref.items, `${sf}.${k}.items`, out);
    }
    const downwardSrc = asObject(src.downwardAPI);
    if (downwardSrc) validateDownwardItems(downwardSrc.items, `${sf}.downwardAPI.items`, out);
    const token = asObject(src.serviceAccountToken);
    if (token) {
      const tf = `${sf}.serviceAccountToken`;
      const seconds = asNumber(token.expirationSeconds);
      if (seconds !== undefined && seconds < minTokenSeconds) out.push(invalid(`${tf}.expirationSeconds`, seconds, 'may not specify a duration less than 10 minutes'));
      if (seconds !== undefined && seconds > maxTokenSeconds) out.push(invalid(`${tf}.expirationSeconds`, seconds, 'may not specify a duration larger than 2^32 seconds'));
      validateVolumePath(token.path, `${tf}.path`, out);
    }
  });
}

function validateTolerations(tolerations: unknown, field: string, out: ValidationCause[]): void {
  asArray(tolerations).forEach((tRaw, i) => {
    const t = asObject(tRaw);
    if (!t) return;
    const tf = `${field}[${i}]`;
    const key = asString(t.key) ?? '';
    const operator = asString(t.operator) ?? 'Equal';
    if (key) for (const msg of validateLabelKey(key)) out.push(invalid(`${tf}.key`, key, msg));
    if (!key && operator !== 'Exists') {
      out.push(invalid(`${tf}.operator`, operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    const value = asString(t.value) ?? '';
    if (operator === 'Exists' && value !== '') out.push(invalid(`${tf}.operator`, t, "value must be empty when `operator` is 'Exists'"));
    if (operator === 'Equal' && value) for (const msg of validateLabelValue(value)) out.push(invalid(`${tf}.value`, value, msg));
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      out.push(invalid(`${tf}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
  });
}

function validateNodeSelectorTerm(termRaw: unknown, field: string, out: ValidationCause[]): void {
  const term = asObject(termRaw);
  if (!term) return;
  asArray(term.matchExpressions).forEach((rRaw, i) => {
    const r = asObject(rRaw);
    if (!r) return;
    const rf = `${field}.matchExpressions[${i}]`;
    const key = asString(r.key);
    if (key !== undefined) for (const msg of validateLabelKey(key)) out.push(invalid(`${rf}.key`, key, msg));
    const values = asArray(r.values);
    switch (r.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) out.push(required(`${rf}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) out.push(forbidden(`${rf}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      case 'Gt':
      case 'Lt':
        if (values.length !== 1 || !/^-?\d+$/.test(String(values[0]))) {
          out.push(required(`${rf}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
        }
        break;
      default:
        break;
    }
  });
  asArray(term.matchFields).forEach((rRaw, i) => {
    const r = asObject(rRaw);
    if (r && r.key !== 'metadata.name') {
      out.push(notSupported(`${field}.matchFields[${i}].key`, r.key, ['metadata.name']));
    }
  });
}

function validateAffinity(affinity: unknown, field: string, out: ValidationCause[]): void {
  const na = asObject(asObject(affinity)?.nodeAffinity);
  if (!na) return;
  const naf = `${field}.nodeAffinity`;
  const req = asObject(na.requiredDuringSchedulingIgnoredDuringExecution);
  if (req) {
    const rf = `${naf}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`;
    const terms = asArray(req.nodeSelectorTerms);
    if (terms.length === 0) out.push(required(rf, 'must have at least one node selector term'));
    terms.forEach((t, i) => validateNodeSelectorTerm(t, `${rf}[${i}]`, out));
  }
  asArray(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((pRaw, i) => {
    validateNodeSelectorTerm(asObject(pRaw)?.preference, `${naf}.preferredDuringSchedulingIgnoredDuringExecution[${i}].preference`, out);
  });
}

/** What Kubernetes refuses in a debugging container: it is no part of the pod's service. */
const ephemeralForbidden = ['ports', 'resources', 'lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'];

function validateEphemeralContainer(raw: unknown, field: string, ctx: ContainerContext, appNames: Set<string | undefined>, out: ValidationCause[]): void {
  validateContainer(raw, field, ctx, out);
  const c = asObject(raw);
  if (!c) return;
  for (const prop of ephemeralForbidden) {
    const v = c[prop];
    const empty = v === undefined || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0);
    if (!empty) out.push(forbidden(`${field}.${prop}`, 'cannot be set for an Ephemeral Container'));
  }
  const target = asString(c.targetContainerName);
  if (target && !appNames.has(target)) out.push(notFound(`${field}.targetContainerName`, target));
}

function validatePodSpec(specRaw: unknown, field: string, opts: ValidateOptions, out: ValidationCause[]): void {
  const spec = asObject(specRaw);
  if (!spec) {
    out.push(required(`${field}.containers`));
    return;
  }
  const volumeNames = validateVolumes(spec, field, out);
  const ctx: ContainerContext = { volumeNames, containerNames: new Set(), hostNetwork: spec.hostNetwork === true, opts };
  const containers = asArray(spec.containers);
  if (containers.length === 0) out.push(required(`${field}.containers`));
  containers.forEach((c, i) => validateContainer(c, `${field}.containers[${i}]`, ctx, out));
  asArray(spec.initContainers).forEach((c, i) => validateContainer(c, `${field}.initContainers[${i}]`, ctx, out, true));
  const appNames = new Set(containers.map((c) => asString(asObject(c)?.name)));
  asArray(spec.ephemeralContainers).forEach((c, i) => validateEphemeralContainer(c, `${field}.ephemeralContainers[${i}]`, ctx, appNames, out));

  const grace = asNumber(spec.terminationGracePeriodSeconds);
  if (grace !== undefined && grace < 0) {
    out.push(invalid(`${field}.terminationGracePeriodSeconds`, grace, 'must be greater than or equal to 0'));
  }
  const deadline = asNumber(spec.activeDeadlineSeconds);
  if (deadline !== undefined && deadline < 1) {
    out.push(invalid(`${field}.activeDeadlineSeconds`, deadline, 'must be between 1 and 2147483647, inclusive'));
  }
  validateLabels(spec.nodeSelector, `${field}.nodeSelector`, out);
  validateTolerations(spec.tolerations, `${field}.tolerations`, out);
  validateAffinity(spec.affinity, `${field}.affinity`, out);
  validatePodDNS(spec, field, out);
  for (const prop of ['hostname', 'subdomain']) {
    const v = asString(spec[prop]);
    if (v) for (const msg of isDNS1123Label(v)) out.push(invalid(`${field}.${prop}`, v, msg));
  }
  for (const prop of ['serviceAccountName', 'nodeName']) {
    const v = asString(spec[prop]);
    if (v) for (const msg of isDNS1123Subdomain(v)) out.push(invalid(`${field}.${prop}`, v, msg));
  }
}

function nonNegative(obj: JsonObject | undefined, prop: string, field: string, out: ValidationCause[]): void {
  const v = asNumber(obj?.[prop]);
  if (v !== undefined && v < 0) out.push(invalid(`${field}.${prop}`, v, 'must be greater than or equal to 0'));
}

const subdomainName: MetaRules = { nameRule: isDNS1123Subdomain, requireName: true };

type SemanticRule = (obj: JsonObject, opts: ValidateOptions, out: ValidationCause[]) => void;

/** Objects whose only rules beyond the schema are their metadata's, with a DNS-1123 subdomain name. */
const subdomainNamed: SemanticRule = (obj, _opts, out) => validateMeta(obj.metadata, subdomainName, out);

const semanticRules: Record<string, SemanticRule> = {
  Pod(obj, opts, out) {
    validateMeta(obj.metadata, subdomainName, out);
    validatePodSpec(obj.spec, 'spec', opts, out);
  },
  Node(obj, _opts, out) {
    validateMeta(obj.metadata, subdomainName, out);
    const seen = new Set<string>();
    asArray(asObject(obj.spec)?.taints).forEach((tRaw, i) => {
      const t = asObject(tRaw);
      const key = asString(t?.key);
      if (!t || key === undefined) return;
      for (const msg of validateLabelKey(key)) out.push(invalid(`spec.taints[${i}].key`, key, msg));
      const id = `${key}:${String(t.effect)}`;
      if (seen.has(id)) out.push(duplicate(`spec.taints[${i}]`, `${key}, ${String(t.effect)}`));
      seen.add(id);
    });
  },
  Namespace(obj, _opts, out) {
    validateMeta(obj.metadata, { nameRule: isDNS1123Label, requireName: true }, out);
  },
  Event: subdomainNamed,
  ConfigMap: subdomainNamed,
  Secret: subdomainNamed,
  ServiceAccount: subdomainNamed,
  Binding(obj, _opts, out) {
    validateMeta(obj.metadata, { nameRule: isDNS1123Subdomain, requireName: false }, out);
    const target = asObject(obj.target);
    if (target && !asString(target.name)) out.push(required('target.name'));
  },
  DeleteOptions(obj, _opts, out) {
    if (obj.orphanDependents !== undefined && obj.propagationPolicy !== undefined) {
      out.push(invalid('propagationPolicy', obj.propagationPolicy, 'orphanDependents and deletionPropagation cannot be both set'));
    }
    asArray(obj.dryRun).forEach((v, i) => {
      if (v !== 'All') out.push(notSupported(`dryRun[${i}]`, v, ['All']));
    });
  },
  ReplicationController(obj, opts, out) {
    validateMeta(obj.metadata, subdomainName, out);
    const spec = asObject(obj.spec) ?? {};
    nonNegative(spec, 'replicas', 'spec', out);
    nonNegative(spec, 'minReadySeconds', 'spec', out);
    const selector = Object.fromEntries(stringMap(spec.selector));
    validateLabels(selector, 'spec.selector', out);
    const template = asObject(spec.template);
    if (!template) {
      out.push(required('spec.template'));
      return;
    }
    const templateMeta = asObject(template.metadata);
    const labels = Object.fromEntries(stringMap(templateMeta?.labels));
    validateLabels(labels, 'spec.template.metadata.labels', out);
    if (Object.keys(selector).length === 0) {
      // An empty selector is defaulted from the template's labels; with none there, nothing to select.
      if (Object.keys(labels).length === 0) out.push(required('spec.selector'));
    } else if (!safeSelector(selector).matches(labels)) {
      out.push(invalid('spec.template.metadata.labels', labels, 'selector does not match template labels'));
    }
    validatePodSpec(template.spec, 'spec.template.spec', opts, out);
    const restartPolicy = asObject(template.spec)?.restartPolicy;
    if (restartPolicy !== undefined && restartPolicy !== 'Always') {
      out.push(notSupported('spec.template.spec.restartPolicy', restartPolicy, ['Always']));
    }
  },
  Scale(obj, _opts, out) {
    nonNegative(asObject(obj.spec), 'replicas', 'spec', out);
  },
  Service: (obj, _opts, out) => validateService(obj, out),
  Endpoints: (obj, _opts, out) => validateEndpoints(obj, out),
  EndpointSlice: (obj, _opts, out) => validateEndpointSlice(obj, out),
  Role: (obj, _opts, out) => validateRole(obj, out),
  ClusterRole: (obj, _opts, out) => validateClusterRole(obj, out),
  RoleBinding: (obj, _opts, out) => validateRoleBinding(obj, out),
  ClusterRoleBinding: (obj, _opts, out) => validateClusterRoleBinding(obj, out),
};

/** selectorFromSet that tolerates invalid pairs (they are reported separately). */
function safeSelector(selector: Record<string, string>): { matches(l: Record<string, string>): boolean } {
  try {
    return selectorFromSet(selector);
  } catch {
    return { matches: (l) => Object.entries(selector).every(([k, v]) => l[k] === v) };
  }
}

function dedupe(causes: ValidationCause[]): ValidationCause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const id = `${c.field}\u0000${c.reason}\u0000${c.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * Every problem with an object of a kind ("Pod", "Node", ...), schema and semantic rules
 * together; empty when it is valid. An unknown kind is itself a cause on "kind".
 */
export function validateObject(kind: string, obj: unknown, opts: ValidateOptions = {}): ValidationCause[] {
  const name = definitionNameFor(kind);
  if (name === undefined) return [notSupported('kind', kind, Object.keys(semanticRules))];
  const data = withoutNulls(obj);
  const out = schemaCauses(name, data);
  const rule = semanticRules[kind] ?? semanticRules[name.slice(name.lastIndexOf('.') + 1)];
  const o = asObject(data);
  if (rule && o) rule(o, opts, out);
  return dedupe(out);
}

// --- unknown fields (strict field validation) ---

/**
 * Walks data beside its schema, calling onUnknown for each field the schema does not know.
 * Paths are built only for those (path() when asked, from the keys and indexes on the way
 * down): a walk runs on every write.
 */
function walkUnknown(
  data: unknown,
  schemaRaw: JSONSchema,
  path: (string | number)[],
  onUnknown: (parent: Record<string, unknown>, key: string, path: () => string) => void,
): void {
  const schema = resolveSchema(schemaRaw);
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(data)) {
    const items = asObject(schema.items);
    if (!items) return;
    for (let i = 0; i < data.length; i++) {
      path.push(i);
      walkUnknown(data[i], items, path, onUnknown);
      path.pop();
    }
    return;
  }
  const o = asObject(data);
  if (!o) return;
  const props = asObject(schema.properties);
  const additional = asObject(schema.additionalProperties);
  for (const k in o) {
    if (isPatchDirective(k)) continue;
    const known = props && Object.hasOwn(props, k) ? asObject(props[k]) : additional;
    if (known) {
      path.push(k);
      walkUnknown(o[k], known, path, onUnknown);
      path.pop();
    } else if (schema.type === 'object') {
      onUnknown(o, k, pathTo(path, k));
    }
  }
}

/**
 * How the path of a field is printed, when asked. Made here, not in walkUnknown: a closure
 * there would have every call and every field it walks allocate a scope for what it reads.
 */
function pathTo(path: (string | number)[], k: string): () => string {
  return () => `${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}.${k}`;
}

/** Strategic merge patch directives, which may appear in a patch body checked for unknown fields. */
function isPatchDirective(k: string): boolean {
  return k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/');
}

/**
 * Paths of fields the schema does not know, as Kubernetes prints them:
 * ".spec.containers[0].imagePullPolice". A field set to null is absent, as Go decodes it.
 */
export function unknownFields(kind: string, obj: unknown): string[] {
  const name = definitionNameFor(kind);
  if (name === undefined) return [];
  const out: string[] = [];
  walkUnknown(obj, definitions[name], [], (parent, key, path) => {
    if (parent[key] !== null) out.push(path());
  });
  return out;
}

/**
 * Removes, in place, every field the schema of kind does not know (as decoding drops them in
 * Kubernetes); returns their paths as unknownFields() does (in one walk instead of two).
 */
export function pruneUnknownFields(kind: string, obj: unknown): string[] {
  const name = definitionNameFor(kind);
  if (name === undefined) return [];
  const out: string[] = [];
  walkUnknown(obj, definitions[name], [], (parent, key, path) => {
    if (parent[key] !== null) out.push(path());
    delete parent[key];
  });
  return out;
}
