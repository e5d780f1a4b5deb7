import { RestartBackoff } from './backoff';

describe('RestartBackoff', () => {
  it('restarts at once the first time, then waits base, doubling up to the maximum', () => {
    const b = new RestartBackoff(10_000, 300_000);
    const t = 1_000_000;
    expect(b.remaining('k', t, t)).toBe(0);
    expect(b.next('k', t)).toBe(10_000);
    expect(b.remaining('k', t + 1000, t + 1000)).toBe(10_000);
    expect(b.remaining('k', t + 1000, t + 6000)).toBe(5000);
    const delays = [b.next('k', t + 20_000)];
    for (let i = 0; i < 8; i++) delays.push(b.next('k', t + 30_000 + i));
    expect(delays).toEqual([20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000, 300_000, 300_000]);
  });

  it('starts over after a quiet spell of twice the maximum, and forgets a pod', () => {
    const b = new RestartBackoff(1000, 4000);
    b.next('u/a', 0);
    b.next('u/a', 1);
    expect(b.delay('u/a', 2)).toBe(2000);
    expect(b.delay('u/a', 10_000)).toBe(0);
    expect(b.next('u/a', 10_000)).toBe(1000);
    b.forgetPrefix('u/');
    expect(b.delay('u/a', 10_001)).toBe(0);
  });
});
