import crypto from 'crypto';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  Binding,
  canonicalJson,
  DeleteOptions,
  fieldGetter,
  groupVersion,
  KubeObject,
  ObjectMeta,
  rfc3339,
  parseFieldSelector,
  parseLabelSelector,
  Pod,
  pruneUnknownFields,
  ReplicationController,
  ResourceInfo,
  Scale,
  setPodCondition,
  supportedFields,
  validateObject,
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
  UpdateFn,
  WatchIndex,
} from '../storage/types';
import { alreadyExists, badRequest, conflict, forbidden, invalid, notFound, notFoundPath, StatusError } from '../errors';
import type { FinishWrite, Strategy } from './strategy';
import { DryRunnableStore } from './dry-run-store';
import { beforeDelete, markAsDeleting, setDeletionFinalizers } from './deletion';
import { applyConfiguration, keepManagedFields, type FieldTracker } from './field-manager';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
export type PatchType = 'merge' | 'json' | 'strategic';
/** Subresources written with PUT and PATCH like their object, each keeping its own part. */
export type WritableSubresource = 'status' | 'ephemeralcontainers';

export interface ApplyRequest {
  validation: FieldValidation;
  /** the fieldManager of the request */
  manager: string;
  /** take the fields other managers own instead of failing with a conflict */
  force: boolean;
  dryRun: boolean;
  subresource?: WritableSubresource;
}

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

const nameSuffixChars = 'bcdfghjklmnpqrstvwxz2456789';

