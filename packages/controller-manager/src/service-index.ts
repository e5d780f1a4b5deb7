// What the endpoints controllers share: services and pods indexed by namespace (a sync looks
// at one namespace, not at every pod of the cluster), and which services a pod change
// concerns, by Kubernetes' rules (k8s.io/endpointslice/util).

import { isPodReady, isPodServing, selectorFromSet } from '@peapod/api';
import type { KubeObject, LabelSelector, Pod, Service } from '@peapod/api';
import { objectKey } from '@peapod/client';
import type { WorkQueue } from '@peapod/client';
import type { SharedCache } from './cache';

/** A cache's objects (or what is derived from each) by namespace, kept in step by its handlers. */
export class NamespaceIndex<T extends KubeObject, V = T> {
  private readonly byNamespace = new Map<string, Map<string, V>>();

  /** `derive` maps an object to what is kept of it; undefined keeps nothing. */
  constructor(cache: SharedCache<T>, derive: (obj: T) => V | undefined = (obj) => obj as unknown as V) {
    const set = (obj: T): void => {
      const ns = obj.metadata.namespace ?? '';
      let m = this.byNamespace.get(ns);
      if (m === undefined) this.byNamespace.set(ns, (m = new Map()));
      const value = derive(obj);
      if (value === undefined) m.delete(objectKey(obj));
      else m.set(objectKey(obj), value);
    };
    cache.on('add', set);
    cache.on('update', (_old, obj) => set(obj));
    cache.on('delete', (obj) => this.byNamespace.get(obj.metadata.namespace ?? '')?.delete(objectKey(obj)));
  }

  /** What is kept of the objects in a namespace, by key (live view: do not change it). */
  entries(namespace: string): Iterable<[string, V]> {
    return this.byNamespace.get(namespace)?.entries() ?? [];
  }

  in(namespace: string): Iterable<V> {
    return this.byNamespace.get(namespace)?.values() ?? [];
  }
}

/**
 * The selector of a service. A service without selector (or with an empty one, which the API
 * does not keep) selects no pods: its endpoints are written by someone else.
 */
export function serviceSelector(svc: Service): LabelSelector | undefined {
  const selector = svc.spec?.selector;
  if (selector === undefined || selector === null || Object.keys(selector).length === 0) return undefined;
  try {
    return selectorFromSet(selector);
  } catch {
    return undefined;
  }
}

/** Services with their compiled selectors, by namespace. */
export class ServiceIndex {
  private readonly selectors: NamespaceIndex<Service, LabelSelector>;

  constructor(services: SharedCache<Service>) {
    this.selectors = new NamespaceIndex(services, serviceSelector);
  }

  /** Keys of the services whose selector matches the pod. */
  servicesFor(pod: Pod): Set<string> {
    const keys = new Set<string>();
    for (const [key, selector] of this.selectors.entries(pod.metadata.namespace ?? '')) {
      if (selector.matches(pod.metadata.labels)) keys.add(key);
    }
    return keys;
  }
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ak = Object.keys(a ?? {});
  return ak.length === Object.keys(b ?? {}).length && ak.every((k) => a![k] === b?.[k]);
}

/**
 * Whether a pod update may change endpoints (deletion, readiness, serving or IPs changed:
 * a terminating pod is never ready, but its slices' serving follows its containers) and whether
 * it may change which services select it (labels, hostname or subdomain changed).
 */
function podEndpointsChanged(oldPod: Pod, pod: Pod): { podChanged: boolean; labelsChanged: boolean } {
  const labelsChanged =
    !sameMap(oldPod.metadata.labels, pod.metadata.labels) || oldPod.spec.hostname !== pod.spec.hostname || oldPod.spec.subdomain !== pod.spec.subdomain;
  const ips = (p: Pod) => (p.status?.podIPs ?? []).map((x) => x.ip).join(',') + `|${p.status?.podIP ?? ''}`;
  const podChanged =
    oldPod.metadata.deletionTimestamp !== pod.metadata.deletionTimestamp ||
    isPodReady(oldPod) !== isPodReady(pod) ||
    isPodServing(oldPod) !== isPodServing(pod) ||
    ips(oldPod) !== ips(pod) ||
    oldPod.status?.phase !== pod.status?.phase ||
    oldPod.spec.nodeName !== pod.spec.nodeName;
  return { podChanged, labelsChanged };
}

/** The services to sync after a pod update (none for a resync or a change that cannot matter). */
export function servicesToSyncOnPodUpdate(index: ServiceIndex, oldPod: Pod, pod: Pod): Set<string> {
  if (oldPod.metadata.resourceVersion === pod.metadata.resourceVersion) return new Set();
  const { podChanged, labelsChanged } = podEndpointsChanged(oldPod, pod);
  if (!podChanged && !labelsChanged) return new Set();
  const now = index.servicesFor(pod);
  if (!labelsChanged) return now;
  const before = index.servicesFor(oldPod);
  // Labels and more changed: every service either way; labels alone: those it joined or left.
  if (podChanged) return new Set([...now, ...before]);
  return new Set([...[...now].filter((k) => !before.has(k)), ...[...before].filter((k) => !now.has(k))]);
}

/**
 * Queues the services a change concerns: a service's own change at once; a pod's (the services
 * that select it, before and after) after the batch period, so that a burst is one sync.
 */
export function queueServiceChanges(
  services: SharedCache<Service>,
  pods: SharedCache<Pod>,
  index: ServiceIndex,
  queue: WorkQueue<string>,
  batchPeriodMs: number,
): void {
  const now = (svc: Service): void => queue.add(objectKey(svc));
  const later = (keys: Iterable<string>): void => {
    for (const key of keys) queue.addAfter(key, batchPeriodMs);
  };
  services.on('add', now);
  services.on('update', (_old, svc) => now(svc));
  services.on('delete', now);
  pods.on('add', (pod) => later(index.servicesFor(pod)));
  pods.on('update', (oldPod, pod) => later(servicesToSyncOnPodUpdate(index, oldPod, pod)));
  pods.on('delete', (pod) => later(index.servicesFor(pod)));
}
