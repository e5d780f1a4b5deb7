// Field selectors (`?fieldSelector=spec.nodeName=n1,status.phase!=Failed`) and the fields
// each resource exposes to them. Values may contain ',', '=' and '\' escaped with '\'.

import { SelectorParseError } from './labels';
import { RecentlySeen } from './recently-seen';
import { StringInterner } from './string-interner';
import type { Event, KubeObject, Namespace, Node, Pod, ReplicationController, Secret } from './types';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  matches(fields: Record<string, string>): boolean;
  /** true when there are no requirements, so everything matches */
  empty: boolean;
  toString(): string;
  requirements: FieldRequirement[];
}

function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

function unescapeValue(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n !== '\\' && n !== ',' && n !== '=') {
      throw new SelectorParseError(`invalid field selector: invalid escape sequence: \\${n ?? ''}`);
    }
    out += n;
  }
  return out;
}

/** Splits on a separator that is not escaped with a backslash. */
function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === sep) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

function parseTerm(term: string): FieldRequirement {
  for (let i = 0; i < term.length; i++) {
    const c = term[i];
    if (c === '\\') {
      i++;
      continue;
    }
    let op: FieldRequirement['op'] | undefined;
    let width = 0;
    if (c === '!' && term[i + 1] === '=') [op, width] = ['!=', 2];
    else if (c === '=' && term[i + 1] === '=') [op, width] = ['=', 2];
    else if (c === '=') [op, width] = ['=', 1];
    if (op === undefined) continue;
    const field = term.slice(0, i).trim();
    if (field === '') throw new SelectorParseError(`invalid field selector: "${term}": field name is empty`);
    return { field, op, value: unescapeValue(term.slice(i + width)) };
  }
  throw new SelectorParseError(`invalid selector: '${term}'; can't understand '${term}'`);
}

function buildFieldSelector(requirements: FieldRequirement[]): FieldSelector {
  const text = requirements.map((r) => `${r.field}${r.op}${escapeValue(r.value)}`).join(',');
  return {
    requirements,
    empty: requirements.length === 0,
    toString: () => text,
    matches(fields) {
      for (const r of requirements) {
        const v = Object.hasOwn(fields, r.field) ? fields[r.field] : '';
        if ((v === r.value) !== (r.op === '=')) return false;
      }
      return true;
    },
  };
}

/** Parses "a=b,c==d,e!=f" (with \, \= \\ escapes in values); throws SelectorParseError. */
export function parseFieldSelector(s: string): FieldSelector {
  if (s.trim() === '') return buildFieldSelector([]);
  return buildFieldSelector(splitUnescaped(s, ',').map(parseTerm));
}

/** A selector requiring each field to equal the given value. */
export function fieldSelectorFromSet(map: Record<string, string>): FieldSelector {
  return buildFieldSelector(Object.entries(map).map(([field, value]) => ({ field, op: '=', value })));
}

type FieldGetter = (obj: KubeObject) => string | number | boolean | undefined;

function str(v: string | number | boolean | undefined): string {
  return v === undefined ? '' : String(v);
}

const metadataFields: Record<string, FieldGetter> = {
  'metadata.name': (o) => o.metadata?.name,
  'metadata.namespace': (o) => o.metadata?.namespace,
};

const pod = (o: KubeObject): Pod => o as Pod;
const ev = (o: KubeObject): Event => o as Event;

