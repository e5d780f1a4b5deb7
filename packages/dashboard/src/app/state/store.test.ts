import type { Event, KubeObject, Pod, PodPhase } from '@peapod/api';
import { Batcher } from './batcher';
import { Store } from './store';
import type { Change } from './store';
import { countdown, filterEvents, nodeUsage, podRows, podTimeline, serviceEndpoints } from './views';

function pod(name: string, node: string, extra: Partial<Pod['metadata']> = {}, phase = 'Running', rv = 1): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: String(rv), creationTimestamp: '2024-05-01T10:00:00Z', ...extra },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '250m', memory: '64Mi' } } }] },
    status: { phase: phase as PodPhase },
  };
}

function event(name: string, uid: string, reason: string, at: string, rv: number, type: 'Normal' | 'Warning' = 'Normal'): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default', uid: `ev-${name}`, resourceVersion: String(rv) },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid },
    reason,
    message: `${reason} happened`,
    type,
    lastTimestamp: at,
    firstTimestamp: at,
    count: 1,
  };
}

const add = (kind: Change['kind'], object: KubeObject): Change => ({ kind, type: 'ADDED', object });

describe('Store', () => {
  it('keeps pods as records with kubectl status, and marks the collection ready on a list', () => {
    const s = new Store();
    expect(s.state.pods.phase).toBe('loading');
    s.apply([{ kind: 'pods', type: 'SYNC', objects: [pod('a', 'n1'), pod('b', '')] }]);
    expect(s.state.pods.phase).toBe('ready');
    expect(s.pods.get('default/a')).toMatchObject({ node: 'n1', status: 'Running', cpuMillis: 250, memoryBytes: 64 << 20 });
    s.apply([{ kind: 'pods', type: 'MODIFIED', object: pod('a', 'n1', { deletionTimestamp: '2024-05-01T10:01:00Z', deletionGracePeriodSeconds: 10 }) }]);
    expect(s.pods.get('default/a')).toMatchObject({ status: 'Terminating', deletionMs: Date.parse('2024-05-01T10:01:00Z'), graceSeconds: 10 });
  });

  it('remembers when a pod left the API, and forgets it when a new pod takes the name', () => {
    const s = new Store();
    s.apply([add('pods', pod('a', 'n1'))]);
    s.apply([{ kind: 'pods', type: 'DELETED', object: pod('a', 'n1') }], 5000);
    expect(s.pods.size).toBe(0);
    expect(s.removed.get('uid-a')).toMatchObject({ uid: 'uid-a', key: 'default/a', atMs: 5000 });
    s.apply([{ kind: 'pods', type: 'SYNC', objects: [] }], 6000);
    s.apply([add('pods', pod('b', 'n1'))]);
    s.apply([{ kind: 'pods', type: 'SYNC', objects: [] }], 7000);
    expect(s.removed.get('uid-b')?.atMs).toBe(7000);
  });

  it('bumps only the versions of the collections that changed', () => {
    const s = new Store();
    s.apply([add('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } })]);
    expect(s.versions.nodes).toBe(1);
    expect(s.versions.pods).toBe(0);
  });

  it('records a 404 as unavailable', () => {
    const s = new Store();
    s.apply([{ kind: 'services', type: 'STATE', state: { phase: 'unavailable', message: 'not found' } }]);
    expect(s.state.services).toEqual({ phase: 'unavailable', message: 'not found' });
  });

  it('keeps at most the newest events, indexed by the object they are about', () => {
    const s = new Store({ events: 2 });
    s.apply([
      add('events', event('e1', 'p1', 'A', '2024-05-01T10:00:00Z', 1)),
      add('events', event('e2', 'p1', 'B', '2024-05-01T10:00:01Z', 2)),
      add('events', event('e3', 'p2', 'C', '2024-05-01T10:00:02Z', 3)),
    ]);
    expect([...s.events.keys()]).toEqual(['default/e2', 'default/e3']);
    expect([...(s.eventsByObject.get('p1') ?? [])]).toEqual(['default/e2']);
    s.apply([{ kind: 'events', type: 'DELETED', object: event('e3', 'p2', 'C', '2024-05-01T10:00:02Z', 3) }]);
    expect(s.eventsByObject.has('p2')).toBe(false);
  });
});

describe('views', () => {
  it('groups pods by node, unscheduled first, each group sorted, with a filter', () => {
    const s = new Store();
    s.apply([{ kind: 'pods', type: 'SYNC', objects: [pod('b', 'n2'), pod('a', 'n2'), pod('c', 'n1'), pod('d', '', {}, 'Pending')] }]);
    const rows = podRows(s.pods.values(), s.nodes, { text: '' });
    expect(rows.map((r) => (r.type === 'node' ? `[${r.name}:${r.pods}]` : r.pod.name))).toEqual(['[:1]', 'd', '[n1:1]', 'c', '[n2:2]', 'a', 'b']);
    expect(podRows(s.pods.values(), s.nodes, { text: 'N2' }).length).toBe(3);
  });

  it('sums what live pods request per node; finished pods hold nothing', () => {
    const s = new Store();
    s.apply([{ kind: 'pods', type: 'SYNC', objects: [pod('a', 'n1'), pod('b', 'n1'), pod('c', 'n1', {}, 'Succeeded'), pod('d', '')] }]);
    expect(nodeUsage(s.pods.values()).get('n1')).toEqual({ cpuMillis: 500, memoryBytes: 128 << 20, pods: 2 });
    expect(nodeUsage(s.pods.values()).has('')).toBe(false);
  });

  it('orders a pod timeline: deletion request, events in resourceVersion order within a second, removal last', () => {
    const s = new Store();
    const deleting = pod('web', 'n1', { uid: 'u1', deletionTimestamp: '2024-05-01T10:00:10Z', deletionGracePeriodSeconds: 10 });
    s.apply([
      add('pods', deleting),
      // Same second: the resourceVersion tells the order, not the arrival.
      add('events', event('k2', 'u1', 'PreStopHookFinished', '2024-05-01T10:00:00Z', 12)),
      add('events', event('k1', 'u1', 'Killing', '2024-05-01T10:00:00Z', 11)),
      add('events', event('k3', 'u1', 'ContainersGone', '2024-05-01T10:00:04Z', 13)),
      add('events', event('other', 'u2', 'Started', '2024-05-01T10:00:01Z', 14)),
    ]);
    s.apply([{ kind: 'pods', type: 'DELETED', object: deleting }], Date.parse('2024-05-01T10:00:05Z'));
    const labels = podTimeline(s, 'u1', undefined).map((e) => e.label);
    // The deletion request stays on the timeline of a pod that is gone.
    expect(labels).toEqual(['DeletionRequested', 'Killing', 'PreStopHookFinished', 'ContainersGone', 'Removed']);
    const live = new Store();
    live.apply([add('pods', deleting), add('events', event('k1', 'u1', 'Killing', '2024-05-01T10:00:00Z', 11))]);
    expect(podTimeline(live, 'u1', live.pods.get('default/web')).map((e) => e.label)).toEqual(['DeletionRequested', 'Killing']);
  });

  it('counts down to the grace deadline, then past it', () => {
    expect(countdown(10_000, 2_500)).toBe('7s left');
    expect(countdown(10_000, 12_000)).toBe('2s past the deadline');
    expect(countdown(10_000, 10_500)).toBe('1s past the deadline');
  });

  it('filters events by type and text, newest first', () => {
    const s = new Store();
    s.apply([
      add('events', event('a', 'u', 'Scheduled', '2024-05-01T10:00:00Z', 1)),
      add('events', event('b', 'u', 'BackOff', '2024-05-01T10:00:05Z', 2, 'Warning')),
      add('events', event('c', 'u', 'Started', '2024-05-01T10:00:09Z', 3)),
    ]);
    expect(filterEvents(s.events.values(), { type: 'all', text: '' }).map((e) => e.reason)).toEqual(['Started', 'BackOff', 'Scheduled']);
    expect(filterEvents(s.events.values(), { type: 'Warning', text: '' }).map((e) => e.reason)).toEqual(['BackOff']);
    expect(filterEvents(s.events.values(), { type: 'all', text: 'sched' }).map((e) => e.reason)).toEqual(['Scheduled']);
  });

  it('reads endpoints from EndpointSlices (terminating ones marked), else from Endpoints', () => {
    const s = new Store();
    s.apply([
      { kind: 'endpointslices', type: 'SYNC', objects: [] },
      add('endpointslices', {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
        endpoints: [
          { addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { name: 'web-1' } },
          { addresses: ['10.0.0.2'], conditions: { ready: false, serving: true, terminating: true }, targetRef: { name: 'web-2' } },
        ],
      } as KubeObject),
    ]);
    const r = serviceEndpoints(s, 'default/web');
    expect(r.source).toBe('slices');
    expect(r.endpoints.map((e) => [e.pod, e.ready, e.terminating])).toEqual([
      ['web-1', true, false],
      ['web-2', false, true],
    ]);
    const old = new Store();
    old.apply([
      { kind: 'endpointslices', type: 'STATE', state: { phase: 'unavailable', message: 'not found' } },
      { kind: 'endpoints', type: 'SYNC', objects: [{ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], notReadyAddresses: [{ ip: '10.0.0.3' }] }] } as KubeObject] },
    ]);
    expect(serviceEndpoints(old, 'default/web').endpoints.map((e) => [e.ip, e.ready])).toEqual([
      ['10.0.0.1', true],
      ['10.0.0.3', false],
    ]);
    expect(serviceEndpoints(new Store(), 'default/web').source).toBe('none');
  });
});

describe('Batcher', () => {
  it('flushes the first change at once, then at most once per interval', () => {
    let now = 0;
    const timers: { at: number; fn: () => void }[] = [];
    const flushed: number[][] = [];
    const b = new Batcher<number>((items) => flushed.push(items), 100, { now: () => now, setTimeout: (fn, ms) => timers.push({ at: now + ms, fn }) });
    const runDue = () => {
      timers.sort((x, y) => x.at - y.at);
      while (timers.length > 0 && timers[0].at <= now) (timers.shift() as { fn: () => void }).fn();
    };
    b.push(1);
    runDue();
    expect(flushed).toEqual([[1]]);
    now = 10;
    b.push(2);
    b.push(3);
    runDue();
    expect(flushed).toEqual([[1]]);
    now = 100;
    runDue();
    expect(flushed).toEqual([[1], [2, 3]]);
  });
});
