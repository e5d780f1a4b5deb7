import type { Queuing } from './bootstrap';
import { flowHash, QueueSet, type RejectReason } from './queue-set';

/** A request's life in the set, for the tests to drive. */
interface Probe {
  started: boolean;
  rejected?: RejectReason;
  finish(): void;
  cancel(): void;
}

/** queuing null: a level that rejects rather than queues. */
function harness(limit: number, queuing: Queuing | null = { queues: 64, handSize: 6, queueLengthLimit: 50 }) {
  let now = 0;
  const set = new QueueSet(limit, queuing ?? undefined, () => now);
  const order: string[] = [];
  const send = (flow: string, width = 1, tag = flow): Probe => {
    const p: Probe = { started: false, finish: () => {}, cancel: () => {} };
    p.cancel = set.request(
      flow,
      width,
      (finish) => {
        p.started = true;
        order.push(tag);
        p.finish = finish;
      },
      (reason) => {
        p.rejected = reason;
      },
    );
    return p;
  };
  return { set, send, order, advance: (s: number) => (now += s) };
}

describe('QueueSet', () => {
  it('starts requests at once while seats are free and queues the rest until one ends', () => {
    const { set, send } = harness(2);
    const [a, b, c] = [send('x'), send('x'), send('x')];
    expect([a.started, b.started, c.started]).toEqual([true, true, false]);
    expect(set.executing).toBe(2);
    expect(set.queued).toBe(1);
    a.finish();
    expect(c.started).toBe(true);
    expect(set.queued).toBe(0);
    // A second finish of the same request frees nothing more.
    a.finish();
    expect(set.executing).toBe(2);
  });

  it("lets a quiet flow's request go before a flooding flow's backlog", () => {
    const { send, order, advance } = harness(1);
    const flood = Array.from({ length: 40 }, (_, i) => send('flood', 1, `flood-${i}`));
    const quiet = send('quiet');
    expect(quiet.started).toBe(false);
    // Serve one request at a time, each taking 10 ms.
    for (let i = 0; i < 10 && !quiet.started; i++) {
      advance(0.01);
      const running = [...flood, quiet].find((p) => p.started && !(p as { done?: boolean }).done)!;
      (running as { done?: boolean }).done = true;
      running.finish();
    }
    expect(quiet.started).toBe(true);
    // The flood spreads over its hand of 6 queues; the quiet flow's queue is served among them.
    expect(order.indexOf('quiet')).toBeLessThanOrEqual(7);
  });

  it('serves two flooding flows about equally', () => {
    const { send, order, advance } = harness(1, { queues: 2, handSize: 1, queueLengthLimit: 100 });
    const probes: Probe[] = [];
    const [one, other] = flowsOnDistinctQueues();
    for (let i = 0; i < 30; i++) probes.push(send(one), send(other));
    for (let i = 0; i < 40; i++) {
      advance(0.01);
      const running = probes.find((p) => p.started && !(p as { done?: boolean }).done)!;
      (running as { done?: boolean }).done = true;
      running.finish();
    }
    const served = order.slice(0, 41);
    const ofOne = served.filter((f) => f === one).length;
    expect(Math.abs(ofOne - (served.length - ofOne))).toBeLessThanOrEqual(2);
  });

  it("turns a request away when its flow's shortest queue is full", () => {
    const { send } = harness(1, { queues: 1, handSize: 1, queueLengthLimit: 2 });
    const [running, q1, q2, over] = [send('x'), send('x'), send('x'), send('x')];
    expect(running.started).toBe(true);
    expect([q1.rejected, q2.rejected]).toEqual([undefined, undefined]);
    expect(over.rejected).toBe('queue-full');
  });

  it('turns a request away at once on a level without queues', () => {
    const { send } = harness(1, null);
    const [a, b] = [send('x'), send('x')];
    expect(a.started).toBe(true);
    expect(b.rejected).toBe('concurrency-limit');
  });

  it('turns away requests that waited too long, the oldest first', () => {
    const { set, send, advance } = harness(1);
    send('x');
    const old = send('x');
    advance(10);
    const recent = send('x');
    advance(6);
    set.expire(15);
    expect(old.rejected).toBe('time-out');
    expect(recent.rejected).toBeUndefined();
    expect(set.queued).toBe(1);
  });

  it('drops a queued request whose client went away', () => {
    const { set, send } = harness(1);
    const running = send('x');
    const gone = send('x');
    const next = send('x');
    gone.cancel();
    expect(set.queued).toBe(1);
    running.finish();
    expect(gone.started).toBe(false);
    expect(next.started).toBe(true);
  });

  it('holds a wide request until it has all its seats, and caps its width at the limit', () => {
    const { set, send } = harness(4);
    const [a, b] = [send('x'), send('x')];
    const wide = send('y', 3);
    expect(wide.started).toBe(false);
    a.finish();
    expect(wide.started).toBe(true);
    expect(set.executing).toBe(4);
    b.finish();
    wide.finish();
    const huge = send('z', 40);
    expect(huge.started).toBe(true);
    expect(set.executing).toBe(4);
  });

  it('takes seats at once only while they are free and nothing waits; release starts what waits', () => {
    const { set, send } = harness(3);
    expect(set.take(2)).toBe(2);
    const wide = send('x', 2);
    expect(wide.started).toBe(false);
    // A seat is free, but a request waits for it: a newcomer does not jump the queue.
    expect(set.take(1)).toBe(0);
    set.release(2);
    expect(wide.started).toBe(true);
    expect(set.take(1)).toBe(1);
    expect(set.take(1)).toBe(0);
    expect(set.executing).toBe(3);
  });

  it('caps what take takes at the limit, and takes at least one seat', () => {
    const { set } = harness(2);
    expect(set.take(10)).toBe(2);
    set.release(2);
    expect(set.take(0)).toBe(1);
    expect(set.executing).toBe(1);
  });
});

describe('flowHash', () => {
  it('is stable and spreads flows', () => {
    expect(flowHash('global-default/alice')).toBe(flowHash('global-default/alice'));
    const hashes = new Set(Array.from({ length: 1000 }, (_, i) => flowHash(`flow-${i}`) % 128));
    expect(hashes.size).toBeGreaterThan(100);
  });
});

/** Two flows whose one-card hands of two queues are different queues. */
function flowsOnDistinctQueues(): [string, string] {
  const byQueue = new Map<number, string>();
  for (let i = 0; byQueue.size < 2; i++) byQueue.set(flowHash(`flow-${i}`) % 2, `flow-${i}`);
  return [byQueue.get(0)!, byQueue.get(1)!];
}
