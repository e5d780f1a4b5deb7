import type { DeleteOptions, KubeObject, ResourceInfo, StatusCause } from '@peapod/api';
import type { UserInfo } from '../auth/tokens';
import type { ServiceAllocator } from './service-allocator';

/** Learns whether a write happened, to commit or undo what was reserved for it. */
export type FinishWrite = (written: boolean) => void | Promise<void>;

/** A stored object by resource, namespace and name: what admission looks up (a pod's service account). */
export type ObjectLookup = (resource: string, namespace: string, name: string) => KubeObject | undefined;

/** A stored object as this server last heard of it, read from storage when it has not heard of it. */
export type ObjectReader = (resource: string, namespace: string | undefined, name: string) => Promise<KubeObject | undefined>;

/** How many objects a namespace holds, of every namespaced resource. */
export type NamespaceContents = (namespace: string) => Promise<number>;

export interface StrategyOptions {
  allowPrivileged: boolean;
  /** gives services their cluster IPs and node ports */
  serviceAllocator: ServiceAllocator;
  /** the stored objects, for admission */
  lookup?: ObjectLookup;
  /** how long events live after their last write (--event-ttl) */
  eventTtlSeconds?: number;
}

/**
 * What differs between resources, in the manner of the apiserver's registry strategies:
 * defaulting, validation and how an update is folded into the stored object. The
 * generic Registry does the rest (storage, preconditions, deletion, watch).
 */
export interface Strategy {
  readonly resource: ResourceInfo;
  /**
   * Turns what a client sent into the stored form, as decoding does in Kubernetes (a
   * Secret's stringData merged into data); throws a 400 StatusError for a body that cannot
   * be decoded (bad base64). Called on every create, update and patch result.
   */
  canonicalize?(obj: KubeObject): void;
  /** fills defaults; called on every object a client sends (create and update) */
  applyDefaults(obj: KubeObject): void;
  /**
   * Admission of a new object against other stored objects, before defaults: refuses it by
   * throwing a StatusError (content of a namespace that is missing or terminating).
   */
  admitCreate?(obj: KubeObject, read: ObjectReader): Promise<void>;
  /**
   * Admission of a new object, after defaults and before validation: may change it, or refuse
   * it by throwing a StatusError. `writer`: the user the request is served for; undefined for
   * the server's own writes and without authentication.
   */
  admit?(obj: KubeObject, writer?: UserInfo): void;
  /** resets what a client may not set on create (status), after defaults */
  prepareForCreate(obj: KubeObject): void;
  /** keeps what the main resource may not change (status) */
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  /** keeps what the status subresource may not change (spec, most metadata) */
  prepareForStatusUpdate(obj: KubeObject, old: KubeObject): void;
  /** pods/ephemeralcontainers (pods only): keeps everything but spec.ephemeralContainers */
  prepareForEphemeralContainersUpdate?(obj: KubeObject, old: KubeObject): void;
  validate(obj: KubeObject): StatusCause[];
  /** `writer` as for admit(); an update may also refuse by throwing a StatusError. */
  validateUpdate(obj: KubeObject, old: KubeObject, writer?: UserInfo): StatusCause[];
  /** whether a spec change bumps metadata.generation */
  readonly tracksGeneration: boolean;
  /**
   * Reserves what the object holds outside its own key (a service's cluster IP and node
   * ports), filling it in, once the object is valid and just before it is written (old: the
   * stored version, on update). The returned function learns whether the write happened: if
   * not, the reservation is undone; if so, what the old version held and this one does not is
   * freed. With dryRun nothing is reserved.
   */
  beginWrite?(obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): FinishWrite | Promise<FinishWrite>;
  /** Frees what the object held, once it is gone from storage. */
  afterDelete?(obj: KubeObject): void | Promise<void>;
  /** Seconds until a created object expires on its own (events; Kubernetes' TTLFunc): a store with leases removes it then. */
  ttlSeconds?(obj: KubeObject): number | undefined;
  /**
   * What a delete naming no propagation policy does with dependents (Kubernetes: Orphan for
   * v1 replication controllers, Background for most); Unsupported: the resource owns nothing.
   */
  readonly garbageCollectionPolicy: 'Orphan' | 'Background' | 'Unsupported';
  /** The grace period a delete gives (pods); undefined: the resource goes at once. */
  deleteGracePeriod(obj: KubeObject, opts: DeleteOptions): number | undefined;
  /** Refuses a delete, or marks what deletion changes besides metadata (a namespace's phase); obj is a copy. */
  prepareForDelete(obj: KubeObject): void;
  /** Whether a deleted object must stay until something finalizes it: its finalizers, a namespace's content. */
  awaitsFinalization(obj: KubeObject): boolean;
  /**
   * For a resource the server finishes deleting itself (a namespace, once emptied: Kubernetes'
   * namespace finalizer): whether the deleted object, as stored now, may be removed.
   */
  finalizedByServer?(obj: KubeObject, contents: NamespaceContents): Promise<boolean>;
}
