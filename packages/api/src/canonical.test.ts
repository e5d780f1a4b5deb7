import fc from 'fast-check';
import { canonicalJson, copyJson, sameJson } from './canonical';

/** JSON-like values with undefined members, small key sets (so that equal objects occur) and shuffled key order. */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.constantFrom(null, undefined, true, false, 0, 1, '', 'a', 'b'), fc.integer({ min: -3, max: 3 })),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('node'), { maxKeys: 3 })),
})).node;

function shuffledCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shuffledCopy);
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).reverse();
    return Object.fromEntries(keys.map((k) => [k, shuffledCopy((v as Record<string, unknown>)[k])]));
  }
  return v;
}

describe('sameJson', () => {
  it('says what comparing canonicalJson says', () => {
    fc.assert(fc.property(value, value, (a, b) => sameJson(a, b) === (canonicalJson(a) === canonicalJson(b))), { numRuns: 5000 });
  });

  it('ignores key order and undefined members, not null ones', () => {
    fc.assert(fc.property(value, (a) => sameJson(a, shuffledCopy(a))));
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1, b: null }, { a: 1 })).toBe(false);
    expect(sameJson([undefined], [null])).toBe(true);
    expect(sameJson({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toBe(false);
    expect(sameJson([], {})).toBe(false);
  });
});

describe('copyJson', () => {
  it('gives what a JSON round trip gives, sharing nothing mutable', () => {
    fc.assert(
      fc.property(value, (a) => {
        if (a === undefined) return;
        const copy = copyJson(a);
        expect(copy).toEqual(JSON.parse(JSON.stringify(a)));
        if (a !== null && typeof a === 'object') expect(copy).not.toBe(a);
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves the original alone when the copy changes', () => {
    const a = { conditions: [{ type: 'Ready', status: 'True' }], ips: [{ ip: '10.0.0.1' }] };
    const copy = copyJson(a);
    copy.conditions[0].status = 'False';
    copy.ips.push({ ip: '10.0.0.2' });
    expect(a).toEqual({ conditions: [{ type: 'Ready', status: 'True' }], ips: [{ ip: '10.0.0.1' }] });
  });
});
