// The page's state: one collection of records per resource it watches, fed by watch
// changes in batches. No DOM here: the reducer is tested without a browser.
//
// Each collection carries a version that goes up whenever it changes, so a view derives
// what it shows (pods grouped by node, usage per node) again only when its inputs moved.

import type { Event, KubeObject, Lease, Node, Pod, ReplicationController } from '@peapod/api';
import type { ControllerRecord, EndpointsRecord, EventRecord, LeaseRecord, NodeRecord, PodRecord, ServiceRecord } from './records';
import {
  controllerRecord,
  endpointSliceRecord,
  endpointsRecord,
  eventRecord,
  leaseRecord,
  nodeRecord,
  objectKey,
  podRecord,
  serviceRecord,
} from './records';
import type { EndpointSlice, Endpoints, Service } from './wire';

export type Kind = 'pods' | 'nodes' | 'leases' | 'events' | 'controllers' | 'services' | 'endpoints' | 'endpointslices';

export const kinds: readonly Kind[] = ['pods', 'nodes', 'leases', 'events', 'controllers', 'services', 'endpoints', 'endpointslices'];

/** Whether a collection has its first list yet, and what went wrong if it cannot be had. */
export type LoadState =
  | { phase: 'loading' }
  | { phase: 'ready' }
  /** the API server answered 404: this cluster does not serve the resource */
  | { phase: 'unavailable'; message: string }
  | { phase: 'error'; message: string };

export type Change =
  | { kind: Kind; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }
  /** a (re)list: the collection becomes exactly these objects */
  | { kind: Kind; type: 'SYNC'; objects: KubeObject[] }
  | { kind: Kind; type: 'STATE'; state: LoadState };

/** A pod that left the API while the page watched: its timeline ends with the removal. */
export interface RemovedPod {
  uid: string;
  key: string;
  atMs: number;
  /** the grace deadline and period it had, if it was deleted gracefully */
  deletionMs?: number;
  graceSeconds?: number;
}

export interface StoreLimits {
  /** Events kept (the oldest go first). */
  events: number;
  /** Removed pods remembered for their timelines. */
  removed: number;
}

const defaultLimits: StoreLimits = { events: 10_000, removed: 2_000 };

export class Store {
  readonly pods = new Map<string, PodRecord>();
  readonly nodes = new Map<string, NodeRecord>();
  readonly leases = new Map<string, LeaseRecord>();
  readonly events = new Map<string, EventRecord>();
  /** event keys by the uid of the object they are about */
  readonly eventsByObject = new Map<string, Set<string>>();
  readonly controllers = new Map<string, ControllerRecord>();
  readonly services = new Map<string, ServiceRecord>();
  /** core/v1 Endpoints by namespace/service */
  readonly endpoints = new Map<string, EndpointsRecord>();
  /** EndpointSlices by their own key; several may serve one service */
  readonly endpointSlices = new Map<string, EndpointsRecord & { service: string; sliceKey: string }>();
  /** by uid, oldest first */
  readonly removed = new Map<string, RemovedPod>();
  readonly state = {} as Record<Kind, LoadState>;
  readonly versions = {} as Record<Kind, number>;
  private readonly limits: StoreLimits;

  constructor(limits: Partial<StoreLimits> = {}) {
    this.limits = { ...defaultLimits, ...limits };
    for (const k of kinds) {
      this.state[k] = { phase: 'loading' };
      this.versions[k] = 0;
    }
  }

  /** Applies a batch of changes; `now` stamps pods seen leaving. */
  apply(changes: readonly Change[], now: number = Date.now()): void {
    for (const c of changes) {
      this.versions[c.kind]++;
      if (c.type === 'STATE') {
        this.state[c.kind] = c.state;
      } else if (c.type === 'SYNC') {
        this.sync(c.kind, c.objects, now);
        this.state[c.kind] = { phase: 'ready' };
      } else if (c.type === 'DELETED') {
        this.remove(c.kind, c.object, now);
      } else {
        this.put(c.kind, c.object);
      }
    }
  }

