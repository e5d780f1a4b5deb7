import crypto from 'crypto';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  sameJson,
  DeleteOptions,
  fieldGetter,
  groupVersion,
  KubeObject,
  ObjectMeta,
  rfc3339,
  parseFieldSelector,
  parseLabelSelector,
  pruneUnknownFields,
  ResourceInfo,
  supportedFields,
  validateObject,
} from '@peapod/api';
import {
  KeyExistsError,
  KeyNotFoundError,
  ListSnapshotExpiredError,
  ListSnapshotRef,
  PreconditionError,
  Preconditions,
  RevisionCompactedError,
  RevisionConflictError,
  StorageCommitError,
  StorageUnavailableError,
  Store,
  StoreEvent,
  StoredEntry,
  StoreWatch,
  TryUpdate,
  WatchIndex,
  WatchSink,
  WriteOutcomeUnknownError,
} from '../storage/types';
import { alreadyExists, badRequest, conflict, invalid, notFound, notFoundPath, StatusError } from '../errors';
import type { UserInfo } from '../auth/tokens';
import type { FinishWrite, NamespaceContents, ObjectReader, Strategy } from './strategy';
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
  /** the user the request is served for (see create()) */
  writer?: UserInfo;
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

export type WatchEmit = (type: 'ADDED' | 'MODIFIED' | 'DELETED', event: { readonly object: KubeObject; json: string }) => void;

/** Where a watch begins (see Registry.watch). */
export type WatchStart = { fromRev: number } | { initial: (items: StoredEntry[], rev: number) => Promise<void> } | 'now';

const nameSuffixChars = 'bcdfghjklmnpqrstvwxz2456789';

// Random bytes drawn a page at a time: every pod create takes a suffix (its token volume's
// name), and a draw from the system per suffix cost more than the rest of the suffix.
const randomPool = Buffer.alloc(4096);
let randomPoolUsed = randomPool.length;

/** The random part of a generated name (generateName), as Kubernetes spells it. */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    if (randomPoolUsed === randomPool.length) {
      crypto.randomFillSync(randomPool);
      randomPoolUsed = 0;
    }
    s += nameSuffixChars[randomPool[randomPoolUsed++] % nameSuffixChars.length];
  }
  return s;
}

function copyOf<T extends KubeObject>(entry: StoredEntry): T {
  return JSON.parse(entry.json) as T;
}

/** The object filter of a list or watch: label selector and field selector together. */
export type ObjectFilter = ((o: KubeObject) => boolean) | undefined;

