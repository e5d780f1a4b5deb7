import { microTime, rfc3339 } from './time';

describe('timestamps', () => {
  const at = new Date('2024-05-01T10:00:00.123Z');

  it('writes metav1.Time to the second', () => {
    expect(rfc3339(at)).toBe('2024-05-01T10:00:00Z');
  });

  it('writes each second as its own, one after another (the last one is kept)', () => {
    expect(rfc3339(new Date('2024-05-01T10:00:00.999Z'))).toBe('2024-05-01T10:00:00Z');
    expect(rfc3339(new Date('2024-05-01T10:00:01.000Z'))).toBe('2024-05-01T10:00:01Z');
    expect(rfc3339(new Date('1969-12-31T23:59:59.500Z'))).toBe('1969-12-31T23:59:59Z');
    expect(rfc3339(new Date('1970-01-01T00:00:00.000Z'))).toBe('1970-01-01T00:00:00Z');
    expect(() => rfc3339(new Date(NaN))).toThrow(RangeError);
  });

  it('writes metav1.MicroTime with six fractional digits', () => {
    expect(microTime(at)).toBe('2024-05-01T10:00:00.123000Z');
  });
});
