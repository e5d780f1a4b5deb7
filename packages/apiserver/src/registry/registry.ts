import crypto from 'crypto';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  Binding,
  canonicalJson,
  DeleteOptions,
  groupVersion,
  KubeObject,
  ObjectMeta,
  objectFields,
  parseFieldSelector,
  parseLabelSelector,
  Pod,
  pruneUnknownFields,
  ReplicationController,
  ResourceInfo,
  Scale,
  setPodCondition,
  supportedFields,
  unknownFields,
} from '@peapod/api';
import {
  KeyExistsError,
  KeyNotFoundError,
  RevisionCompactedError,
  RevisionConflictError,
  Store,
  StoreEvent,
  StoredEntry,
  StoreWatch,
} from '../storage/types';
import { alreadyExists, badRequest, conflict, forbidden, invalid, notFound, notFoundPath, StatusError } from '../errors';
import type { FinishWrite, Strategy } from './strategy';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
export type PatchType = 'merge' | 'json' | 'strategic';

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface WriteResult {
  entry: StoredEntry;
  warnings: string[];
}

export interface DeleteResult {
  /** the object as the client should see it: still there (terminating) or its last state */
  entry: StoredEntry;
  /** true when the object is gone from storage */
  removed: boolean;
}

export type WatchEmit = (type: 'ADDED' | 'MODIFIED' | 'DELETED', event: { object: KubeObject; json: string }) => void;

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const nameSuffixChars = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(n = 5): string {
  const bytes = crypto.randomBytes(n);
  let s = '';
  for (const b of bytes) s += nameSuffixChars[b % nameSuffixChars.length];
  return s;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function copyOf<T extends KubeObject>(entry: StoredEntry): T {
  return JSON.parse(entry.json) as T;
}

/** The object filter of a list or watch: label selector and field selector together. */
export type ObjectFilter = ((o: KubeObject) => boolean) | undefined;

/**
 * The generic registry: storage keys, decoding, defaulting and validation through each
 * resource's strategy, optimistic concurrency, graceful deletion, binding and watch
 * filtering. One place for all resources, as the apiserver's generic registry store is.
 */
export class Registry {
  constructor(
    readonly store: Store,
    private readonly strategies: Map<string, Strategy>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  strategy(resource: string): Strategy {
    const s = this.strategies.get(resource);
    if (!s) throw notFoundPath();
    return s;
  }

  key(r: ResourceInfo, namespace: string | undefined, name: string): string {
    return r.namespaced ? `/${r.name}/${namespace}/${name}` : `/${r.name}/${name}`;
  }

  prefix(r: ResourceInfo, namespace: string | undefined): string {
    return r.namespaced && namespace ? `/${r.name}/${namespace}/` : `/${r.name}/`;
  }

  get(resource: string, namespace: string | undefined, name: string): StoredEntry {
    const s = this.strategy(resource);
    const entry = this.store.get(this.key(s.resource, namespace, name));
    if (!entry) throw notFound(s.resource.name, name);
    return entry;
  }

  filterFor(resource: string, q: ListQuery): ObjectFilter {
    const filters: ((o: KubeObject) => boolean)[] = [];
    if (q.labelSelector) {
      const sel = this.parse(() => parseLabelSelector(q.labelSelector!), 'labelSelector');
      if (!sel.empty) filters.push((o) => sel.matches(o.metadata.labels));
    }
    if (q.fieldSelector) {
      const sel = this.parse(() => parseFieldSelector(q.fieldSelector!), 'fieldSelector');
      const known = supportedFields(resource);
      for (const req of sel.requirements) {
        if (!known.includes(req.field)) {
          throw badRequest(`field label not supported: ${req.field}`);
        }
      }
      if (!sel.empty) filters.push((o) => sel.matches(objectFields(resource, o)));
    }
    if (filters.length === 0) return undefined;
    if (filters.length === 1) return filters[0];
    return (o) => filters.every((f) => f(o));
  }

  private parse<T>(fn: () => T, what: string): T {
    try {
      return fn();
    } catch (err) {
      throw badRequest(`unable to parse requirement: ${what}: ${(err as Error).message}`);
    }
  }

  list(resource: string, namespace: string | undefined, q: ListQuery): { items: StoredEntry[]; rev: number; continue?: string } {
    const s = this.strategy(resource);
    const prefix = this.prefix(s.resource, namespace);
    let after: string | undefined;
    if (q.continue) {
      after = decodeContinue(q.continue, prefix);
    }
    const result = this.store.list(prefix, { limit: q.limit, after, filter: this.filterFor(resource, q) });
    return {
      items: result.items,
      rev: result.rev,
      continue: result.continueAfter ? encodeContinue(result.continueAfter, result.rev) : undefined,
    };
  }

  /** Checks kind and apiVersion, and finds fields the schema does not know. */
  decode(s: Strategy, body: unknown, validation: FieldValidation): { obj: KubeObject; warnings: string[] } {
    const apiVersion = groupVersion(s.resource);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw badRequest(`${s.resource.kind} in version "${s.resource.version}" cannot be handled as a ${s.resource.kind}: the body must be a JSON object`);
    }
    const obj = body as KubeObject;
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
    }
    if (obj.kind !== undefined && obj.kind !== s.resource.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${s.resource.kind})`);
    }
    if (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata)) {
      if (obj.metadata !== undefined) {
        throw invalid(s.resource.kind, '', [{ reason: 'FieldValueInvalid', field: 'metadata', message: 'Invalid value: must be an object' }]);
      }
      obj.metadata = {};
    }
    obj.apiVersion = apiVersion;
    obj.kind = s.resource.kind;
    const warnings: string[] = [];
    if (validation !== 'Ignore') {
      const unknown = unknownFields(s.resource.kind, obj);
      if (unknown.length && validation === 'Strict') {
        const name = typeof obj.metadata.name === 'string' ? obj.metadata.name : '';
        throw invalid(
          s.resource.kind,
          name,
          unknown.map((path) => ({ reason: 'FieldValueInvalid', field: path.replace(/^\./, ''), message: `unknown field "${path.replace(/^\./, '')}"` })),
        );
      }
      for (const path of unknown) warnings.push(`unknown field "${path.replace(/^\./, '')}"`);
    }
    pruneUnknownFields(s.resource.kind, obj);
    dropEmptyMetadata(obj.metadata);
    return { obj, warnings };
  }

  private checkNamespace(s: Strategy, obj: KubeObject, namespace: string | undefined): void {
    if (!s.resource.namespaced) {
      delete obj.metadata.namespace;
      return;
    }
    if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = namespace;
  }

  /** Content may be created only in a namespace that exists and is not being deleted (NamespaceLifecycle). */
  private requireNamespace(s: Strategy, namespace: string, name: string): void {
    const ns = this.store.get(`/namespaces/${namespace}`);
    if (!ns) throw notFound('namespaces', namespace);
    if (ns.object.metadata.deletionTimestamp) {
      throw forbidden(s.resource.name, name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
        { reason: 'NamespaceTerminating', field: 'metadata.namespace', message: `namespace ${namespace} is being terminated` },
      ]);
    }
  }

  create(resource: string, namespace: string | undefined, body: unknown, validation: FieldValidation, dryRun = false): WriteResult {
    const s = this.strategy(resource);
    const { obj, warnings } = this.decode(s, body, validation);
    this.checkNamespace(s, obj, namespace);
    const meta = obj.metadata;
    if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) {
      meta.name = meta.generateName + randomSuffix();
    }
    if (s.resource.namespaced) this.requireNamespace(s, namespace!, typeof meta.name === 'string' ? meta.name : '');
    s.applyDefaults(obj);
    s.prepareForCreate(obj);
    const causes = s.validate(obj);
    if (!meta.name && !causes.some((c) => c.field === 'metadata.name')) {
      causes.unshift({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
    }
    if (causes.length) throw invalid(s.resource.kind, typeof meta.name === 'string' ? meta.name : '', causes);
    meta.uid = crypto.randomUUID();
    meta.creationTimestamp = rfc3339(this.now());
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (s.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    const key = this.key(s.resource, namespace, meta.name!);
    if (this.store.get(key)) throw alreadyExists(s.resource.name, meta.name!);
    const finish = s.beginWrite?.(obj, undefined, dryRun);
    if (dryRun) {
      finish?.(false);
      return { entry: { key, rev: this.store.revision, object: obj, json: JSON.stringify(obj) }, warnings };
    }
    let entry: StoredEntry;
    try {
      entry = this.store.create(key, obj);
    } catch (err) {
      finish?.(false);
      if (err instanceof KeyExistsError) throw alreadyExists(s.resource.name, meta.name!);
      throw err;
    }
    finish?.(true);
    return { entry, warnings };
  }

  /** PUT of the object or of its status subresource. */
  update(
    resource: string,
    namespace: string | undefined,
    name: string,
    body: unknown,
    validation: FieldValidation,
    subresource?: 'status',
  ): WriteResult {
    const s = this.strategy(resource);
    const { obj, warnings } = this.decode(s, body, validation);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    this.checkNamespace(s, obj, namespace);
    const rv = obj.metadata.resourceVersion;
    const expectedRev = rv === undefined || rv === '' ? undefined : parseRevision(rv);
    return { entry: this.write(s, namespace, name, obj, expectedRev, subresource), warnings };
  }

  private write(
    s: Strategy,
    namespace: string | undefined,
    name: string,
    obj: KubeObject,
    expectedRev: number | undefined,
    subresource?: 'status',
  ): StoredEntry {
    const key = this.key(s.resource, namespace, name);
    s.applyDefaults(obj);
    let entry: StoredEntry;
    let finish: FinishWrite | undefined;
    try {
      entry = this.store.update(
        key,
        (current) => {
          const old = JSON.parse(JSON.stringify(current)) as KubeObject;
          if (subresource === 'status') s.prepareForStatusUpdate(obj, old);
          else s.prepareForUpdate(obj, old);
          keepSystemMetadata(obj, old);
          if (s.tracksGeneration && subresource !== 'status') {
            const changed = canonicalJson((obj as { spec?: unknown }).spec) !== canonicalJson((old as { spec?: unknown }).spec);
            obj.metadata.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
          }
          const causes = s.validateUpdate(obj, old);
          if (causes.length) throw invalid(s.resource.kind, name, causes);
          if (subresource !== 'status') finish = s.beginWrite?.(obj, old, false);
          return obj;
        },
        expectedRev,
      );
    } catch (err) {
      finish?.(false);
      if (err instanceof KeyNotFoundError) throw notFound(s.resource.name, name);
      if (err instanceof RevisionConflictError) {
        throw conflict(s.resource.name, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      throw err;
    }
    finish?.(true);
    return this.finishIfFinalized(s, entry);
  }

  /** An object being deleted whose last finalizer was removed goes away now. */
  private finishIfFinalized(s: Strategy, entry: StoredEntry): StoredEntry {
    const meta = entry.object.metadata;
    if (!meta.deletionTimestamp || (meta.finalizers && meta.finalizers.length)) return entry;
    if (s.resource.name === 'pods' && (entry.object as Pod).spec.nodeName && meta.deletionGracePeriodSeconds !== 0) return entry;
    if (s.resource.name === 'namespaces') return entry;
    return this.remove(s, entry.key);
  }

  /** Deletes the object from storage and frees what it held. */
  private remove(s: Strategy, key: string): StoredEntry {
    const last = this.store.delete(key);
    s.afterDelete?.(last.object);
    return last;
  }

  patch(
    resource: string,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patchBody: unknown,
    validation: FieldValidation,
    subresource?: 'status',
  ): WriteResult {
    const s = this.strategy(resource);
    const current = this.get(resource, namespace, name);
    const patched = applyPatch(copyOf(current), type, patchBody, s.resource.kind, name);
    const { obj, warnings } = this.decode(s, patched, validation);
    if (obj.metadata.name !== name) throw badRequest('the name of the object may not be changed by a patch');
    this.checkNamespace(s, obj, namespace);
    // A patch that names a resourceVersion makes it a precondition; otherwise it applies
    // to what it was computed against (nothing else can write in between: storage is synchronous).
    const rv = obj.metadata.resourceVersion;
    const expectedRev = rv && rv !== current.object.metadata.resourceVersion ? parseRevision(rv) : current.rev;
    return { entry: this.write(s, namespace, name, obj, expectedRev, subresource), warnings };
  }

  delete(resource: string, namespace: string | undefined, name: string, opts: DeleteOptions): DeleteResult {
    const s = this.strategy(resource);
    const current = this.get(resource, namespace, name);
    const meta = current.object.metadata;
    if (opts.preconditions?.uid !== undefined && opts.preconditions.uid !== meta.uid) {
      throw conflict(s.resource.name, name, `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${meta.uid}`);
    }
    if (opts.preconditions?.resourceVersion !== undefined && opts.preconditions.resourceVersion !== meta.resourceVersion) {
      throw conflict(
        s.resource.name,
        name,
        `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in meta: ${meta.resourceVersion}`,
      );
    }
    if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
      throw invalid('DeleteOptions', '', [
        { reason: 'FieldValueInvalid', field: 'gracePeriodSeconds', message: 'Invalid value: must be a non-negative integer' },
      ]);
    }
    if (opts.propagationPolicy === 'Orphan' || opts.orphanDependents === true) this.orphanDependents(current);
    if (s.resource.name === 'namespaces') return this.deleteNamespace(current);
    if (s.resource.name === 'pods') return this.deletePod(current, opts);
    if (meta.finalizers && meta.finalizers.length) {
      if (meta.deletionTimestamp) return { entry: current, removed: false };
      const entry = this.store.update(current.key, (cur) => {
        const obj = JSON.parse(JSON.stringify(cur)) as KubeObject;
        obj.metadata.deletionTimestamp = rfc3339(this.now());
        obj.metadata.deletionGracePeriodSeconds = 0;
        return obj;
      });
      return { entry, removed: false };
    }
    return { entry: this.remove(s, current.key), removed: true };
  }

  /**
   * Graceful deletion (design.md §3): the pod is marked with deletionTimestamp and the
   * grace period, which later deletes may only shorten; a pod with no node to stop it,
   * a finished pod, or grace 0 is removed at once.
   */
  private deletePod(current: StoredEntry, opts: DeleteOptions): DeleteResult {
    const pod = current.object as Pod;
    let grace = opts.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    const phase = pod.status?.phase;
    if (!pod.spec.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
    const hasFinalizers = !!pod.metadata.finalizers?.length;
    if (grace === 0 && !hasFinalizers) {
      return { entry: this.store.delete(current.key), removed: true };
    }
    const existing = pod.metadata.deletionGracePeriodSeconds;
    if (pod.metadata.deletionTimestamp && existing !== undefined && existing <= grace) {
      return { entry: current, removed: false };
    }
    const entry = this.store.update(current.key, (cur) => {
      const obj = JSON.parse(JSON.stringify(cur)) as Pod;
      const deadline = new Date(this.now().getTime() + grace * 1000);
      obj.metadata.deletionTimestamp = rfc3339(deadline);
      obj.metadata.deletionGracePeriodSeconds = grace;
      return obj;
    });
    return { entry, removed: false };
  }

  private deleteNamespace(current: StoredEntry): DeleteResult {
    const name = current.object.metadata.name!;
    if (systemNamespaces.includes(name)) {
      throw forbidden('namespaces', name, 'this namespace may not be deleted');
    }
    if (current.object.metadata.deletionTimestamp) return { entry: current, removed: false };
    const entry = this.store.update(current.key, (cur) => {
      const obj = JSON.parse(JSON.stringify(cur)) as KubeObject & { status?: { phase?: string } };
      obj.metadata.deletionTimestamp = rfc3339(this.now());
      obj.metadata.deletionGracePeriodSeconds = 0;
      obj.status = { ...obj.status, phase: 'Terminating' };
      return obj;
    });
    return { entry, removed: false };
  }

  /** Removes the owner's references from its dependents so they outlive it (propagationPolicy Orphan). */
  private orphanDependents(owner: StoredEntry): void {
    const uid = owner.object.metadata.uid;
    const ns = owner.object.metadata.namespace;
    for (const s of this.strategies.values()) {
      if (!s.resource.namespaced || !ns) continue;
      for (const dep of this.store.list(this.prefix(s.resource, ns)).items) {
        if (!dep.object.metadata.ownerReferences?.some((r) => r.uid === uid)) continue;
        this.store.update(dep.key, (cur) => {
          const obj = JSON.parse(JSON.stringify(cur)) as KubeObject;
          const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
          if (refs.length) obj.metadata.ownerReferences = refs;
          else delete obj.metadata.ownerReferences;
          return obj;
        });
      }
    }
  }

  /** The autoscaling/v1 Scale of a replication controller. */
  getScale(namespace: string, name: string): Scale {
    return scaleOf(this.get('replicationcontrollers', namespace, name).object as ReplicationController);
  }

  /** Writes a Scale (PUT, or a patch applied to the current Scale) back as spec.replicas. */
  updateScale(namespace: string, name: string, body: unknown, patch?: { type: PatchType; patch: unknown }): Scale {
    const s = this.strategy('replicationcontrollers');
    const scale = (patch ? applyPatch(this.getScale(namespace, name), patch.type, patch.patch, undefined, name) : body) as Scale;
    if (typeof scale !== 'object' || scale === null || typeof scale.spec !== 'object' || scale.spec === null) {
      throw badRequest('the body must be an autoscaling/v1 Scale');
    }
    const replicas = scale.spec.replicas ?? 0;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', name, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
    }
    const rv = scale.metadata?.resourceVersion;
    const expectedRev = rv && !patch ? parseRevision(rv) : undefined;
    const current = this.get('replicationcontrollers', namespace, name);
    const obj = copyOf<ReplicationController>(current);
    obj.spec = { ...obj.spec, replicas };
    const entry = this.write(s, namespace, name, obj, expectedRev ?? current.rev);
    return scaleOf(entry.object as ReplicationController);
  }

  /** Removes a terminating namespace once nothing is left in it. */
  finalizeNamespace(name: string): boolean {
    for (const s of this.strategies.values()) {
      if (s.resource.namespaced && this.store.count(`/${s.resource.name}/${name}/`) > 0) return false;
    }
    const key = `/namespaces/${name}`;
    if (!this.store.get(key)) return false;
    this.store.delete(key);
    return true;
  }

  namespacedResources(): string[] {
    return [...this.strategies.values()].filter((s) => s.resource.namespaced && s.resource.verbs.includes('delete')).map((s) => s.resource.name);
  }

  deleteCollection(resource: string, namespace: string | undefined, q: ListQuery, opts: DeleteOptions): StoredEntry[] {
    const { items } = this.list(resource, namespace, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const out: StoredEntry[] = [];
    for (const item of items) {
      const m = item.object.metadata;
      try {
        out.push(this.delete(resource, m.namespace, m.name!, opts).entry);
      } catch (err) {
        // A finalizing namespace or an object deleted meanwhile is skipped, not an error.
        if (!(err instanceof StatusError) || (err.code !== 404 && err.code !== 403)) throw err;
      }
    }
    return out;
  }

  /** The binding subresource: assigns an unbound pod to a node, once. */
  bind(namespace: string, podName: string, body: unknown): StoredEntry {
    if (typeof body !== 'object' || body === null) throw badRequest('the body must be a Binding object');
    const binding = body as Binding;
    if (binding.kind !== undefined && binding.kind !== 'Binding') {
      throw badRequest(`the kind in the data (${String(binding.kind)}) does not match the expected kind (Binding)`);
    }
    const target = binding.target;
    if (!target || typeof target.name !== 'string' || !target.name) {
      throw invalid('Binding', podName, [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
    }
    if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node') {
      throw invalid('Binding', podName, [{ reason: 'FieldValueNotSupported', field: 'target.kind', message: `Unsupported value: "${target.kind}": supported values: "Node"` }]);
    }
    const current = this.get('pods', namespace, podName);
    const pod = current.object as Pod;
    if (binding.metadata?.uid && binding.metadata.uid !== pod.metadata.uid) {
      throw conflict('pods/binding', podName, `Precondition failed: UID in precondition: ${binding.metadata.uid}, UID in object meta: ${pod.metadata.uid}`);
    }
    if (pod.metadata.deletionTimestamp) {
      throw conflict('pods/binding', podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
    }
    if (pod.spec.nodeName) {
      throw conflict('pods/binding', podName, `pod ${podName} is already assigned to node "${pod.spec.nodeName}"`);
    }
    return this.store.update(current.key, (cur) => {
      const obj = JSON.parse(JSON.stringify(cur)) as Pod;
      obj.spec.nodeName = target.name;
      obj.status ??= {};
      setPodCondition(obj.status, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(this.now()) });
      return obj;
    });
  }

  /**
   * Watches a resource from a revision. Without one, the current matching objects come
   * first as ADDED (as Kubernetes does for resourceVersion "" and "0"). With a selector,
   * an object that starts matching arrives as ADDED and one that stops as DELETED.
   */
  watch(resource: string, namespace: string | undefined, q: ListQuery, fromRev: number | undefined, emit: WatchEmit): StoreWatch {
    const s = this.strategy(resource);
    const prefix = this.prefix(s.resource, namespace);
    const filter = this.filterFor(resource, q);
    let start = fromRev;
    if (start === undefined) {
      for (const entry of this.store.list(prefix, { filter }).items) emit('ADDED', entry);
      start = this.store.revision;
    }
    const send = (e: StoreEvent) => {
      if (!filter) {
        emit(e.type, e);
        return;
      }
      if (e.type === 'ADDED') {
        if (filter(e.object)) emit('ADDED', e);
      } else if (e.type === 'DELETED') {
        if (filter(e.prev ?? e.object)) emit('DELETED', e);
      } else {
        const now = filter(e.object);
        const was = e.prev ? filter(e.prev) : now;
        if (now && was) emit('MODIFIED', e);
        else if (now) emit('ADDED', e);
        else if (was) emit('DELETED', e);
      }
    };
    try {
      return this.store.watch(prefix, start, { send });
    } catch (err) {
      if (err instanceof RevisionCompactedError) {
        throw new StatusError(410, `too old resource version: ${err.requested} (${err.oldest})`, { reason: 'Expired' });
      }
      throw err;
    }
  }
}

/**
 * Applies a patch of any type to a copy of an object (a kind with a schema takes strategic
 * merge; one without, a Scale, takes it as a merge patch). A JSON patch that is not a list
 * is malformed (400); one whose operation cannot be applied, a failed `test` included, gets
 * what Kubernetes answers: 422 with the reason as a cause.
 */
function applyPatch<T>(base: T, type: PatchType, patch: unknown, kind: string | undefined, name: string): T {
  if (type === 'json') {
    if (!Array.isArray(patch)) throw badRequest('a JSON patch must be a list of operations');
    try {
      return applyJsonPatch(base, patch);
    } catch (err) {
      throw new StatusError(422, 'the server rejected our request due to an error in our request', {
        causes: [{ reason: 'UnexpectedServerResponse', message: (err as Error).message }],
      });
    }
  }
  if (type === 'merge' || kind === undefined) return applyMergePatch(base, patch);
  try {
    return applyStrategicMergePatch(kind, base, patch);
  } catch (err) {
    throw new StatusError(422, `the patch could not be applied: ${(err as Error).message}`, { name, kind });
  }
}

function scaleOf(rc: ReplicationController): Scale {
  const m = rc.metadata;
  const selector = Object.entries(rc.spec?.selector ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: rc.spec?.replicas ?? 0 },
    status: { replicas: rc.status?.replicas ?? 0, selector },
  };
}

/**
 * Kubernetes never stores an empty label or annotation map, finalizer or owner list (they are
 * omitted when empty): removing the last label leaves no `labels: {}` behind.
 */
function dropEmptyMetadata(meta: ObjectMeta): void {
  for (const field of ['labels', 'annotations'] as const) {
    const v = meta[field];
    if (v !== undefined && v !== null && typeof v === 'object' && Object.keys(v).length === 0) delete meta[field];
  }
  for (const field of ['finalizers', 'ownerReferences'] as const) {
    if (Array.isArray(meta[field]) && meta[field]!.length === 0) delete meta[field];
  }
}

/** Metadata only the server sets: a client's copy of it is ignored on update. */
function keepSystemMetadata(obj: KubeObject, old: KubeObject): void {
  const m = obj.metadata;
  const o = old.metadata;
  m.uid = o.uid;
  m.creationTimestamp = o.creationTimestamp;
  m.namespace = o.namespace;
  m.name = o.name;
  if (o.deletionTimestamp) {
    m.deletionTimestamp = o.deletionTimestamp;
    m.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
  } else {
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
  }
  if (o.generation !== undefined) m.generation = o.generation;
  else delete m.generation;
  if (o.generateName !== undefined) m.generateName = o.generateName;
  else delete m.generateName;
}

export function parseRevision(rv: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

function encodeContinue(after: string, rev: number): string {
  return Buffer.from(JSON.stringify({ v: 'peapod/v1', rv: rev, start: after })).toString('base64url');
}

function decodeContinue(token: string, prefix: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; start?: string };
    if (parsed.v === 'peapod/v1' && typeof parsed.start === 'string' && parsed.start.startsWith(prefix)) return parsed.start;
  } catch {
    // falls through to the error below
  }
  throw badRequest('continue key is not valid: the token was not issued by this server for this list');
}
