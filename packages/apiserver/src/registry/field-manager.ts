// Field ownership, as server-side apply keeps it in metadata.managedFields: every write
// names a field manager, and each manager owns the fields it set. An update (create, PUT,
// merge/JSON/strategic patch) takes the fields it changed from whoever owned them; an
// apply (PATCH application/apply-patch+yaml) owns exactly the fields of its configuration,
// fails with a conflict when it would change a field another manager owns (unless
// forced, which takes the field), and removes the fields it applied before and no longer
// does when nobody else owns them. Sets are computed by @peapod/api's field-sets from the
// schemas. Fields only the server sets are never owned, and neither is what the write
// cannot change (status on the main resource, anything but status on /status).

import {
  compareFields,
  fieldMap,
  FieldMap,
  formatFieldPath,
  fromFieldsV1,
  groupVersion,
  mergeApplied,
  removeMembers,
  rfc3339,
  sameJson,
  toFieldsV1,
  treeAdd,
  treeDelete,
  treeHas,
  treeHasWithin,
  type KubeObject,
  type ResourceInfo,
} from '@peapod/api';
import { StatusError } from '../errors';
import { SharedTrees } from './shared-trees';

/** The trees of every stored object's managedFields, shared across objects (one table per server process). */
const sharedTrees = new SharedTrees();

type Json = Record<string, unknown>;

/** Sets next.metadata.managedFields for a write from `old` (undefined: a create) to `next`. */
export type FieldTracker = (old: KubeObject | undefined, next: KubeObject) => void;

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Json;
  subresource?: string;
}

/** One manager's entry, its set kept as the FieldsV1 tree it is stored as. */
interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time?: string;
  tree: Json;
  /** the tree changed in this write */
  changed: boolean;
}

/** Who a manager is: appliers are one manager across versions, updaters one per version. */
function identity(m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([m.manager, m.operation, m.operation === 'Update' ? m.apiVersion : '', m.subresource ?? '']);
}

/** Metadata only the server sets: never owned by a manager. */
const serverMetadata = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']);

/**
 * What of an object a write to `subresource` of `r` can own: not apiVersion, kind and the
 * server's metadata; on the main resource not status (when it has its own subresource),
 * on /status only status and metadata.
 */
function ownable(r: ResourceInfo, obj: KubeObject | undefined, subresource: string | undefined): Json | undefined {
  if (!obj) return undefined;
  const view: Json = {};
  for (const key of Object.keys(obj)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    const value = (obj as unknown as Json)[key];
    if (key === 'metadata') {
      const meta: Json = {};
      let any = false;
      for (const k of Object.keys(value as Json)) {
        if (serverMetadata.has(k)) continue;
        meta[k] = (value as Json)[k];
        any = true;
      }
      if (any) view.metadata = meta;
      continue;
    }
    if (subresource === 'status' ? key !== 'status' : key === 'status' && r.subresources.includes('status')) continue;
    view[key] = value;
  }
  return view;
}

function ownableFields(r: ResourceInfo, obj: KubeObject | undefined, subresource: string | undefined): FieldMap {
  const view = ownable(r, obj, subresource);
  return view ? fieldMap(r.kind, view) : new Map();
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The managers of an object from its managedFields, or undefined when they are not well
 * formed. Stored ones were written by us; `check` reads a client's trees through.
 */
function decodeManagers(list: unknown, check: boolean): Manager[] | undefined {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return undefined;
  const out: Manager[] = [];
  for (const e of list as unknown[]) {
    if (!isObject(e) || typeof e.manager !== 'string' || (e.operation !== 'Apply' && e.operation !== 'Update')) return undefined;
    if (e.fieldsType !== undefined && e.fieldsType !== 'FieldsV1') return undefined;
    const tree = e.fieldsV1 ?? {};
    if (!isObject(tree)) return undefined;
    if (check) {
      try {
        fromFieldsV1(tree);
      } catch {
        return undefined;
      }
    }
    out.push({
      manager: e.manager,
      operation: e.operation,
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
      subresource: typeof e.subresource === 'string' && e.subresource ? e.subresource : undefined,
      time: typeof e.time === 'string' ? e.time : undefined,
      tree,
      changed: false,
    });
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The entries in Kubernetes' order (Apply before Update, then by time, manager, version, subresource); empty ones dropped. */
function encodeManagers(managers: Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => Object.keys(m.tree).length > 0)
    .sort(
      (p, q) =>
        cmp(p.operation, q.operation) || cmp(p.time ?? '', q.time ?? '') || cmp(p.manager, q.manager) || cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource ?? '', q.subresource ?? ''),
    )
    .map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      ...(m.time ? { time: m.time } : {}),
      fieldsType: 'FieldsV1',
      fieldsV1: sharedTrees.share(m.tree),
      ...(m.subresource ? { subresource: m.subresource } : {}),
    }));
}