const fieldsByResource: Record<string, Record<string, FieldGetter>> = {
  pods: {
    ...metadataFields,
    'spec.nodeName': (o) => pod(o).spec?.nodeName,
    'spec.schedulerName': (o) => pod(o).spec?.schedulerName,
    'spec.restartPolicy': (o) => pod(o).spec?.restartPolicy,
    'spec.serviceAccountName': (o) => pod(o).spec?.serviceAccountName,
    'status.phase': (o) => pod(o).status?.phase,
    'status.podIP': (o) => pod(o).status?.podIP,
    'status.nominatedNodeName': (o) => (pod(o).status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName,
  },
  events: {
    ...metadataFields,
    'involvedObject.kind': (o) => ev(o).involvedObject?.kind,
    'involvedObject.namespace': (o) => ev(o).involvedObject?.namespace,
    'involvedObject.name': (o) => ev(o).involvedObject?.name,
    'involvedObject.uid': (o) => ev(o).involvedObject?.uid,
    'involvedObject.apiVersion': (o) => ev(o).involvedObject?.apiVersion,
    'involvedObject.resourceVersion': (o) => ev(o).involvedObject?.resourceVersion,
    'involvedObject.fieldPath': (o) => ev(o).involvedObject?.fieldPath,
    reason: (o) => ev(o).reason,
    reportingComponent: (o) => ev(o).reportingComponent,
    source: (o) => ev(o).source?.component,
    type: (o) => ev(o).type,
  },
  nodes: {
    ...metadataFields,
    // Kubernetes exposes this as "true"/"false", never empty.
    'spec.unschedulable': (o) => (o as Node).spec?.unschedulable === true,
  },
  namespaces: {
    ...metadataFields,
    'status.phase': (o) => (o as Namespace).status?.phase,
  },
  secrets: {
    ...metadataFields,
    type: (o) => (o as Secret).type,
  },
  replicationcontrollers: {
    ...metadataFields,
    'status.replicas': (o) => (o as ReplicationController).status?.replicas ?? 0,
  },
};

const kindToResource: Record<string, string> = {
  pod: 'pods',
  event: 'events',
  node: 'nodes',
  namespace: 'namespaces',
  replicationcontroller: 'replicationcontrollers',
  secret: 'secrets',
};

function gettersFor(resource: string): Record<string, FieldGetter> {
  const r = resource.toLowerCase();
  return fieldsByResource[r] ?? fieldsByResource[kindToResource[r]] ?? metadataFields;
}

/** The fields a field selector may name for a resource (plural or kind). */
export function supportedFields(resource: string): string[] {
  return Object.keys(gettersFor(resource));
}

/** One selectable field of a resource's objects, as objectFields gives it; undefined for an unknown field. */
export function fieldGetter(resource: string, field: string): ((obj: KubeObject) => string) | undefined {
  const get = gettersFor(resource)[field];
  return get === undefined ? undefined : (obj) => str(get(obj));
}

/**
 * What label and field selectors read of a pod, in one object: the paths they read
 * (metadata.name, spec.nodeName, status.phase...) all lead back to it. A store keeping
 * 150,000 pods as JSON holds this for each, and every full garbage collection marks it: one
 * object a pod rather than four, and its labels and the values pods share (node, phase,
 * namespace...) kept once for all pods rather than once for each.
 */
class PodSelectorView {
  constructor(
    readonly apiVersion: string | undefined,
    readonly kind: string | undefined,
    readonly name: string | undefined,
    readonly namespace: string | undefined,
    readonly labels: Readonly<Record<string, string>> | undefined,
    readonly nodeName: string | undefined,
    readonly schedulerName: string | undefined,
    readonly restartPolicy: string | undefined,
    readonly serviceAccountName: string | undefined,
    readonly phase: string | undefined,
    readonly podIP: string | undefined,
    readonly nominatedNodeName: string | undefined,
  ) {}

  get metadata(): this {
    return this;
  }

  get spec(): this {
    return this;
  }

  get status(): this {
    return this;
  }
}

// JSON.parse makes a string of its own for each value it reads: a cache of 150,000 pods held
// "default-scheduler" 150,000 times, and their node names, phases and namespaces as often.
// Room for the names of Kubernetes' 5,000 nodes, and more.
const podValues = new StringInterner(16_384);
const labelSets = new RecentlySeen<Readonly<Record<string, string>>>(16_384);

/** An equal string kept once, for the values many pods share; undefined stays undefined. */
function sharedString(value: string | undefined): string | undefined {
  return value === undefined ? undefined : podValues.intern(value);
}

/** An equal set of labels, frozen and kept once: the pods of one controller carry the same. */
function sharedLabels(labels: Record<string, string> | undefined): Readonly<Record<string, string>> | undefined {
  return labels === undefined ? undefined : labelSets.get(JSON.stringify(labels), () => Object.freeze({ ...labels }));
}

/**
 * What label and field selectors read of a pod, and nothing else: its kind, name, namespace,
 * labels and the fields of `pods` above, where those read them. A store that keeps a pod
 * only as JSON filters on this instead of parsing the pod again.
 */
export function podSelectorView(obj: KubeObject): KubeObject {
  const p = obj as Pod;
  const status = p.status as (Pod['status'] & { nominatedNodeName?: string }) | undefined;
  const view = new PodSelectorView(
    sharedString(p.apiVersion),
    sharedString(p.kind),
    p.metadata?.name,
    sharedString(p.metadata?.namespace),
    sharedLabels(p.metadata?.labels),
    sharedString(p.spec?.nodeName),
    sharedString(p.spec?.schedulerName),
    sharedString(p.spec?.restartPolicy),
    sharedString(p.spec?.serviceAccountName),
    sharedString(status?.phase),
    status?.podIP,
    sharedString(status?.nominatedNodeName),
  );
  return view as unknown as KubeObject;
}

/** The selectable fields of an object; absent values are "" (so `spec.nodeName=` finds unbound pods). */
export function objectFields(resource: string, obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, get] of Object.entries(gettersFor(resource))) out[field] = str(get(obj));
  return out;
}
