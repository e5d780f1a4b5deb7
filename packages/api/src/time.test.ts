import { microTime, rfc3339 } from './time';

describe('timestamps', () => {
  const at = new Date('2024-05-01T10:00:00.123Z');

  it('writes metav1.Time to the second', () => {
    expect(rfc3339(at)).toBe('2024-05-01T10:00:00Z');
  });

  it('writes metav1.MicroTime with six fractional digits', () => {
    expect(microTime(at)).toBe('2024-05-01T10:00:00.123000Z');
  });
});
