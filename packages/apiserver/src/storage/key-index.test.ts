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
});
