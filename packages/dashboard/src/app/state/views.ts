// What the views show, derived from the store: pods grouped by node, what each node's pods
// request, a pod's termination timeline, the filtered event stream. Pure functions over
// records; the components memoise them on the store's versions.

import type { EndpointRecord, EventRecord, NodeRecord, PodRecord } from './records';
import type { Store } from './store';

export type PodRow = { type: 'node'; name: string; node?: NodeRecord; pods: number } | { type: 'pod'; pod: PodRecord };

export interface PodFilter {
  /** matches namespace/name, node, status (case-insensitive substring) */
  text: string;
}

/** The group of pods no node has taken yet. */
export const unscheduled = '';

function matches(p: PodRecord, needle: string): boolean {
  if (needle === '') return true;
  return p.key.toLowerCase().includes(needle) || p.node.toLowerCase().includes(needle) || p.status.toLowerCase().includes(needle);
}

/** One header row per node that has pods (unscheduled pods first), then its pods by namespace/name. */
export function podRows(pods: Iterable<PodRecord>, nodes: ReadonlyMap<string, NodeRecord>, filter: PodFilter): PodRow[] {
  const needle = filter.text.trim().toLowerCase();
  const byNode = new Map<string, PodRecord[]>();
  for (const p of pods) {
    if (!matches(p, needle)) continue;
    let group = byNode.get(p.node);
    if (!group) byNode.set(p.node, (group = []));
    group.push(p);
  }
  const names = [...byNode.keys()].sort((a, b) => (a === unscheduled ? -1 : b === unscheduled ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const rows: PodRow[] = [];
  for (const name of names) {
    const group = (byNode.get(name) as PodRecord[]).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    rows.push({ type: 'node', name, node: nodes.get(name), pods: group.length });
    for (const pod of group) rows.push({ type: 'pod', pod });
  }
  return rows;
}

export interface Usage {
  cpuMillis: number;
  memoryBytes: number;
  pods: number;
}

/** What the pods bound to each node request; finished pods hold nothing, as the scheduler counts. */
export function nodeUsage(pods: Iterable<PodRecord>): Map<string, Usage> {
  const usage = new Map<string, Usage>();
  for (const p of pods) {
    if (p.node === '' || p.terminal) continue;
    let u = usage.get(p.node);
    if (!u) usage.set(p.node, (u = { cpuMillis: 0, memoryBytes: 0, pods: 0 }));
    u.cpuMillis += p.cpuMillis;
    u.memoryBytes += p.memoryBytes;
    u.pods++;
  }
  return usage;
}

/** used / capacity as a fraction for a bar (0 when the capacity is unknown). */
export function fraction(used: number, capacity: number): number {
  return capacity > 0 ? Math.min(1, used / capacity) : 0;
}

export interface TimelineEntry {
  atMs: number;
  /** what happened: an event's reason, or the page's own marks */
  label: string;
  detail: string;
  /** 'event' (from the pod's Events), 'deletion' (deletionTimestamp set), 'removed' (gone from the API) */
  source: 'event' | 'deletion' | 'removed';
  warning: boolean;
  key: string;
}

/**
 * A pod's timeline: its Events in the order they happened (timestamps are whole seconds;
 * the global resourceVersion orders those within one second), the deletion request
 * (deadline minus grace) before the events of that second, and its removal from the API last.
 */
export function podTimeline(store: Store, uid: string, pod: PodRecord | undefined): TimelineEntry[] {
  const entries: (TimelineEntry & { order: number; rv: number })[] = [];
  for (const key of store.eventsByObject.get(uid) ?? []) {
    const e = store.events.get(key) as EventRecord;
    entries.push({
      atMs: e.lastMs,
      label: e.reason,
      detail: e.count > 1 ? `${e.message} (x${e.count})` : e.message,
      source: 'event',
      warning: e.type === 'Warning',
      key: e.key,
      order: 1,
      rv: e.rv,
    });
  }
  const removed = store.removed.get(uid);
  const deletion = pod ?? removed;
  if (deletion?.deletionMs !== undefined) {
    const grace = deletion.graceSeconds ?? 0;
    entries.push({
      atMs: deletion.deletionMs - grace * 1000,
      label: 'DeletionRequested',
      detail: `graceful deletion, ${grace}s grace period: deadline ${clock(deletion.deletionMs)}`,
      source: 'deletion',
      warning: false,
      key: 'deletion',
      order: 0,
      rv: 0,
    });
  }
  if (removed) {
    entries.push({ atMs: removed.atMs, label: 'Removed', detail: 'the pod is gone from the API', source: 'removed', warning: false, key: 'removed', order: 2, rv: 0 });
  }
  const second = (ms: number): number => Math.floor(ms / 1000);
  entries.sort((a, b) => second(a.atMs) - second(b.atMs) || a.order - b.order || a.rv - b.rv || a.atMs - b.atMs);
  return entries.map(({ order: _order, rv: _rv, ...entry }) => entry);
}

/** A time of day, 24-hour: 17:43:19. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** "7s left" (whole seconds, never more than is left), or how far past the deadline a pod still terminating is. */
export function countdown(deadlineMs: number, now: number): string {
  const left = Math.floor((deadlineMs - now) / 1000);
  return left >= 0 ? `${left}s left` : `${-left}s past the deadline`;
}

export interface EventFilter {
  type: 'all' | 'Normal' | 'Warning';
  /** matches reason, message, object name or kind, namespace */
  text: string;
}

/** The event stream, newest first. */
export function filterEvents(events: Iterable<EventRecord>, filter: EventFilter): EventRecord[] {
  const needle = filter.text.trim().toLowerCase();
  const out: EventRecord[] = [];
  for (const e of events) {
    if (filter.type !== 'all' && e.type !== filter.type) continue;
    if (
      needle !== '' &&
      !`${e.namespace}/${e.objectName} ${e.kind} ${e.reason} ${e.message} ${e.source}`.toLowerCase().includes(needle)
    ) {
      continue;
    }
    out.push(e);
  }
  return out.sort((a, b) => b.lastMs - a.lastMs || b.rv - a.rv);
}

/** The endpoints of a service: from its EndpointSlices when the cluster serves them, else from its Endpoints. */
export function serviceEndpoints(store: Store, serviceKey: string): { source: 'slices' | 'endpoints' | 'none'; endpoints: EndpointRecord[] } {
  if (store.state.endpointslices.phase === 'ready') {
    const endpoints: EndpointRecord[] = [];
    for (const s of store.endpointSlices.values()) if (s.key === serviceKey) endpoints.push(...s.endpoints);
    return { source: 'slices', endpoints };
  }
  if (store.state.endpoints.phase === 'ready') return { source: 'endpoints', endpoints: store.endpoints.get(serviceKey)?.endpoints ?? [] };
  return { source: 'none', endpoints: [] };
}