function setManagedFields(obj: KubeObject, managers: Manager[]): void {
  const entries = encodeManagers(managers);
  if (entries.length) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

/** Takes paths out of a manager's set. */
function disown(m: Manager, paths: Iterable<string>): void {
  for (const p of paths) {
    if (treeHas(m.tree, p)) {
      treeDelete(m.tree, p);
      m.changed = true;
    }
  }
}

/**
 * The managers a write starts from: those the client sent when it changed them (how a
 * client such as kubectl moves fields from one manager to another), else the stored ones.
 */
function startingManagers(old: KubeObject | undefined, next: KubeObject): Manager[] {
  const sent = next.metadata.managedFields;
  if (Array.isArray(sent) && sent.length > 0 && !sameJson(sent, old?.metadata.managedFields)) {
    const given = decodeManagers(sent, true);
    if (given) return given;
  }
  return decodeManagers(old?.metadata.managedFields, false) ?? [];
}

/** The tracker of an update by `manager`: it takes every field it changed. */
export function updateTracker(r: ResourceInfo, manager: string, subresource: string | undefined, now: () => Date = () => new Date()): FieldTracker {
  return (old, next) => {
    const managers = startingManagers(old, next);
    if (!old && managers.length === 0) {
      ownEverything(r, manager, subresource, next, now);
      return;
    }
    const change = compareFields(r.kind, ownable(r, old, subresource), ownable(r, next, subresource));
    const changed = [...change.added, ...change.modified];
    const id = identity({ manager, operation: 'Update', apiVersion: groupVersion(r), subresource });
    let mine = managers.find((m) => identity(m) === id);
    for (const m of managers) {
      if (m === mine) continue;
      disown(m, changed);
      disown(m, change.removed);
    }
    if (!mine) {
      mine = { manager, operation: 'Update', apiVersion: groupVersion(r), subresource, tree: {}, changed: false };
      managers.push(mine);
    }
    disown(mine, change.removed);
    if (Object.keys(mine.tree).length === 0 && changed.length) {
      mine.tree = sharedTrees.fromPaths(changed);
      mine.changed = true;
    } else {
      for (const p of changed) {
        if (treeHas(mine.tree, p)) continue;
        treeAdd(mine.tree, p);
        mine.changed = true;
      }
    }
    if (mine.changed) mine.time = rfc3339(now());
    setManagedFields(next, managers);
  };
}

/**
 * A create with no managers sent: its manager owns every ownable field, so its set is the
 * tree of the object's fields, built in one walk straight into shared nodes (what the
 * general path computes through a comparison with nothing).
 */
function ownEverything(r: ResourceInfo, manager: string, subresource: string | undefined, next: KubeObject, now: () => Date): void {
  const view = ownable(r, next, subresource);
  const tree = view && sharedTrees.fieldsOf(r.kind, view);
  if (!tree) {
    delete next.metadata.managedFields;
    return;
  }
  const mine: Manager = { manager, operation: 'Update', apiVersion: groupVersion(r), subresource, tree, changed: true, time: rfc3339(now()) };
  setManagedFields(next, [mine]);
}

/** How a manager is named in a conflict, as Kubernetes words it. */
function printManager(m: Manager): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}

function conflictError(conflicts: { manager: Manager; path: string }[]): StatusError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: formatFieldPath(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].manager)}: ${formatFieldPath(conflicts[0].path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const name = printManager(c.manager);
      byManager.set(name, [...(byManager.get(name) ?? []), formatFieldPath(c.path)]);
    }
    const lines = [...byManager.keys()].sort().flatMap((name) => [`conflicts with ${name}:`, ...byManager.get(name)!.map((p) => `- ${p}`)]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, message, { reason: 'Conflict', causes });
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  subresource?: string;
  now?: () => Date;
}

/**
 * The object after applying `config` (already decoded) to `live` (undefined: the object
 * does not exist yet), with its managedFields; throws 409 on conflicts unless forced.
 */
export function applyConfiguration(r: ResourceInfo, live: KubeObject | undefined, config: KubeObject, opts: ApplyOptions): KubeObject {
  const now = opts.now ?? (() => new Date());
  const managers = decodeManagers(live?.metadata.managedFields, false) ?? [];
  const id = identity({ manager: opts.manager, operation: 'Apply', apiVersion: groupVersion(r), subresource: opts.subresource });
  const applied = toFieldsV1(ownableFields(r, config, opts.subresource).keys());
  let mine = managers.find((m) => identity(m) === id);
  const others = managers.filter((m) => m !== mine);

  const merged = mergeApplied(r.kind, live ?? {}, config) as KubeObject;
  // Fields this manager applied before and no longer does go, unless someone else owns them (or something below them).
  if (mine) {
    const gone = [...fromFieldsV1(mine.tree)].filter((p) => !treeHasWithin(applied, p) && !others.some((m) => treeHasWithin(m.tree, p)));
    removeMembers(r.kind, merged as unknown as Json, gone);
  }

  const change = compareFields(r.kind, ownable(r, live, opts.subresource), ownable(r, merged, opts.subresource));
  const conflicts: { manager: Manager; path: string }[] = [];
  for (const m of others) for (const p of [...change.added, ...change.modified]) if (treeHas(m.tree, p)) conflicts.push({ manager: m, path: p });
  if (conflicts.length && !opts.force) throw conflictError(conflicts);
  for (const { manager, path } of conflicts) disown(manager, [path]);
  for (const m of others) disown(m, change.removed);

  if (!mine) {
    mine = { manager: opts.manager, operation: 'Apply', apiVersion: groupVersion(r), subresource: opts.subresource, tree: {}, changed: true };
    managers.push(mine);
  }
  if (JSON.stringify(mine.tree) !== JSON.stringify(applied) || !mine.time) mine.time = rfc3339(now());
  mine.tree = applied;
  mine.apiVersion = groupVersion(r);
  merged.metadata = { ...merged.metadata };
  setManagedFields(merged, managers);
  return merged;
}

/** Tracks nothing more: the managed fields were set by applyConfiguration. */
export const keepManagedFields: FieldTracker = () => undefined;

/** The manager of a request that names none: the client's program, from its User-Agent ("kubectl/v1.32.0 ..." → "kubectl"). */
export function managerFromUserAgent(userAgent: string | undefined): string {
  const name = (userAgent ?? '').split('/')[0].trim();
  return name ? name.slice(0, 128) : 'unknown';
}
