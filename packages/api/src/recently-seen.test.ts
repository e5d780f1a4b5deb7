import { RecentlySeen } from './recently-seen';
import { StringInterner } from './string-interner';

describe('RecentlySeen', () => {
  it('gives the value kept for an equal key, making one only when none is kept', () => {
    const seen = new RecentlySeen<object>(8);
    let made = 0;
    const make = () => ({ n: ++made });
    const first = seen.get('a', make);
    expect(seen.get('a', make)).toBe(first);
    expect(seen.get('b', make)).not.toBe(first);
    expect(made).toBe(2);
  });

  it('keeps a value used in the generation before, and drops one left unused for a whole generation', () => {
    const seen = new RecentlySeen<string>(2);
    const a = seen.get('a', () => 'a1');
    seen.get('b', () => 'b1');
    // A third value starts a generation: a and b are the previous one.
    seen.get('c', () => 'c1');
    expect(seen.get('a', () => 'a2')).toBe(a);
    // d starts another: b, unused since, leaves the table; a moved up and stays.
    seen.get('d', () => 'd1');
    expect(seen.get('b', () => 'b2')).toBe('b2');
    expect(seen.get('a', () => 'a3')).toBe(a);
    expect(seen.size).toBeLessThanOrEqual(4);
  });

  it('never holds more than two generations', () => {
    const seen = new RecentlySeen<number>(100);
    for (let i = 0; i < 10_000; i++) seen.get(`key-${i}`, () => i);
    expect(seen.size).toBeLessThanOrEqual(200);
  });

  it('refuses a generation of no values', () => {
    expect(() => new RecentlySeen(0)).toThrow(/at least one/);
  });
});
