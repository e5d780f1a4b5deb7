import { makePod } from './fixtures';
import { SchedulingQueue } from './queue';

describe('SchedulingQueue', () => {
  let now: number;
  let queue: SchedulingQueue;
  beforeEach(() => {
    now = 0;
    queue = new SchedulingQueue({ now: () => now, initialBackoffMs: 1000, maxBackoffMs: 10_000 });
  });

  it('pops higher priority first, then in arrival order', () => {
    queue.add(makePod('a'));
    queue.add(makePod('b'));
    queue.add(makePod('urgent', { spec: { priority: 10 } }));
    expect([queue.tryPop(), queue.tryPop(), queue.tryPop()].map((e) => e?.pod.metadata.name)).toEqual(['urgent', 'a', 'b']);
    expect(queue.tryPop()).toBeUndefined();
  });

  it('does not queue a pod twice', () => {
    const pod = makePod('a');
    queue.add(pod);
    queue.add(pod);
    expect(queue.tryPop()).toBeDefined();
    expect(queue.tryPop()).toBeUndefined();
  });

  it('backs off 1 s doubling to 10 s', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => queue.backoffFor(n))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('retries an unschedulable pod after its back-off when nothing changes', () => {
    queue.add(makePod('a'));
    for (const delay of [1000, 2000, 4000]) {
      const entry = queue.tryPop();
      expect(entry).toBeDefined();
      queue.requeueUnschedulable(entry!);
      now += delay - 1;
      queue.flush();
      expect(queue.tryPop()).toBeUndefined();
      now += 1;
      queue.flush();
    }
    expect(queue.tryPop()?.attempts).toBe(3);
  });

  it('moves unschedulable pods back at once when the cluster changes', () => {
    queue.add(makePod('a'));
    queue.requeueUnschedulable(queue.tryPop()!);
    now += 500;
    expect(queue.moveAllToActive()).toBe(1);
    expect(queue.tryPop()?.pod.metadata.name).toBe('a');
  });

  it('lets a pod tried a moment ago wait a little after a cluster event', () => {
    queue.add(makePod('a'));
    queue.requeueUnschedulable(queue.tryPop()!);
    now += 10;
    queue.moveAllToActive();
    expect(queue.tryPop()).toBeUndefined();
    now += 90;
    queue.flush();
    expect(queue.tryPop()?.pod.metadata.name).toBe('a');
  });

  it('does not move pods backing off after an error on cluster events', () => {
    queue.add(makePod('a'));
    queue.requeueBackoff(queue.tryPop()!);
    queue.moveAllToActive();
    expect(queue.tryPop()).toBeUndefined();
    now += 1000;
    queue.flush();
    expect(queue.tryPop()).toBeDefined();
  });

  it('drops a pod deleted while in flight instead of requeueing it', () => {
    const pod = makePod('a');
    queue.add(pod);
    const entry = queue.tryPop()!;
    queue.delete(entry.key);
    expect(queue.requeueUnschedulable(entry)).toBe(false);
    expect(queue.counts()).toEqual({ active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
  });

  it('keeps the newest copy of an in-flight pod for its retry', () => {
    const pod = makePod('a');
    queue.add(pod);
    const entry = queue.tryPop()!;
    queue.update({ ...pod, metadata: { ...pod.metadata, resourceVersion: '7' } });
    queue.requeueBackoff(entry);
    now += 1000;
    queue.flush();
    expect(queue.tryPop()?.pod.metadata.resourceVersion).toBe('7');
  });

  it('retries an unschedulable pod at once when its spec changes, not on a status-only update', () => {
    const pod = makePod('a');
    queue.add(pod);
    queue.requeueUnschedulable(queue.tryPop()!);
    queue.update({ ...pod, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] } });
    expect(queue.tryPop()).toBeUndefined();
    queue.update({ ...pod, spec: { ...pod.spec, nodeSelector: { disk: 'ssd' } } });
    expect(queue.tryPop()?.pod.spec.nodeSelector).toEqual({ disk: 'ssd' });
  });

  it('wakes a waiting pop when a pod arrives, and ends it on close', async () => {
    const first = queue.pop();
    queue.add(makePod('a'));
    expect((await first)?.pod.metadata.name).toBe('a');
    const second = queue.pop();
    queue.close();
    expect(await second).toBeUndefined();
  });

  it('forgets a finished pod', () => {
    queue.add(makePod('a'));
    const entry = queue.tryPop()!;
    queue.done(entry);
    expect(queue.has(entry.key)).toBe(false);
  });
});