/** The random part of a generated name (generateName), as Kubernetes spells it. */
export function randomSuffix(n = 5): string {
  const bytes = crypto.randomBytes(n);
  let s = '';
  for (const b of bytes) s += nameSuffixChars[b % nameSuffixChars.length];
  return s;
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
 * Every write goes through `storage`, which is where a dry run stops short of storing.
 */
export class Registry {
  private readonly storage: DryRunnableStore;

  constructor(
    readonly store: Store,
    private readonly strategies: Map<string, Strategy>,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.storage = new DryRunnableStore(store);
  }

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
    if (!entry) throw notFound(s.resource, name);
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
      // Each requirement reads only its own field: a watch filter runs on every change.
      const checks = sel.requirements.map((r) => ({ get: fieldGetter(resource, r.field)!, value: r.value, equal: r.op === '=' }));
      if (checks.length) filters.push((o) => checks.every((c) => (c.get(o) === c.value) === c.equal));
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
    const unknown = pruneUnknownFields(s.resource.kind, obj);
    if (unknown.length && validation === 'Strict') {
      const name = typeof obj.metadata.name === 'string' ? obj.metadata.name : '';
      throw invalid(
        s.resource.kind,
        name,
        unknown.map((path) => ({ reason: 'FieldValueInvalid', field: path.replace(/^\./, ''), message: `unknown field "${path.replace(/^\./, '')}"` })),
      );
    }
    if (validation === 'Warn') for (const path of unknown) warnings.push(`unknown field "${path.replace(/^\./, '')}"`);
    dropEmptyMetadata(obj.metadata);
    s.canonicalize?.(obj);
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
      throw forbidden(s.resource, name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
        { reason: 'NamespaceTerminating', field: 'metadata.namespace', message: `namespace ${namespace} is being terminated` },
      ]);
    }
  }

  create(resource: string, namespace: string | undefined, body: unknown, validation: FieldValidation, dryRun = false, fields?: FieldTracker): WriteResult {
    const s = this.strategy(resource);
    const { obj, warnings } = this.decode(s, body, validation);
    this.checkNamespace(s, obj, namespace);
    const meta = obj.metadata;
    if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) {
      meta.name = meta.generateName + randomSuffix();
    }
    if (s.resource.namespaced) this.requireNamespace(s, namespace!, typeof meta.name === 'string' ? meta.name : '');
    s.applyDefaults(obj);
    s.admit?.(obj);
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
    fields?.(undefined, obj);
    const key = this.key(s.resource, namespace, meta.name!);
    // A taken name reserves nothing.
    if (this.store.get(key)) throw alreadyExists(s.resource, meta.name!);
    const finish = s.beginWrite?.(obj, undefined, dryRun);
    let entry: StoredEntry;
    try {
      entry = this.storage.create(key, obj, dryRun);
    } catch (err) {
      finish?.(false);
      if (err instanceof KeyExistsError) throw alreadyExists(s.resource, meta.name!);
      throw err;
    }
    finish?.(!dryRun);
    return { entry, warnings };
  }

  /** PUT of the object or of its status subresource. */
  update(
    resource: string,
    namespace: string | undefined,
    name: string,
    body: unknown,
    validation: FieldValidation,
    subresource?: WritableSubresource,
    dryRun = false,
    fields?: FieldTracker,
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
    return { entry: this.write(s, namespace, name, obj, expectedRev, subresource, dryRun, fields), warnings };
  }

  private write(
    s: Strategy,
    namespace: string | undefined,
    name: string,
    obj: KubeObject,
    expectedRev: number | undefined,
    subresource: WritableSubresource | undefined,
    dryRun: boolean,
    fields?: FieldTracker,
  ): StoredEntry {
    const key = this.key(s.resource, namespace, name);
    s.applyDefaults(obj);
    let finish: FinishWrite | undefined;
    try {
      const entry = this.commitUpdate(
        s,
        key,
        name,
        (current) => {
          const old = JSON.parse(JSON.stringify(current)) as KubeObject;
          if (subresource === 'status') s.prepareForStatusUpdate(obj, old);
          else if (subresource === 'ephemeralcontainers') {
            if (!s.prepareForEphemeralContainersUpdate) throw notFound(s.resource.name, name);
            s.prepareForEphemeralContainersUpdate(obj, old);
          } else s.prepareForUpdate(obj, old);
          keepSystemMetadata(obj, old);
          if (s.tracksGeneration && subresource === undefined) {
            const changed = canonicalJson((obj as { spec?: unknown }).spec) !== canonicalJson((old as { spec?: unknown }).spec);
            obj.metadata.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
          }
          fields?.(old, obj);
          const causes = s.validateUpdate(obj, old);
          if (causes.length) throw invalid(s.resource.kind, name, causes);
          if (isFinalized(s, obj)) throw new DeleteInstead(parseRevision(old.metadata.resourceVersion ?? ''));
          if (subresource !== 'status') finish = s.beginWrite?.(obj, old, dryRun);
          return obj;
        },
        expectedRev,
        dryRun,
      );
      finish?.(!dryRun);
      return entry;
    } catch (err) {
      finish?.(false);
      if (err instanceof DeleteInstead) return this.commitDelete(s, key, name, err.rev, dryRun);
      throw err;
    }
  }

  /** Every update of a stored object goes through here (and so through the dry-run decision). */
  private commitUpdate(s: Strategy, key: string, name: string, update: UpdateFn, expectedRev: number | undefined, dryRun: boolean): StoredEntry {
    try {
      return this.storage.update(key, update, expectedRev, dryRun);
    } catch (err) {
      throw storageError(err, s, name);
    }
  }

  /** Every removal of a stored object goes through here; what the object held is freed once it is gone. */
  private commitDelete(s: Strategy, key: string, name: string, expectedRev: number | undefined, dryRun: boolean): StoredEntry {
    let last: StoredEntry;
    try {
      last = this.storage.delete(key, expectedRev, dryRun);
    } catch (err) {
      throw storageError(err, s, name);
    }
    if (!dryRun) s.afterDelete?.(last.object);
    return last;
  }

  patch(
    resource: string,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patchBody: unknown,
    validation: FieldValidation,
    subresource?: WritableSubresource,
    dryRun = false,
    fields?: FieldTracker,
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
    return { entry: this.write(s, namespace, name, obj, expectedRev, subresource, dryRun, fields), warnings };
  }

  /**
   * Server-side apply (PATCH application/apply-patch+yaml): `body` is the manager's whole
   * configuration of the object, which it creates when it does not exist.
   */
  apply(resource: string, namespace: string | undefined, name: string, body: unknown, opts: ApplyRequest): WriteResult & { created: boolean } {
    const s = this.strategy(resource);
    const { obj: config, warnings } = this.decode(s, body, opts.validation);
    if (config.metadata.name !== undefined && config.metadata.name !== name) {
      throw badRequest(`the name of the object (${String(config.metadata.name)}) does not match the name on the URL (${name})`);
    }
    config.metadata.name = name;
    this.checkNamespace(s, config, namespace);
    const current = this.store.get(this.key(s.resource, namespace, name));
    const applyOpts = { manager: opts.manager, force: opts.force, subresource: opts.subresource, now: this.now };
    if (!current) {
      if (opts.subresource) throw notFound(s.resource, name);
      const created = this.create(resource, namespace, applyConfiguration(s.resource, undefined, config, applyOpts), 'Ignore', opts.dryRun, keepManagedFields);
      return { ...created, warnings, created: true };
    }
    const merged = applyConfiguration(s.resource, copyOf(current), config, applyOpts);
    const rv = config.metadata.resourceVersion;
    const expectedRev = rv ? parseRevision(rv) : current.rev;
    return { entry: this.write(s, namespace, name, merged, expectedRev, opts.subresource, opts.dryRun, keepManagedFields), warnings, created: false };
  }

  /**
   * DELETE as Kubernetes' generic registry does it, decided on the stored object inside the
   * update: preconditions; a graceful delete marks the object (a later one may only shorten
   * the grace period); the propagation policy becomes the garbage collector's finalizers; an
   * object that finalizers hold is marked as deleting and stays, anything else goes now.
   */
  delete(resource: string, namespace: string | undefined, name: string, opts: DeleteOptions, dryRun = false): DeleteResult {
    const s = this.strategy(resource);
    const causes = validateObject('DeleteOptions', opts);
    if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
      causes.push({ reason: 'FieldValueInvalid', field: 'gracePeriodSeconds', message: 'Invalid value: must be a non-negative integer' });
    }
    if (causes.length) throw invalid('DeleteOptions', '', causes);
    const key = this.key(s.resource, namespace, name);
    const now = this.now();
    try {
      const entry = this.commitUpdate(
        s,
        key,
        name,
        (current) => {
          checkPreconditions(s, name, current, opts);
          const obj = JSON.parse(JSON.stringify(current)) as KubeObject;
          s.prepareForDelete(obj);
          const step = beforeDelete(s, obj, opts, now);
          // Already going, on a grace period this delete does not shorten: nothing changes.
          if (step === 'pending') return JSON.parse(JSON.stringify(current)) as KubeObject;
          setDeletionFinalizers(s, obj.metadata, opts);
          const held = s.awaitsFinalization(obj);
          if (!held && (step === 'now' || obj.metadata.deletionGracePeriodSeconds === 0)) {
            throw new DeleteInstead(parseRevision(current.metadata.resourceVersion ?? ''));
          }
          if (step === 'now') markAsDeleting(obj, now);
          return obj;
        },
        undefined,
        dryRun,
      );
      return { entry, removed: false };
    } catch (err) {
      if (err instanceof DeleteInstead) return { entry: this.commitDelete(s, key, name, err.rev, dryRun), removed: true };
      throw err;
    }
  }

  /** The autoscaling/v1 Scale of a replication controller. */
  getScale(namespace: string, name: string): Scale {
    return scaleOf(this.get('replicationcontrollers', namespace, name).object as ReplicationController);
  }

  /** Writes a Scale (PUT, or a patch applied to the current Scale) back as spec.replicas. */
  updateScale(namespace: string, name: string, body: unknown, patch?: { type: PatchType; patch: unknown }, dryRun = false): Scale {
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
    const entry = this.write(s, namespace, name, obj, expectedRev ?? current.rev, undefined, dryRun);
    return scaleOf(entry.object as ReplicationController);
  }

  /** Removes a terminating namespace once nothing is left in it and the garbage collector has finished with it. */
  finalizeNamespace(name: string): boolean {
    for (const s of this.strategies.values()) {
      if (s.resource.namespaced && this.store.count(`/${s.resource.name}/${name}/`) > 0) return false;
    }
    const current = this.store.get(`/namespaces/${name}`);
    if (!current || current.object.metadata.finalizers?.length) return false;
    this.commitDelete(this.strategy('namespaces'), current.key, name, current.rev, false);
    return true;
  }

  namespacedResources(): string[] {
    return [...this.strategies.values()].filter((s) => s.resource.namespaced && s.resource.verbs.includes('delete')).map((s) => s.resource.name);
  }

  deleteCollection(resource: string, namespace: string | undefined, q: ListQuery, opts: DeleteOptions, dryRun = false): StoredEntry[] {
    const { items } = this.list(resource, namespace, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const out: StoredEntry[] = [];
    for (const item of items) {
      const m = item.object.metadata;
      try {
        out.push(this.delete(resource, m.namespace, m.name!, opts, dryRun).entry);
      } catch (err) {
        // A finalizing namespace or an object deleted meanwhile is skipped, not an error.
        if (!(err instanceof StatusError) || (err.code !== 404 && err.code !== 403)) throw err;
      }
    }
    return out;
  }

  /** The binding subresource: assigns an unbound pod to a node, once. */
  bind(namespace: string, podName: string, body: unknown, dryRun = false): StoredEntry {
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
    const update = (cur: KubeObject) => {
      const obj = JSON.parse(JSON.stringify(cur)) as Pod;
      obj.spec.nodeName = target.name;
      obj.status ??= {};
      setPodCondition(obj.status, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(this.now()) });
      return obj;
    };
    return this.commitUpdate(this.strategy('pods'), current.key, podName, update, current.rev, dryRun);
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
    const index = this.watchIndex(resource, q);
    try {
      return this.store.watch(prefix, start, index ? { send, index } : { send });
    } catch (err) {
      if (err instanceof RevisionCompactedError) {
        throw new StatusError(410, `too old resource version: ${err.requested} (${err.oldest})`, { reason: 'Expired' });
      }
      throw err;
    }
  }

  /** A watch selecting `field=value` needs only the changes of objects with that value (see WatchSink.index). */
  private watchIndex(resource: string, q: ListQuery): WatchIndex | undefined {
    if (!q.fieldSelector) return undefined;
    const req = parseFieldSelector(q.fieldSelector).requirements.find((r) => r.op === '=');
    const of = req && fieldGetter(resource, req.field);
    return req && of ? { field: req.field, value: req.value, of } : undefined;
  }
}

