import { createLogger } from '@peapod/client';
import { PodWorkers } from './pod-workers';

const log = createLogger('test', { level: 'error' });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('PodWorkers', () => {
  it('never runs two syncs of one pod at once, and coalesces requests made meanwhile into one', async () => {
    const gate = deferred();
    const calls: string[] = [];
    let active = 0;
    let maxActive = 0;
    const workers = new PodWorkers(async (uid) => {
      active++;
      maxActive = Math.max(maxActive, active);
      calls.push(uid);
      if (calls.length === 1) await gate.promise;
      active--;
    }, log);
    workers.sync('a');
    workers.sync('a');
    workers.sync('a');
    workers.sync('a');
    expect(workers.isBusy('a')).toBe(true);
    gate.resolve();
    await workers.idle();
    expect(calls).toEqual(['a', 'a']);
    expect(maxActive).toBe(1);
  });

  it('runs different pods concurrently: a slow pod does not hold up another', async () => {
    const slow = deferred();
    const finished: string[] = [];
    const workers = new PodWorkers(async (uid) => {
      if (uid === 'slow') await slow.promise;
      finished.push(uid);
    }, log);
    workers.sync('slow');
    workers.sync('fast');
    await new Promise((r) => setImmediate(r));
    expect(finished).toEqual(['fast']);
    slow.resolve();
    await workers.idle();
    expect(finished).toEqual(['fast', 'slow']);
  });

  it('requeues after the delay a sync asks for, and retries a failing sync with back-off', async () => {
    const times: number[] = [];
    let failures = 0;
    const start = Date.now();
    const workers = new PodWorkers(
      async () => {
        times.push(Date.now() - start);
        if (times.length === 1) return { requeueAfterMs: 50 };
        if (failures < 2) {
          failures++;
          throw new Error('boom');
        }
        return { done: true };
      },
      log,
      { retryMs: 20 },
    );
    workers.sync('a');
    while (times.length < 4) await new Promise((r) => setTimeout(r, 10));
    await workers.idle();
    expect(times[1]).toBeGreaterThanOrEqual(45);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(15);
    expect(times[3] - times[2]).toBeGreaterThanOrEqual(35);
    expect(workers.uids()).toEqual([]);
    workers.stop();
  });

  it('lets the earliest of several delayed requests win', async () => {
    const calls: number[] = [];
    const start = Date.now();
    const workers = new PodWorkers(async () => {
      calls.push(Date.now() - start);
    }, log);
    workers.syncAfter('a', 500);
    workers.syncAfter('a', 30);
    workers.syncAfter('a', 400);
    await new Promise((r) => setTimeout(r, 150));
    await workers.idle();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeLessThan(150);
    workers.stop();
  });
});
