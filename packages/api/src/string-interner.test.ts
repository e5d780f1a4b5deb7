import { StringInterner } from './string-interner';

// Whether two equal strings are one string is not observable from JavaScript; a V8 heap
// snapshot would show it. What is tested: values come back equal, in place, and the table
// bounds itself.
describe('StringInterner', () => {
  it('keeps every value equal, in nested objects and arrays, in place', () => {
    const pod = JSON.parse(
      JSON.stringify({
        metadata: { name: 'a', labels: { app: 'web' }, ownerReferences: [{ kind: 'ReplicationController', controller: true }] },
        spec: { containers: [{ name: 'app', image: 'busybox', args: ['sleep', '3600'] }], terminationGracePeriodSeconds: 30 },
        status: { conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }], message: 'x'.repeat(100) },
      }),
    );
    const copy = structuredClone(pod);
    const interner = new StringInterner();
    expect(interner.internValues(pod)).toBe(pod);
    expect(pod).toEqual(copy);
    expect(interner.internValues(structuredClone(copy))).toEqual(copy);
  });

  it('leaves values that are not objects alone', () => {
    const interner = new StringInterner();
    expect(interner.internValues('Ready')).toBe('Ready');
    expect(interner.internValues(null)).toBeNull();
    expect(interner.internValues(3)).toBe(3);
  });

  it('starts its table again when it is full, values staying equal', () => {
    const interner = new StringInterner(4);
    const values = Array.from({ length: 50 }, (_, i) => ({ name: `pod-${i}`, phase: 'Running' }));
    for (const v of values) interner.internValues(v);
    expect(values.map((v) => v.name)).toEqual(Array.from({ length: 50 }, (_, i) => `pod-${i}`));
    expect(values.every((v) => v.phase === 'Running')).toBe(true);
    expect((interner as unknown as { table: Map<string, string> }).table.size).toBeLessThanOrEqual(4);
  });

  it('gives one string for equal strings read from different JSON', () => {
    const interner = new StringInterner();
    const [a, b] = [JSON.parse('{"s":"default-scheduler"}').s, JSON.parse('{"s":"default-scheduler"}').s] as string[];
    expect(interner.intern(a)).toBe(a);
    expect(interner.intern(b)).toBe(a);
  });
});