/** What a list or watch selects, from one reading of its selectors. */
interface Selection {
  filter: ObjectFilter;
  /** A list or watch selecting `field=value` needs only the objects (changes) with that value (see ListOptions.index, WatchSink.index). */
  index?: WatchIndex;
  /** What the JSON of every object the field selector passes contains: each value it requires, as JSON writes it in a string. */
  contains?: string[];
}

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
    readonly now: () => Date = () => new Date(),
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

  async get(resource: string, namespace: string | undefined, name: string): Promise<StoredEntry> {
    const s = this.strategy(resource);
    const entry = await this.store.get(this.key(s.resource, namespace, name));
    if (!entry) throw notFound(s.resource, name);
    return entry;
  }

  selectionFor(resource: string, q: ListQuery): Selection {
    const filters: ((o: KubeObject) => boolean)[] = [];
    const selection: Selection = { filter: undefined };
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
      const equal = sel.requirements.find((r) => r.op === '=');
      if (equal) selection.index = { field: equal.field, value: equal.value, of: fieldGetter(resource, equal.field)! };
      selection.contains = sel.requirements.filter((r) => r.op === '=' && r.value !== '').map((r) => JSON.stringify(r.value).slice(1, -1));
    }
    if (filters.length === 1) selection.filter = filters[0];
    else if (filters.length > 1) selection.filter = (o) => filters.every((f) => f(o));
    return selection;
  }

  private parse<T>(fn: () => T, what: string): T {
    try {
      return fn();
    } catch (err) {
      throw badRequest(`unable to parse requirement: ${what}: ${(err as Error).message}`);
    }
  }

  async list(resource: string, namespace: string | undefined, q: ListQuery): Promise<{ items: StoredEntry[]; rev: number; continue?: string }> {
    const s = this.strategy(resource);
    const prefix = this.prefix(s.resource, namespace);
    const from = q.continue ? decodeContinue(q.continue, prefix) : undefined;
    const { filter, index, contains } = this.selectionFor(resource, q);
    try {
      const result = await this.store.list(prefix, { limit: q.limit, after: from?.start, snapshot: from?.snapshot, filter, index, contains });
      return {
        items: result.items,
        rev: result.rev,
        continue: result.continueAfter ? encodeContinue({ start: result.continueAfter, snapshot: result.snapshot }) : undefined,
      };
    } catch (err) {
      if (err instanceof ListSnapshotExpiredError && from) throw continueExpired(from.start);
      throw err;
    }
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

  /** A stored object as this server last heard of it, from storage when it has not heard of it (what admission reads). */
  private readonly read: ObjectReader = async (resource, namespace, name) => {
    const key = this.key(this.strategy(resource).resource, namespace, name);
    return (this.store.cache.get(key) ?? (await this.store.get(key)))?.object;
  };

  /** `writer`: the user the request is served for; undefined for the server's own writes and without authentication. */
  async create(resource: string, namespace: string | undefined, body: unknown, validation: FieldValidation, dryRun = false, fields?: FieldTracker, writer?: UserInfo): Promise<WriteResult> {
    const s = this.strategy(resource);
    const { obj, warnings } = this.decode(s, body, validation);
    this.checkNamespace(s, obj, namespace);
    const meta = obj.metadata;
    if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) {
      meta.name = meta.generateName + randomSuffix();
    }
    await s.admitCreate?.(obj, this.read);
    s.applyDefaults(obj);
    s.admit?.(obj, writer);
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
    // A taken name reserves nothing (storage refuses the create itself, but only after the reservation).
    if (s.beginWrite && (await this.store.get(key))) throw alreadyExists(s.resource, meta.name!);
    const finish = await s.beginWrite?.(obj, undefined, dryRun);
    let entry: StoredEntry;
    try {
      entry = await this.storage.create(key, obj, dryRun, { ttlSeconds: s.ttlSeconds?.(obj) });
    } catch (err) {
      await finish?.(false);
      if (err instanceof KeyExistsError) throw alreadyExists(s.resource, meta.name!);
      throw storageError(err, s, meta.name!);
    }
    await finish?.(!dryRun);
    return { entry, warnings };
  }

  /** PUT of the object or of its status subresource; `writer` as for create(). */
  async update(
    resource: string,
    namespace: string | undefined,
    name: string,
    body: unknown,
    validation: FieldValidation,
    subresource?: WritableSubresource,
    dryRun = false,
    fields?: FieldTracker,
    writer?: UserInfo,
  ): Promise<WriteResult> {
    const s = this.strategy(resource);
    const { obj, warnings } = this.decode(s, body, validation);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    this.checkNamespace(s, obj, namespace);
    const rv = obj.metadata.resourceVersion;
    const preconditions = rv === undefined || rv === '' ? {} : { resourceVersion: parseRevision(rv) };
    const json = JSON.stringify(obj);
    return { entry: await this.write(s, namespace, name, () => JSON.parse(json) as KubeObject, preconditions, subresource, dryRun, fields, writer), warnings };
  }

  /**
   * Writes what next(current) makes of the stored object, through the strategy, inside one
   * guaranteed update: if the object changes underneath, everything is decided again on its
   * new state (and whatever an earlier try reserved is given back).
   */
  private async write(
    s: Strategy,
    namespace: string | undefined,
    name: string,
    next: (current: KubeObject) => KubeObject,
    preconditions: Preconditions,
    subresource: WritableSubresource | undefined,
    dryRun: boolean,
    fields?: FieldTracker,
    writer?: UserInfo,
  ): Promise<StoredEntry> {
    const key = this.key(s.resource, namespace, name);
    let finish: FinishWrite | undefined;
    const undo = async () => {
      const f = finish;
      finish = undefined;
      await f?.(false);
    };
    try {
      const result = await this.updateOrDelete(s, key, name, preconditions, dryRun, async (current) => {
        await undo();
        const obj = next(current);
        s.applyDefaults(obj);
        // current is this update's own (Store.guaranteedUpdate), and next made obj apart from it.
        const old = current;
        if (subresource === 'status') s.prepareForStatusUpdate(obj, old);
        else if (subresource === 'ephemeralcontainers') {
          if (!s.prepareForEphemeralContainersUpdate) throw notFound(s.resource.name, name);
          s.prepareForEphemeralContainersUpdate(obj, old);
        } else s.prepareForUpdate(obj, old);
        keepSystemMetadata(obj, old);
        if (s.tracksGeneration && subresource === undefined) {
          const changed = !sameJson((obj as { spec?: unknown }).spec, (old as { spec?: unknown }).spec);
          obj.metadata.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
        }
        fields?.(old, obj);
        const causes = s.validateUpdate(obj, old, writer);
        if (causes.length) throw invalid(s.resource.kind, name, causes);
        if (isFinalized(s, obj)) throw new DeleteInstead();
        if (subresource !== 'status') finish = await s.beginWrite?.(obj, old, dryRun);
        return obj;
      });
      await finish?.(result.removed ? false : !dryRun);
      return result.entry;
    } catch (err) {
      await undo();
      throw err;
    }
  }

  /**
   * A guaranteed update whose tryUpdate may decide that the object goes instead (DeleteInstead):
   * it is then deleted at the revision the decision was made on, and if it changed meanwhile,
   * decided again.
   */
  private async updateOrDelete(s: Strategy, key: string, name: string, preconditions: Preconditions, dryRun: boolean, tryUpdate: TryUpdate): Promise<DeleteResult> {
    for (;;) {
      let decidedRev = 0;
      try {
        const entry = await this.storage.guaranteedUpdate(
          key,
          preconditions,
          (current) => {
            decidedRev = parseRevision(current.metadata.resourceVersion ?? '');
            return tryUpdate(current);
          },
          dryRun,
        );
        return { entry, removed: false };
      } catch (err) {
        if (!(err instanceof DeleteInstead)) throw storageError(err, s, name);
      }
      try {
        const last = await this.storage.delete(key, { ...preconditions, resourceVersion: decidedRev }, dryRun);
        if (!dryRun) await s.afterDelete?.(last.object);
        return { entry: last, removed: true };
      } catch (err) {
        // Changed since the decision: decide again, unless the caller's own precondition now fails.
        if (err instanceof RevisionConflictError && !(err instanceof PreconditionError) && preconditions.resourceVersion === undefined) continue;
        throw storageError(err, s, name);
      }
    }
  }

  /** Every guaranteed update of a stored object that never deletes it goes through here (and so through the dry-run decision). */
  private async commitUpdate(s: Strategy, key: string, name: string, preconditions: Preconditions, tryUpdate: TryUpdate, dryRun: boolean): Promise<StoredEntry> {
    try {
      return await this.storage.guaranteedUpdate(key, preconditions, tryUpdate, dryRun);
    } catch (err) {
      throw storageError(err, s, name);
    }
  }

  /** A patch is applied inside the guaranteed update, to the object as it is when it is written; `writer` as for create(). */
  async patch(
    resource: string,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patchBody: unknown,
    validation: FieldValidation,
    subresource?: WritableSubresource,
    dryRun = false,
    fields?: FieldTracker,
    writer?: UserInfo,
  ): Promise<WriteResult> {
    const s = this.strategy(resource);
    let warnings: string[] = [];
    const next = (current: KubeObject): KubeObject => {
      // The patch functions work on copies of their own: current is left as it was.
      const patched = applyPatch(current, type, patchBody, s.resource.kind, name);
      const decoded = this.decode(s, patched, validation);
      warnings = decoded.warnings;
      const obj = decoded.obj;
      if (obj.metadata.name !== name) throw badRequest('the name of the object may not be changed by a patch');
      this.checkNamespace(s, obj, namespace);
      // A patch that names another resourceVersion makes it a precondition.
      const rv = obj.metadata.resourceVersion;
      if (rv && rv !== current.metadata.resourceVersion) {
        throw new RevisionConflictError(this.key(s.resource, namespace, name), parseRevision(rv), current.metadata.resourceVersion ?? '');
      }
      return obj;
    };
    const entry = await this.write(s, namespace, name, next, {}, subresource, dryRun, fields, writer);
    return { entry, warnings };
  }

  /**
   * Server-side apply (PATCH application/apply-patch+yaml): `body` is the manager's whole
   * configuration of the object, which it creates when it does not exist.
   */
  async apply(resource: string, namespace: string | undefined, name: string, body: unknown, opts: ApplyRequest): Promise<WriteResult & { created: boolean }> {
    const s = this.strategy(resource);
    const { obj: config, warnings } = this.decode(s, body, opts.validation);
    if (config.metadata.name !== undefined && config.metadata.name !== name) {
      throw badRequest(`the name of the object (${String(config.metadata.name)}) does not match the name on the URL (${name})`);
    }
    config.metadata.name = name;
    this.checkNamespace(s, config, namespace);
    const configJson = JSON.stringify(config);
    const applyOpts = { manager: opts.manager, force: opts.force, subresource: opts.subresource, now: this.now };
    const key = this.key(s.resource, namespace, name);
    for (;;) {
      if (!(await this.store.get(key))) {
        if (opts.subresource) throw notFound(s.resource, name);
        try {
          const created = await this.create(resource, namespace, applyConfiguration(s.resource, undefined, JSON.parse(configJson), applyOpts), 'Ignore', opts.dryRun, keepManagedFields, opts.writer);
          return { ...created, warnings, created: true };
        } catch (err) {
          // Created by someone else meanwhile: apply to theirs.
          if (err instanceof StatusError && err.code === 409 && err.status.reason === 'AlreadyExists') continue;
          throw err;
        }
      }
      const rv = config.metadata.resourceVersion;
      const preconditions = rv ? { resourceVersion: parseRevision(rv) } : {};
      // The merged object shares what the configuration leaves alone with the object it is given, and loses fields in place: it is given a copy.
      const next = (current: KubeObject) => applyConfiguration(s.resource, JSON.parse(JSON.stringify(current)) as KubeObject, JSON.parse(configJson) as KubeObject, applyOpts);
      const entry = await this.write(s, namespace, name, next, preconditions, opts.subresource, opts.dryRun, keepManagedFields, opts.writer);
      return { entry, warnings, created: false };
    }
  }

  /**
   * DELETE as Kubernetes' generic registry does it, decided on the stored object inside the
   * update: preconditions; a graceful delete marks the object (a later one may only shorten
   * the grace period); the propagation policy becomes the garbage collector's finalizers; an
   * object that finalizers hold is marked as deleting and stays, anything else goes now.
   */
  async delete(resource: string, namespace: string | undefined, name: string, opts: DeleteOptions, dryRun = false): Promise<DeleteResult> {
    const s = this.strategy(resource);
    const causes = validateObject('DeleteOptions', opts);
    if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
      causes.push({ reason: 'FieldValueInvalid', field: 'gracePeriodSeconds', message: 'Invalid value: must be a non-negative integer' });
    }
    if (causes.length) throw invalid('DeleteOptions', '', causes);
    const key = this.key(s.resource, namespace, name);
    const now = this.now();
    return this.updateOrDelete(s, key, name, {}, dryRun, (current) => {
      checkPreconditions(s, name, current, opts);
      const obj = JSON.parse(JSON.stringify(current)) as KubeObject;
      s.prepareForDelete(obj);
      const step = beforeDelete(s, obj, opts, now);
      // Already going, on a grace period this delete does not shorten: nothing changes.
      if (step === 'pending') return current;
      setDeletionFinalizers(s, obj.metadata, opts);
      const held = s.awaitsFinalization(obj);
      if (!held && (step === 'now' || obj.metadata.deletionGracePeriodSeconds === 0)) throw new DeleteInstead();
      if (step === 'now') markAsDeleting(obj, now);
      return obj;
    });
  }

  /**
   * A write that next(current) decides, checked by the resource's strategy as a client's update
   * is (defaults, validation, generation): what a subresource such as scale writes through.
   */
  async updateWith(resource: string, namespace: string | undefined, name: string, next: (current: KubeObject) => KubeObject, preconditions: Preconditions, dryRun: boolean): Promise<StoredEntry> {
    return this.write(this.strategy(resource), namespace, name, next, preconditions, undefined, dryRun);
  }

  /**
   * A guaranteed update that tryUpdate alone decides (the binding subresource writes the pod
   * so, as Kubernetes' BindingREST does); it is handed the object as its own to change.
   */
  async guaranteedUpdate(resource: string, namespace: string | undefined, name: string, tryUpdate: TryUpdate, dryRun: boolean): Promise<StoredEntry> {
    const s = this.strategy(resource);
    return this.commitUpdate(s, this.key(s.resource, namespace, name), name, {}, tryUpdate, dryRun);
  }

  /**
   * Removes a deleted object that the server finishes deleting itself, once its strategy
   * says it may go (a namespace, once emptied); false while it may not, or has no such rule.
   */
  async finalize(resource: string, namespace: string | undefined, name: string): Promise<boolean> {
    const s = this.strategy(resource);
    if (!s.finalizedByServer) return false;
    try {
      await this.storage.delete(this.key(s.resource, namespace, name), {}, false, async (current) => {
        if (!(await s.finalizedByServer!(current, this.contents))) throw new NotYet();
      });
    } catch (err) {
      if (err instanceof NotYet || err instanceof KeyNotFoundError) return false;
      throw storageError(err, s, name);
    }
    return true;
  }

  private readonly contents: NamespaceContents = async (namespace) => {
    let n = 0;
    for (const s of this.strategies.values()) if (s.resource.namespaced) n += await this.store.count(`/${s.resource.name}/${namespace}/`);
    return n;
  };

  namespacedResources(): string[] {
    return [...this.strategies.values()].filter((s) => s.resource.namespaced && s.resource.verbs.includes('delete')).map((s) => s.resource.name);
  }

  async deleteCollection(resource: string, namespace: string | undefined, q: ListQuery, opts: DeleteOptions, dryRun = false): Promise<StoredEntry[]> {
    const { items } = await this.list(resource, namespace, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const out: StoredEntry[] = [];
    for (const item of items) {
      const m = item.object.metadata;
      try {
        out.push((await this.delete(resource, m.namespace, m.name!, opts, dryRun)).entry);
      } catch (err) {
        // A finalizing namespace or an object deleted meanwhile is skipped, not an error.
        if (!(err instanceof StatusError) || (err.code !== 404 && err.code !== 403)) throw err;
      }
    }
    return out;
  }

  /**
   * Watches a resource: from a revision; from the current state, whose objects `initial` sends
   * first as ADDED (as Kubernetes does for resourceVersion "" and "0", and for
   * sendInitialEvents) at the revision the watch then continues from, changes meanwhile waiting
   * until it is done; or from now, without them. With a selector, an object that starts
   * matching arrives as ADDED and one that stops as DELETED. `end` hears when the store ends
   * the watch.
   */
  async watch(resource: string, namespace: string | undefined, q: ListQuery, start: WatchStart, emit: WatchEmit, end?: () => void): Promise<StoreWatch> {
    const s = this.strategy(resource);
    const prefix = this.prefix(s.resource, namespace);
    const { filter, index } = this.selectionFor(resource, q);
    const send = (e: StoreEvent) => {
      if (!filter) {
        emit(e.type, e);
        return;
      }
      if (e.type === 'ADDED') {
        if (filter(e.selectable ?? e.object)) emit('ADDED', e);
      } else if (e.type === 'DELETED') {
        if (filter(e.prev ?? e.selectable ?? e.object)) emit('DELETED', e);
      } else {
        const now = filter(e.selectable ?? e.object);
        const was = e.prev ? filter(e.prev) : now;
        if (now && was) emit('MODIFIED', e);
        else if (now) emit('ADDED', e);
        else if (was) emit('DELETED', e);
      }
    };
    try {
      if (start === 'now') return await this.store.watch(prefix, this.store.cache.revision, { send, index, end });
      if ('fromRev' in start) return await this.store.watch(prefix, start.fromRev, { send, index, end });
      // Changes that arrive before the list has been sent wait for it.
      let pending: StoreEvent[] | undefined = [];
      const sink: WatchSink = { send: (e) => (pending ? pending.push(e) : send(e)), index, end };
      const { list, watch } = await this.store.listAndWatch(prefix, filter, sink);
      try {
        await start.initial(list.items, list.rev);
      } catch (err) {
        watch.stop();
        throw err;
      }
      const queued = pending;
      pending = undefined;
      for (const e of queued) send(e);
      return watch;
    } catch (err) {
      if (err instanceof RevisionCompactedError) {
        throw new StatusError(410, `too old resource version: ${err.requested} (${err.oldest})`, { reason: 'Expired' });
      }
      throw storageError(err, s, '');
    }
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
  constructor() {
    super('the update finalizes the object');
  }
}

/** A namespace that is not ready to go yet. */
class NotYet extends Error {}


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

/** The Kubernetes errors for what storage reports: the object is gone, changed since it was read, or storage is out of reach. */
function storageError(err: unknown, s: Strategy, name: string): unknown {
  if (err instanceof KeyNotFoundError) return notFound(s.resource, name);
  if (err instanceof PreconditionError) return conflict(s.resource, name, err.message);
  if (err instanceof WriteOutcomeUnknownError) {
    return new StatusError(504, `Timeout: the outcome of the write is unknown (${err.message}): it may or may not have been applied; read ${s.resource.name} "${name}" before retrying`, {
      reason: 'Timeout',
    });
  }
  if (err instanceof StorageUnavailableError) return new StatusError(504, `Timeout: storage did not answer in time (${err.message}): nothing was written; the request may be retried`, { reason: 'Timeout' });
  if (err instanceof StorageCommitError) return new StatusError(500, `Internal error occurred: ${err.message}`);
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
export function applyPatch<T>(base: T, type: PatchType, patch: unknown, kind: string | undefined, name: string): T {
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

/**
 * Where a list goes on: after the key `start`, in the snapshot its first page left; a token
 * without one (rv -1, as Kubernetes spells "the latest") goes on in the objects as they are.
 */
interface ContinueFrom {
  start: string;
  snapshot?: ListSnapshotRef;
}

function encodeContinue(from: ContinueFrom): string {
  const token = from.snapshot ? { v: 'peapod/v1', rv: from.snapshot.rev, s: from.snapshot.id, start: from.start } : { v: 'peapod/v1', rv: -1, start: from.start };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(token: string, prefix: string): ContinueFrom {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; rv?: unknown; s?: unknown; start?: unknown };
    if (parsed.v === 'peapod/v1' && typeof parsed.start === 'string' && parsed.start.startsWith(prefix)) {
      const { rv, s } = parsed;
      if (rv === -1) return { start: parsed.start };
      // A token from before list snapshots (no s) names none that is kept: 410, like an expired one.
      if (Number.isSafeInteger(rv)) return { start: parsed.start, snapshot: { rev: rv as number, id: Number.isSafeInteger(s) ? (s as number) : 0 } };
    }
  } catch {
    // falls through to the error below
  }
  throw badRequest('continue key is not valid: the token was not issued by this server for this list');
}

/**
 * 410 for a continue page whose snapshot is gone, with a token that goes on from the same key
 * in the objects as they are now, for a client that can do with an inconsistent list.
 */
function continueExpired(start: string): StatusError {
  const err = new StatusError(
    410,
    'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
    { reason: 'Expired' },
  );
  err.status.metadata = { continue: encodeContinue({ start }) };
  return err;
}
