import { createLogger } from '@peapod/client';
import { PodWorkers, type PodPhases, type SyncOutcome, type Termination } from './pod-workers';

const log = createLogger('test', { level: 'error' });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Phases of pods that are never terminated: only syncPod is called. */
function syncOnly(syncPod: (uid: string) => Promise<SyncOutcome | void>): PodPhases {
  const unexpected = async (): Promise<never> => {
    throw new Error('no termination was asked for');
  };
  return { syncPod, syncTerminatingPod: unexpected, syncTerminatedPod: unexpected };
}

describe('PodWorkers', () => {
  it('never runs two syncs of one pod at once, and coalesces requests made meanwhile into one', async () => {
    const gate = deferred();
    const calls: string[] = [];
    let active = 0;
    let maxActive = 0;
    const workers = new PodWorkers(syncOnly(async (uid) => {
      active++;
      maxActive = Math.max(maxActive, active);
      calls.push(uid);
      if (calls.length === 1) await gate.promise;
      active--;
    }), log);
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
    const workers = new PodWorkers(syncOnly(async (uid) => {
      if (uid === 'slow') await slow.promise;
      finished.push(uid);
    }), log);
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
      syncOnly(async () => {
        times.push(Date.now() - start);
        if (times.length === 1) return { requeueAfterMs: 50 };
        if (failures < 2) {
          failures++;
          throw new Error('boom');
        }
        return { done: true };
      }),
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
    const workers = new PodWorkers(syncOnly(async () => {
      calls.push(Date.now() - start);
    }), log);
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

/** Phases that record each call; the terminating phase waits for its gate (or its interruption). */
function recordingPhases() {
  const calls: { phase: string; deadline?: number; gone?: boolean }[] = [];
  let gate = deferred();
  const phases: PodPhases = {
    syncPod: async () => {
      calls.push({ phase: 'sync' });
    },
    syncTerminatingPod: async (_uid: string, t: Termination) => {
      calls.push({ phase: 'terminating', deadline: t.deadline, gone: t.gone });
      await Promise.race([gate.promise, new Promise((r) => t.signal.addEventListener('abort', r))]);
    },
    syncTerminatedPod: async (_uid: string, t: Termination) => {
      calls.push({ phase: 'terminated', gone: t.gone });
      return t.gone ? { done: true } : {};
    },
  };
  return { calls, phases, open: () => gate.resolve(), reset: () => (gate = deferred()) };
}

describe('PodWorkers phases', () => {
  it('moves a pod from syncing to terminating to terminated, and drops it once gone', async () => {
    const r = recordingPhases();
    const workers = new PodWorkers(r.phases, log);
    workers.sync('a');
    await workers.idle();
    expect(workers.phase('a')).toBe('syncing');
    workers.terminate('a', { deadline: 5000, graceSeconds: 5 });
    expect(workers.phase('a')).toBe('terminating');
    r.open();
    await workers.idle();
    expect(workers.phase('a')).toBe('terminated');
    // A sync asked for later runs the terminated phase again, never syncPod.
    workers.sync('a');
    await workers.idle();
    workers.terminate('a', { deadline: 9000, graceSeconds: 2, gone: true });
    await workers.idle();
    expect(r.calls.map((c) => c.phase)).toEqual(['sync', 'terminating', 'terminated', 'terminated', 'terminated']);
    expect(r.calls[4].gone).toBe(true);
    expect(workers.uids()).toEqual([]);
  });

  it('re-enters the terminating phase with a nearer deadline, and never extends one', async () => {
    const r = recordingPhases();
    const workers = new PodWorkers(r.phases, log);
    workers.terminate('a', { deadline: 30_000, graceSeconds: 30 });
    await new Promise((res) => setImmediate(res));
    workers.terminate('a', { deadline: 40_000, graceSeconds: 40 });
    expect(workers.deadline('a')).toBe(30_000);
    workers.terminate('a', { deadline: 3000, graceSeconds: 3 });
    expect(workers.deadline('a')).toBe(3000);
    await new Promise((res) => setImmediate(res));
    r.open();
    await workers.idle();
    expect(r.calls.filter((c) => c.phase === 'terminating').map((c) => c.deadline)).toEqual([30_000, 3000]);
    expect(workers.phase('a')).toBe('terminated');
  });

  it('retries a terminating phase that failed, with the same deadline', async () => {
    const deadlines: number[] = [];
    const workers = new PodWorkers(
      {
        syncPod: async () => undefined,
        syncTerminatingPod: async (_uid, t) => {
          deadlines.push(t.deadline);
          if (deadlines.length === 1) throw new Error('runtime down');
        },
        syncTerminatedPod: async () => ({ done: true }),
      },
      log,
      { retryMs: 10 },
    );
    workers.terminate('a', { deadline: 1234, graceSeconds: 1 });
    while (workers.uids().length > 0) await new Promise((res) => setTimeout(res, 5));
    expect(deadlines).toEqual([1234, 1234]);
    workers.stop();
  });
});
