import { podSelectorView, type KubeObject } from '@peapod/api';
import { WatchCache } from './watch-cache';
import { selectableOf, type StoreEvent } from './types';

function added(key: string, rev: number, object: KubeObject): StoreEvent {
  return { type: 'ADDED', key, rev, object, json: JSON.stringify(object) };
}

const event = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'a', resourceVersion: '1' }, reason: 'Started' } as KubeObject);
const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'a' } });

describe('WatchCache', () => {
  test('keeps the objects of encodeOnRead resources without their JSON, and reads them back as the same text', () => {
    const cache = new WatchCache({ encodeOnRead: new Set(['events']) });
    const e = added('/events/a/e1', 1, event('e1'));
    const p = added('/pods/a/p1', 2, pod('p1'));
    cache.apply(e);
    cache.apply(p);
    const stored = cache.get('/events/a/e1')!;
    expect(Object.keys(stored)).not.toContain('json');
    expect(stored.json).toBe(e.json);
    expect(stored.object).toBe(e.object);
    expect(cache.list('/events/').items.map((i) => i.json)).toEqual([e.json]);
    // Other resources keep the text they were written with.
    expect(cache.get('/pods/a/p1')!.json).toBe(p.json);
    // A watch from before both still gets each event with its text.
    const seen: string[] = [];
    cache.watch('/events/', 0, { send: (ev) => seen.push(ev.json) }).stop();
    expect(seen).toEqual([e.json]);
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

  test('a load keeps encodeOnRead objects without their JSON too', () => {
    const cache = new WatchCache({ encodeOnRead: new Set(['events']) });
    const object = event('e2');
    const json = JSON.stringify(object);
    cache.load([{ key: '/events/a/e2', rev: 3, object: JSON.parse(json) as KubeObject, json }], 3);
    const stored = cache.get('/events/a/e2')!;
    expect(Object.keys(stored)).not.toContain('json');
    expect(stored.json).toBe(json);
    expect(cache.revision).toBe(3);
  });
});
