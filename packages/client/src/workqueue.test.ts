import { createLogger } from './log';
import { WorkQueue } from './workqueue';

const quiet = createLogger('test', { write: () => undefined });

describe('WorkQueue', () => {
  afterEach(() => jest.useRealTimers());

  it('deduplicates keys waiting to be processed and keeps their order', async () => {
    const q = new WorkQueue<string>({ logger: quiet });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never hands out a key that is being processed; re-adds it when done', async () => {
    const q = new WorkQueue<string>({ logger: quiet });
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    q.add('b');
    expect(await q.get()).toBe('b');
    q.done('b');
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('wakes a waiting get', async () => {
    const q = new WorkQueue<string>({ logger: quiet });
    const next = q.get();
    q.add('x');
    await expect(next).resolves.toBe('x');
  });

  it('addAfter adds later, and the earliest of several delays wins', async () => {
    jest.useFakeTimers();
    const q = new WorkQueue<string>({ logger: quiet });
    q.addAfter('k', 100);
    q.addAfter('k', 50);
    q.addAfter('k', 200);
    q.addAfter('now', 0);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('now');
    jest.advanceTimersByTime(49);
    expect(q.len()).toBe(0);
    jest.advanceTimersByTime(1);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('k');
    q.done('k');
    jest.advanceTimersByTime(500);
    expect(q.len()).toBe(0);
  });

  it('addRateLimited backs off per key, doubling to the cap, until forget', () => {
    jest.useFakeTimers();
    const q = new WorkQueue<string>({ baseDelayMs: 10, maxDelayMs: 35, logger: quiet });
    const delayUntilQueued = (key: string): number => {
      q.addRateLimited(key);
      let waited = 0;
      while (q.len() === 0) {
        jest.advanceTimersByTime(1);
        waited++;
      }
      void q.get();
      q.done(key);
      return waited;
    };
    expect([delayUntilQueued('a'), delayUntilQueued('a'), delayUntilQueued('a'), delayUntilQueued('a')]).toEqual([10, 20, 35, 35]);
    expect(q.numRequeues('a')).toBe(4);
    expect(delayUntilQueued('b')).toBe(10);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    expect(delayUntilQueued('a')).toBe(10);
  });

  it('shutdown releases waiters and ignores later adds', async () => {
    jest.useFakeTimers();
    const q = new WorkQueue<string>({ logger: quiet });
    const waiting = q.get();
    q.addAfter('later', 10);
    q.shutdown();
    await expect(waiting).resolves.toBeUndefined();
    q.add('x');
    jest.advanceTimersByTime(20);
    expect(q.len()).toBe(0);
    await expect(q.get()).resolves.toBeUndefined();
    expect(q.isShuttingDown()).toBe(true);
  });

  it('run processes keys with several workers, one key at a time, retrying failures', async () => {
    const q = new WorkQueue<string>({ baseDelayMs: 1, logger: quiet });
    const active = new Set<string>();
    let overlap = false;
    const attempts = new Map<string, number>();
    const processed: string[] = [];
    const handler = async (key: string): Promise<void> => {
      if (active.has(key)) overlap = true;
      active.add(key);
      await new Promise((r) => setTimeout(r, 2));
      active.delete(key);
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      if (key === 'flaky' && n < 3) throw new Error('not yet');
      processed.push(key);
    };
    const running = q.run(handler, 3);
    for (const k of ['a', 'flaky', 'b']) q.add(k);
    // Re-adding keys while they are being processed must not run them twice at once.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1));
      q.add('a');
      q.add('b');
    }
    while (!processed.includes('flaky')) await new Promise((r) => setTimeout(r, 2));
    q.shutdown();
    await running;
    expect(overlap).toBe(false);
    expect(attempts.get('flaky')).toBe(3);
    expect(processed).toContain('flaky');
    expect(q.numRequeues('flaky')).toBe(0);
  });
});
