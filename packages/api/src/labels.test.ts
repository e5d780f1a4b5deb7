import fc from 'fast-check';
import { nothingSelector, parseLabelSelector, selectorFromLabelSelector, selectorFromSet, SelectorParseError } from './labels';

const web = { app: 'web', tier: 'frontend', env: 'prod' };
const db = { app: 'db', tier: 'backend' };

function matching(sel: string): string[] {
  const s = parseLabelSelector(sel);
  const out: string[] = [];
  if (s.matches(web)) out.push('web');
  if (s.matches(db)) out.push('db');
  if (s.matches(undefined)) out.push('none');
  return out;
}

describe('parseLabelSelector', () => {
  it('treats an empty or blank string as match-everything', () => {
    for (const s of ['', '   ']) {
      const sel = parseLabelSelector(s);
      expect(sel.empty).toBe(true);
      expect(sel.matches(undefined)).toBe(true);
      expect(sel.toString()).toBe('');
    }
  });

  it.each<[string, string[]]>([
    ['app=web', ['web']],
    ['app==web', ['web']],
    ['app!=web', ['db', 'none']],
    ['app in (web,db)', ['web', 'db']],
    ['app notin (web)', ['db', 'none']],
    ['env', ['web']],
    ['!env', ['db', 'none']],
    ['app=web,tier=frontend', ['web']],
    ['app=web,tier=backend', []],
    ['tier in (frontend, backend),!env', ['db']],
    ['  app   in(  web ,db )  ,  tier != backend ', ['web']],
    ['env=', []],
    ['app in (web,)', ['web']],
  ])('%s', (sel, want) => {
    expect(matching(sel)).toEqual(want);
  });

  it('matches an empty value when asked', () => {
    expect(parseLabelSelector('a=').matches({ a: '' })).toBe(true);
    expect(parseLabelSelector('a in (x,)').matches({ a: '' })).toBe(true);
  });

  it('supports gt and lt on integer values', () => {
    expect(parseLabelSelector('n>3').matches({ n: '4' })).toBe(true);
    expect(parseLabelSelector('n>3').matches({ n: '3' })).toBe(false);
    expect(parseLabelSelector('n<3').matches({ n: 'x' })).toBe(false);
    expect(() => parseLabelSelector('n>x')).toThrow(SelectorParseError);
  });

  it('does not see inherited properties as labels', () => {
    expect(parseLabelSelector('constructor').matches({})).toBe(false);
    expect(parseLabelSelector('!toString').matches({})).toBe(true);
  });

  it('prints a canonical form sorted by key with sorted sets', () => {
    expect(parseLabelSelector('z=1, a in (c,b,c), !m,k, x!=y').toString()).toBe('a in (b,c),k,!m,x!=y,z=1');
    expect(parseLabelSelector('a==b').toString()).toBe('a==b');
  });

  it('round-trips through its string form', () => {
    const sel = parseLabelSelector('b notin (y,x),a,c=d');
    expect(parseLabelSelector(sel.toString()).toString()).toBe(sel.toString());
  });

  it.each<[string, RegExp]>([
    ['=a', /found '=', expected: '!' or identifier/],
    ['a=b,', /found end of string, expected: '!' or identifier/],
    ['a b', /found 'b', expected: in, notin/],
    ['a in b', /expected: '\('/],
    ['a in (b', /expected: ',' or '\)'/],
    ['a in ()', /values set can't be empty/],
    ['a=b=c', /found '=', expected: ',' or end of string/],
    ['a=(b)', /expected: identifier as value/],
    ['!', /expected: identifier after '!'/],
    ['-a=b', /invalid label key "-a"/],
    ['a=b c', /found 'c'/],
    ['a=-b', /invalid label value: "-b": at key: "a"/],
    ['a in (ok,bad value)', /found 'value'/],
  ])('rejects %j', (sel, msg) => {
    expect(() => parseLabelSelector(sel)).toThrow(SelectorParseError);
    expect(() => parseLabelSelector(sel)).toThrow(msg);
  });

  it('agrees with a set of equalities on random label maps', () => {
    const key = fc.constantFrom('a', 'b', 'c');
    const value = fc.constantFrom('x', 'y', '');
    fc.assert(
      fc.property(fc.dictionary(key, value), fc.dictionary(key, value), (want, labels) => {
        const sel = selectorFromSet(want);
        const expected = Object.entries(want).every(([k, v]) => labels[k] === v);
        expect(sel.matches(labels)).toBe(expected);
        expect(parseLabelSelector(sel.toString()).matches(labels)).toBe(expected);
      }),
    );
  });
});

describe('selectorFromSet', () => {
  it('requires every pair', () => {
    const sel = selectorFromSet({ app: 'web', env: 'prod' });
    expect(sel.matches(web)).toBe(true);
    expect(sel.matches(db)).toBe(false);
    expect(sel.toString()).toBe('app=web,env=prod');
  });

  it('matches everything when empty', () => {
    expect(selectorFromSet({}).empty).toBe(true);
    expect(selectorFromSet(undefined).matches(db)).toBe(true);
  });

  it('rejects invalid keys', () => {
    expect(() => selectorFromSet({ 'a b': 'c' })).toThrow(SelectorParseError);
  });
});

describe('selectorFromLabelSelector', () => {
  it('combines matchLabels and matchExpressions', () => {
    const sel = selectorFromLabelSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['frontend'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'env', operator: 'Exists' },
        { key: 'zone', operator: 'NotIn', values: ['a'] },
      ],
    });
    expect(sel.matches(web)).toBe(true);
    expect(sel.matches({ ...web, canary: 'true' })).toBe(false);
    expect(sel.matches(db)).toBe(false);
    expect(sel.toString()).toBe('app=web,!canary,env,tier in (frontend),zone notin (a)');
  });

  it('matches everything when empty and nothing when absent', () => {
    expect(selectorFromLabelSelector({}).matches(undefined)).toBe(true);
    expect(selectorFromLabelSelector(undefined)).toBe(nothingSelector);
    expect(selectorFromLabelSelector(null).matches(web)).toBe(false);
  });

  it('rejects unknown operators and bad value sets', () => {
    expect(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Equals' }] })).toThrow(
      '"Equals" is not a valid label selector operator',
    );
    expect(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toThrow(
      SelectorParseError,
    );
    expect(() =>
      selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
    ).toThrow(/must be empty/);
  });
});
