import type { KubeObject } from '@peapod/api';
import { WatchCache } from './watch-cache';
import type { StoreEvent } from './types';

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
