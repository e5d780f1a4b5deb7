import { fieldGetter, podSelectorView, type KubeObject } from '@peapod/api';
import { WatchCache } from './watch-cache';
import { ListSnapshotExpiredError, ownObject, selectableOf, type StoreEvent } from './types';

function added(key: string, rev: number, object: KubeObject): StoreEvent {
  return { type: 'ADDED', key, rev, object, json: JSON.stringify(object) };
}

const event = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'a', resourceVersion: '1' }, reason: 'Started' } as KubeObject);
const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'a' } });

describe('WatchCache', () => {
  test('keeps the objects of jsonOnly resources only as their JSON, without a view, and parses them on every read, selectors included', () => {
    const cache = new WatchCache({ jsonOnly: new Set(['events']) });
    const e = added('/events/a/e1', 1, event('e1'));
    const p = added('/pods/a/p1', 2, pod('p1'));
    cache.apply(e);
    cache.apply(p);
    const stored = cache.get('/events/a/e1')!;
    expect(Object.values(stored)).not.toContain(e.object);
    expect(stored.selectable).toBeUndefined();
    expect(stored.json).toBe(e.json);
    expect(stored.object).toEqual(e.object);
    expect(stored.object).not.toBe(stored.object);
    // A caller that changes the object gets one of its own.
    expect(ownObject(stored)).toEqual(e.object);
    expect(ownObject(stored)).not.toBe(ownObject(stored));
    // Filters see the whole object.
    const seenByFilter: KubeObject[] = [];
    const listed = cache.list('/events/', { filter: (o) => (seenByFilter.push(o), (o as { reason?: string }).reason === 'Started') });
    expect(listed.items.map((i) => i.json)).toEqual([e.json]);
    expect(seenByFilter).toEqual([e.object]);
    // A list's required text passes over what lacks it unparsed; the filter still decides on the rest.
    const other = added('/events/a/e3', 3, { ...event('e3'), message: 'e1' } as KubeObject);
    cache.apply(other);
    seenByFilter.length = 0;
    const byName = cache.list('/events/', { filter: (o) => (seenByFilter.push(o), o.metadata.name === 'e1'), contains: ['e1'] });
    expect(byName.items.map((i) => i.key)).toEqual(['/events/a/e1']);
    expect(seenByFilter.map((o) => o.metadata.name)).toEqual(['e1', 'e3']);
    expect(cache.list('/events/', { filter: () => true, contains: ['e1', 'nowhere'] }).items).toEqual([]);
    // Required text narrows only what is kept as text.
    expect(cache.list('/pods/', { filter: () => true, contains: ['nowhere'] }).items.map((i) => i.key)).toEqual(['/pods/a/p1']);
    // Other resources keep what they were written with.
    expect(cache.get('/pods/a/p1')!.object).toBe(p.object);
    // A watch from before both still gets each event with its text.
    const seen: string[] = [];
    cache.watch('/events/', 0, { send: (ev) => seen.push(ev.json) }).stop();
    expect(seen).toEqual([e.json, other.json]);
  });

  test('keeps the objects of parseOnRead resources only as JSON and their selectors\' view, and parses them anew on each read', () => {
    const cache = new WatchCache({ parseOnRead: new Map([['pods', podSelectorView]]) });
    const object = { ...pod('p1'), metadata: { name: 'p1', namespace: 'a', labels: { app: 'web' } }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } } as KubeObject;
    const p = added('/pods/a/p1', 1, object);
    cache.apply(p);
    const stored = cache.get('/pods/a/p1')!;
    expect(Object.values(stored)).not.toContain(object);
    expect(stored.json).toBe(p.json);
    expect(stored.object).toEqual(object);
    expect(stored.object).not.toBe(stored.object);
    expect(selectableOf(stored)).toEqual(podSelectorView(object));
    // Filters read the view: what selectors read is there, the rest is not.
    const seenByFilter: KubeObject[] = [];
    const listed = cache.list('/pods/', { filter: (o) => (seenByFilter.push(o), (o.spec as { nodeName?: string }).nodeName === 'n1') });
    expect(listed.items.map((i) => i.json)).toEqual([p.json]);
    expect(seenByFilter).toEqual([podSelectorView(object)]);
    // A watch indexed by node hears a pod leave its node through the view of the state before.
    const moved = { ...object, spec: { nodeName: 'n2', containers: [{ name: 'c' }] } } as KubeObject;
    const seen: string[] = [];
    const nodeName = (o: KubeObject): string => (o.spec as { nodeName?: string }).nodeName ?? '';
    cache.watch('/pods/', 1, { send: (ev) => seen.push(`${ev.type} ${nodeName(ev.object)}`), index: { field: 'spec.nodeName', value: 'n1', of: nodeName } });
    cache.apply({ type: 'MODIFIED', key: '/pods/a/p1', rev: 2, object: moved, json: JSON.stringify(moved), prev: selectableOf(stored) });
    expect(seen).toEqual(['MODIFIED n2']);
    // Other resources keep their parsed objects.
    const e = added('/events/a/e1', 3, event('e1'));
    cache.apply(e);
    expect(cache.get('/events/a/e1')!.object).toBe(e.object);
  });

  test('keeps recent events of resources kept only as JSON without their parsed objects: a watch from before them still gets each whole', () => {
    const cache = new WatchCache({ jsonOnly: new Set(['events']), parseOnRead: new Map([['pods', podSelectorView]]) });
    const p = added('/pods/a/p1', 1, { ...pod('p1'), metadata: { name: 'p1', namespace: 'a', labels: { app: 'web' } }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } } as KubeObject);
    const e = added('/events/a/e1', 2, event('e1'));
    const n = added('/nodes/n1', 3, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    for (const ev of [p, e, n]) cache.apply(ev);
    const view = cache.get('/pods/a/p1')!.selectable;
    const gone: StoreEvent = { type: 'DELETED', key: '/pods/a/p1', rev: 4, object: p.object, json: p.json, prev: view };
    cache.apply(gone);
    const replay = (prefix: string): StoreEvent[] => {
      const seen: StoreEvent[] = [];
      cache.watch(prefix, 0, { send: (ev) => seen.push(ev) }).stop();
      return seen;
    };
    const [podAdded, podDeleted] = replay('/pods/');
    for (const ev of [podAdded, podDeleted]) {
      expect(Object.values(ev)).not.toContain(p.object);
      expect(ev.object).toEqual(p.object);
      expect(ev.json).toBe(p.json);
    }
    // Filters read the view the stored entry had (or, once deleted, one of the last state).
    expect(podAdded.selectable).toBe(view);
    expect(podDeleted.selectable).toEqual(podSelectorView(p.object));
    expect([podDeleted.type, podDeleted.rev, podDeleted.prev]).toEqual(['DELETED', 4, view]);
    const [eventAdded] = replay('/events/');
    expect(Object.values(eventAdded)).not.toContain(e.object);
    expect(eventAdded.selectable).toBeUndefined();
    expect(eventAdded.object).toEqual(e.object);
    // Other resources keep the event they were given.
    expect(replay('/nodes/')).toEqual([n]);
    expect(replay('/nodes/')[0]).toBe(n);
  });

  test('a load keeps jsonOnly objects only as their JSON too', () => {
    const cache = new WatchCache({ jsonOnly: new Set(['events']) });
    const object = event('e2');
    const json = JSON.stringify(object);
    cache.load([{ key: '/events/a/e2', rev: 3, object: JSON.parse(json) as KubeObject, json }], 3);
    const stored = cache.get('/events/a/e2')!;
    expect(stored.selectable).toBeUndefined();
    expect(stored.json).toBe(json);
    expect(stored.object).toEqual(object);
    expect(cache.revision).toBe(3);
  });
  test('a list selecting one node reads only that node\'s pods through the index, and lists what a walk of every pod lists', () => {
    const nodeName = fieldGetter('pods', 'spec.nodeName')!;
    const cache = new WatchCache({ parseOnRead: new Map([['pods', podSelectorView]]), listIndexes: new Map([['pods', new Map([['spec.nodeName', nodeName]])]]) });
    const onNode = (ns: string, name: string, node: string | undefined): KubeObject =>
      ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: 'c' }] } }) as KubeObject;
    let rev = 0;
    const put = (ns: string, name: string, node: string | undefined, type: 'ADDED' | 'MODIFIED' = 'ADDED') => {
      const object = onNode(ns, name, node);
      cache.apply({ type, key: `/pods/${ns}/${name}`, rev: ++rev, object, json: JSON.stringify(object) });
    };
    // 100 pods over 20 nodes in two namespaces, a few unbound.
    for (let i = 0; i < 100; i++) put(i % 2 ? 'b' : 'a', `p${String(i).padStart(3, '0')}`, i < 95 ? `n${i % 20}` : undefined);
    // Moves and deletions keep the index right.
    put('a', 'p000', 'n7', 'MODIFIED');
    put('b', 'p001', undefined, 'MODIFIED');
    cache.apply({ type: 'DELETED', key: '/pods/a/p020', rev: ++rev, object: onNode('a', 'p020', 'n0'), json: '' });

    const seen: KubeObject[] = [];
    const select = (node: string) => (o: KubeObject) => (seen.push(o), nodeName(o) === node);
    const walk = (prefix: string, node: string, limit?: number, after?: string) => cache.list(prefix, { filter: (o) => nodeName(o) === node, limit, after });
    for (const [prefix, node] of [['/pods/', 'n0'], ['/pods/', 'n7'], ['/pods/a/', 'n1'], ['/pods/b/', 'n1'], ['/pods/', 'n99'], ['/pods/', 'n1']]) {
      seen.length = 0;
      const indexed = cache.list(prefix, { filter: select(node), index: { field: 'spec.nodeName', value: node, of: nodeName } });
      expect(indexed.items.map((e) => e.key)).toEqual(walk(prefix, node).items.map((e) => e.key));
      // Only the node's own pods were looked at.
      expect(seen.every((o) => nodeName(o) === node)).toBe(true);
    }
    // Pages through the index are the walk's pages.
    const page = (after?: string) => cache.list('/pods/', { filter: (o) => nodeName(o) === 'n1', limit: 2, after, index: { field: 'spec.nodeName', value: 'n1', of: nodeName } });
    const first = page();
    expect(first.items.map((e) => e.key)).toEqual(walk('/pods/', 'n1', 2).items.map((e) => e.key));
    expect(page(first.continueAfter).items.map((e) => e.key)).toEqual(walk('/pods/', 'n1', 2, first.continueAfter).items.map((e) => e.key));
    // A value most pods have is walked for, not sorted out of the index: same answer either way.
    for (let i = 0; i < 100; i++) put('c', `q${i}`, 'big');
    const big = cache.list('/pods/', { filter: (o) => nodeName(o) === 'big', index: { field: 'spec.nodeName', value: 'big', of: nodeName } });
    expect(big.items).toHaveLength(100);
    // A reload rebuilds the index from what is loaded.
    cache.load([cache.get('/pods/a/p002')!, cache.get('/pods/c/q5')!].map((e) => ({ key: e.key, rev: e.rev, object: e.object, json: e.json })), rev);
    expect(cache.list('/pods/', { filter: select('n2'), index: { field: 'spec.nodeName', value: 'n2', of: nodeName } }).items.map((e) => e.key)).toEqual(['/pods/a/p002']);
    expect(cache.list('/pods/', { filter: select('n0'), index: { field: 'spec.nodeName', value: 'n0', of: nodeName } }).items).toEqual([]);
  });

  test('the pages of a list cut by its limit are one snapshot, kept until its last page, an idle while, or newer ones push it out', async () => {
    const cache = new WatchCache({ parseOnRead: new Map([['pods', podSelectorView]]) });
    let rev = 0;
    const put = (name: string, image: string, type: 'ADDED' | 'MODIFIED' = 'ADDED') => {
      const object = { ...pod(name), spec: { containers: [{ name: 'c', image }] } } as KubeObject;
      cache.apply({ type, key: `/pods/a/${name}`, rev: ++rev, object, json: JSON.stringify(object) });
    };
    for (const name of ['p0', 'p1', 'p2', 'p3', 'p4', 'p5']) put(name, 'v1');
    cache.apply(added('/events/a/e1', ++rev, event('e1')));
    const image = (e: { object: KubeObject }) => `${e.object.metadata.name}:${(e.object as { spec: { containers: { image: string }[] } }).spec.containers[0].image}`;
    const first = cache.list('/pods/a/', { limit: 2 });
    expect(first.items.map(image)).toEqual(['p0:v1', 'p1:v1']);
    expect(first.rev).toBe(7);
    expect(first.snapshot).toEqual({ rev: 7, id: expect.any(Number) });
    // Changes after the first page: none shows in the pages after it.
    put('p3', 'v2', 'MODIFIED');
    put('p2a', 'v1');
    cache.apply({ type: 'DELETED', key: '/pods/a/p4', rev: ++rev, object: pod('p4'), json: '' });
    put('p9', 'v1');
    const second = cache.list('/pods/a/', { limit: 2, after: first.continueAfter, snapshot: first.snapshot });
    expect(second.items.map(image)).toEqual(['p2:v1', 'p3:v1']);
    expect(second.rev).toBe(7);
    expect(second.snapshot).toEqual(first.snapshot);
    // The same page asked again (an answer lost on the way) is the same.
    expect(cache.list('/pods/a/', { limit: 2, after: first.continueAfter, snapshot: first.snapshot }).items.map(image)).toEqual(['p2:v1', 'p3:v1']);
    const last = cache.list('/pods/a/', { limit: 2, after: second.continueAfter, snapshot: second.snapshot });
    expect(last.items.map(image)).toEqual(['p4:v1', 'p5:v1']);
    expect(last.continueAfter).toBeUndefined();
    expect(last.snapshot).toBeUndefined();
    // The live objects moved on; the snapshot went with its last page.
    expect(cache.list('/pods/a/').items.map(image)).toEqual(['p0:v1', 'p1:v1', 'p2:v1', 'p2a:v1', 'p3:v2', 'p5:v1', 'p9:v1']);
    expect(() => cache.list('/pods/a/', { limit: 2, after: second.continueAfter, snapshot: second.snapshot })).toThrow(ListSnapshotExpiredError);
    // A snapshot is one resource's, at one revision.
    const pods = cache.list('/pods/a/', { limit: 1 });
    expect(() => cache.list('/events/a/', { limit: 1, after: pods.continueAfter, snapshot: pods.snapshot })).toThrow(ListSnapshotExpiredError);
    expect(() => cache.list('/pods/a/', { limit: 1, after: pods.continueAfter, snapshot: { ...pods.snapshot!, rev: 1 } })).toThrow(ListSnapshotExpiredError);

    const small = new WatchCache({ listSnapshots: { idleMs: 40, max: 2 } });
    for (const name of ['p0', 'p1', 'p2']) small.apply(added(`/pods/a/${name}`, ++rev, pod(name)));
    const [a, b, c] = [0, 1, 2].map(() => small.list('/pods/a/', { limit: 1 }));
    expect(() => small.list('/pods/a/', { limit: 1, after: a.continueAfter, snapshot: a.snapshot })).toThrow(ListSnapshotExpiredError);
    expect(small.list('/pods/a/', { limit: 1, after: b.continueAfter, snapshot: b.snapshot }).items.map((e) => e.key)).toEqual(['/pods/a/p1']);
    await new Promise((r) => setTimeout(r, 120));
    expect(() => small.list('/pods/a/', { limit: 1, after: c.continueAfter, snapshot: c.snapshot })).toThrow(ListSnapshotExpiredError);
    small.close();
    cache.close();
  });
});
