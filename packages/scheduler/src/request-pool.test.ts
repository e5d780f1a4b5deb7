import { RequestPool } from './request-pool';

/** A request that finishes when the test says so. */
function controlled(log: string[], name: string): { run: () => Promise<string>; finish: () => void; fail: () => void } {
  let finish: () => void = () => undefined;
  let fail: () => void = () => undefined;
  return {
    run: () => {
      log.push(name);
      return new Promise<string>((resolve, reject) => {
        finish = () => resolve(name);
        fail = () => reject(new Error(`${name} failed`));
      });
    },
    finish: () => finish(),
    fail: () => fail(),
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RequestPool', () => {
  it('runs at most `limit` requests at once, the rest as slots free up', async () => {
    const pool = new RequestPool(2);
    const started: string[] = [];
    const requests = ['a', 'b', 'c', 'd'].map((n) => controlled(started, n));
    const results = requests.map((r) => pool.run('bind', r.run));
    expect(started).toEqual(['a', 'b']);
    expect([pool.inFlight, pool.waiting]).toEqual([2, 2]);
    requests[1].finish();
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    requests[0].finish();
    requests[2].finish();
    await tick();
    requests[3].finish();
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd']);
    expect([pool.inFlight, pool.waiting]).toEqual([0, 0]);
  });

  it('starts waiting binds before waiting reports, each kind first come first served', async () => {
    const pool = new RequestPool(1);
    const started: string[] = [];
    const blocker = controlled(started, 'blocker');
    void pool.run('bind', blocker.run);
    const queued = [
      ['report', 'event-1'],
      ['bind', 'bind-1'],
      ['report', 'event-2'],
      ['bind', 'bind-2'],
    ] as const;
    const requests = queued.map(([kind, name]) => {
      const r = controlled(started, name);
      void pool.run(kind, r.run);
      return r;
    });
    blocker.finish();
    for (const r of [requests[1], requests[3], requests[0], requests[2]]) {
      await tick();
      r.finish();
    }
    await tick();
    expect(started).toEqual(['blocker', 'bind-1', 'bind-2', 'event-1', 'event-2']);
  });

  it('gives reports one slot while binds wait or run, and their own few once they are done', async () => {
    const pool = new RequestPool(4, 2);
    const started: string[] = [];
    const bind = controlled(started, 'bind');
    void pool.run('bind', bind.run);
    const reports = ['event-1', 'event-2', 'event-3', 'event-4'].map((n) => {
      const r = controlled(started, n);
      void pool.run('report', r.run);
      return r;
    });
    expect(started).toEqual(['bind', 'event-1']);
    expect([pool.inFlight, pool.waiting]).toEqual([2, 3]);
    reports[0].finish();
    await tick();
    expect(started).toEqual(['bind', 'event-1', 'event-2']);
    bind.finish();
    await tick();
    // Two report slots, though the pool has four.
    expect(started).toEqual(['bind', 'event-1', 'event-2', 'event-3']);
    expect([pool.inFlight, pool.waiting]).toEqual([2, 1]);
    reports[1].finish();
    await tick();
    expect(started).toEqual(['bind', 'event-1', 'event-2', 'event-3', 'event-4']);
  });

  it('passes failures through and frees the slot, also for a request that throws at once', async () => {
    const pool = new RequestPool(1);
    const started: string[] = [];
    const failing = controlled(started, 'failing');
    const first = pool.run('bind', failing.run);
    const second = pool.run('report', () => {
      throw new Error('bad request');
    });
    const third = pool.run('report', async () => 'ok');
    failing.fail();
    await expect(first).rejects.toThrow('failing failed');
    await expect(second).rejects.toThrow('bad request');
    await expect(third).resolves.toBe('ok');
    expect(pool.inFlight).toBe(0);
  });

  it('refuses a limit below one', () => {
    expect(() => new RequestPool(0)).toThrow('at least 1');
  });
});
