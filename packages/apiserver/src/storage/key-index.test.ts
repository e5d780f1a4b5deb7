import fc from 'fast-check';
import { KeyIndex } from './key-index';
import type { StoredEntry } from './types';

function entry(key: string, rev: number): StoredEntry {
  return { key, rev, object: { metadata: { name: key } }, json: '{}' };
}

describe('KeyIndex', () => {
  test('lists by prefix in key order after any mix of sets and deletes, walks between them included', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant<'set'>('set'), key: fc.constantFrom('/pods/a/', '/pods/b/', '/events/a/').chain((p) => fc.string({ maxLength: 3 }).map((s) => p + s)) }),
      fc.record({ kind: fc.constant<'delete'>('delete'), key: fc.constantFrom('/pods/a/x', '/pods/b/', '/events/a/y') }),
      fc.record({ kind: fc.constant<'list'>('list'), key: fc.constantFrom('/pods/', '/pods/a/', '/events/') }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const index = new KeyIndex();
        const model = new Map<string, number>();
        let rev = 0;
        const check = (prefix: string, after?: string): void => {
          const want = [...model.keys()].filter((k) => k.startsWith(prefix) && (after === undefined || k > after)).sort();
          expect([...index.range(prefix, after)].map((e) => e.key)).toEqual(want);
        };
        for (const o of ops) {
          if (o.kind === 'set') {
            index.set(entry(o.key, ++rev));
            model.set(o.key, rev);
          } else if (o.kind === 'delete') {
            index.delete(o.key);
            model.delete(o.key);
          } else {
            check(o.key);
          }
        }
        for (const k of model.keys()) expect(index.get(k)?.rev).toBe(model.get(k));
        check('/pods/');
        check('/pods/', '/pods/a/');
        check('/events/');
      }),
      { numRuns: 300 },
    );
  });

  test('gives entries kept as JSON back with their revision and JSON, beside others, in lists and snapshots', () => {
    const index = new KeyIndex();
    const json = (name: string, rev: number) => JSON.stringify({ metadata: { name, resourceVersion: String(rev) } });
    index.setJson('/events/ns/a', 3, json('a', 3));
    index.set(entry('/events/ns/b', 4));
    index.setJson('/events/ns/c', 5, json('c', 5));
    const snapshot = index.snapshot('events');
    index.setJson('/events/ns/a', 6, json('a', 6));
    expect(index.get('/events/ns/a')).toMatchObject({ key: '/events/ns/a', rev: 6, json: json('a', 6) });
    expect(index.get('/events/ns/a')?.object.metadata.name).toBe('a');
    expect([...index.range('/events/ns/')].map((e) => [e.key, e.rev])).toEqual([['/events/ns/a', 6], ['/events/ns/b', 4], ['/events/ns/c', 5]]);
    expect([...index.range('/events/ns/', '/events/ns/a')].map((e) => e.json)).toEqual(['{}', json('c', 5)]);
    expect([...snapshot.range('/events/')].map((e) => e.rev)).toEqual([3, 4, 5]);
    expect(index.count('events')).toBe(3);
    expect(index.setJson('/events/ns/d', 7, json('d', 7))).toMatchObject({ key: '/events/ns/d', rev: 7, json: json('d', 7) });
  });
});