  private put(kind: Kind, o: KubeObject): void {
    switch (kind) {
      case 'pods': {
        const r = podRecord(o as Pod);
        this.pods.set(r.key, r);
        // A pod of the same name made again (grace 0, then re-created) is a new pod.
        this.removed.delete(r.uid);
        break;
      }
      case 'nodes': {
        const r = nodeRecord(o as Node);
        this.nodes.set(r.name, r);
        break;
      }
      case 'leases': {
        const r = leaseRecord(o as Lease);
        this.leases.set(r.name, r);
        break;
      }
      case 'events':
        this.putEvent(eventRecord(o as Event));
        break;
      case 'controllers': {
        const r = controllerRecord(o as ReplicationController);
        this.controllers.set(r.key, r);
        break;
      }
      case 'services': {
        const r = serviceRecord(o as Service);
        this.services.set(r.key, r);
        break;
      }
      case 'endpoints': {
        const r = endpointsRecord(o as Endpoints);
        this.endpoints.set(r.key, r);
        break;
      }
      case 'endpointslices': {
        const r = endpointSliceRecord(o as EndpointSlice);
        this.endpointSlices.set(r.sliceKey, r);
        break;
      }
    }
  }

  private remove(kind: Kind, o: KubeObject, now: number): void {
    const key = objectKey(o.metadata);
    switch (kind) {
      case 'pods': {
        const gone = this.pods.get(key);
        this.pods.delete(key);
        const uid = o.metadata.uid ?? gone?.uid;
        if (uid) this.rememberRemoved({ uid, key, atMs: now, deletionMs: gone?.deletionMs, graceSeconds: gone?.graceSeconds });
        break;
      }
      case 'nodes':
        this.nodes.delete(key);
        break;
      case 'leases':
        this.leases.delete(o.metadata.name ?? '');
        break;
      case 'events':
        this.dropEvent(key);
        break;
      case 'controllers':
        this.controllers.delete(key);
        break;
      case 'services':
        this.services.delete(key);
        break;
      case 'endpoints':
        this.endpoints.delete(key);
        break;
      case 'endpointslices':
        this.endpointSlices.delete(key);
        break;
    }
  }

  private sync(kind: Kind, objects: KubeObject[], now: number): void {
    if (kind === 'pods') {
      // Pods missing from a relist left the API while the watch was down.
      const listed = new Set(objects.map((o) => objectKey(o.metadata)));
      for (const [key, pod] of this.pods) {
        if (!listed.has(key)) this.rememberRemoved({ uid: pod.uid, key, atMs: now, deletionMs: pod.deletionMs, graceSeconds: pod.graceSeconds });
      }
    }
    this.collection(kind).clear();
    if (kind === 'events') this.eventsByObject.clear();
    for (const o of objects) this.put(kind, o);
  }

  private collection(kind: Kind): Map<string, unknown> {
    switch (kind) {
      case 'pods':
        return this.pods;
      case 'nodes':
        return this.nodes;
      case 'leases':
        return this.leases;
      case 'events':
        return this.events;
      case 'controllers':
        return this.controllers;
      case 'services':
        return this.services;
      case 'endpoints':
        return this.endpoints;
      case 'endpointslices':
        return this.endpointSlices;
    }
  }

  private rememberRemoved(r: RemovedPod): void {
    this.removed.delete(r.uid);
    this.removed.set(r.uid, r);
    if (this.removed.size > this.limits.removed) this.removed.delete(this.removed.keys().next().value as string);
  }

  private putEvent(r: EventRecord): void {
    const old = this.events.get(r.key);
    if (old) this.events.delete(r.key);
    this.events.set(r.key, r);
    if (old && old.objectUid !== r.objectUid) this.eventsByObject.get(old.objectUid)?.delete(r.key);
    let forObject = this.eventsByObject.get(r.objectUid);
    if (!forObject) this.eventsByObject.set(r.objectUid, (forObject = new Set()));
    forObject.add(r.key);
    // Map order is insertion order, and an event seen again moves to the end: the first is the stalest.
    if (this.events.size > this.limits.events) this.dropEvent(this.events.keys().next().value as string);
  }

  private dropEvent(key: string): void {
    const r = this.events.get(key);
    if (!r) return;
    this.events.delete(key);
    const forObject = this.eventsByObject.get(r.objectUid);
    forObject?.delete(key);
    if (forObject?.size === 0) this.eventsByObject.delete(r.objectUid);
  }
}