/**
 * An object being deleted that an update leaves with nothing to wait for (its last finalizer
 * removed, no grace period running: a pod its node is stopping is removed by the node) is
 * deleted instead of updated, as Kubernetes does: watchers see it go, not a last change.
 */
function isFinalized(s: Strategy, obj: KubeObject): boolean {
  const meta = obj.metadata;
  return meta.deletionTimestamp !== undefined && !s.awaitsFinalization(obj) && (meta.deletionGracePeriodSeconds ?? 0) === 0;
}

/** Thrown out of an update function to delete the object instead, at the revision it was read at. */
class DeleteInstead extends Error {
  constructor(readonly rev: number) {
    super('the update finalizes the object');
  }
}

function checkPreconditions(s: Strategy, name: string, current: KubeObject, opts: DeleteOptions): void {
  const meta = current.metadata;
  if (opts.preconditions?.uid !== undefined && opts.preconditions.uid !== meta.uid) {
    throw conflict(s.resource, name, `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${meta.uid}`);
  }
  if (opts.preconditions?.resourceVersion !== undefined && opts.preconditions.resourceVersion !== meta.resourceVersion) {
    throw conflict(
      s.resource,
      name,
      `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in meta: ${meta.resourceVersion}`,
    );
  }
}

/** The Kubernetes errors for what storage reports: the object is gone, or changed since it was read. */
function storageError(err: unknown, s: Strategy, name: string): unknown {
  if (err instanceof KeyNotFoundError) return notFound(s.resource, name);
  if (err instanceof RevisionConflictError) {
    return conflict(s.resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
  }
  return err;
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
