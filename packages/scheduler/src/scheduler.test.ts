import { rfc3339 } from '@peapod/api';
import type { Node, Pod, PodCondition } from '@peapod/api';
import { makeNode, makePod } from './fixtures';
import type { PodShape } from './fixtures';
import { defaultMaxRequestsInFlight, Scheduler } from './scheduler';
import type { Binder, Reporter } from './scheduler';

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface RecordedEvent {
  pod: string;
  type: string;
  reason: string;
  message: string;
}

/**
 * An API server in memory: binds like the real one (409 for a bound pod, 404 for a
 * missing one) and lets the test decide when watch events reach the scheduler.
 */
class FakeServer implements Binder, Reporter {
  readonly pods = new Map<string, Pod>();
  readonly bindCalls: { pod: string; node: string }[] = [];
  readonly events: RecordedEvent[] = [];
  readonly conditionPatches: { pod: string; conditions: PodCondition[] }[] = [];
  /** Watch events not yet delivered. */
  private readonly pendingWatch: (() => void)[] = [];
  /** Errors the next binds fail with. */
  readonly bindFailures: HttpError[] = [];
  scheduler: Scheduler | undefined;
  autoWatch = true;

  create(pod: Pod): Pod {
    this.pods.set(pod.metadata.name as string, pod);
    this.scheduler?.onPodAdd(pod);
    return pod;
  }

  delete(name: string): void {
    const pod = this.pods.get(name);
    if (!pod) return;
    this.pods.delete(name);
    this.scheduler?.onPodDelete(pod);
  }

  async bind(pod: Pod, nodeName: string): Promise<void> {
    const name = pod.metadata.name as string;
    this.bindCalls.push({ pod: name, node: nodeName });
    const failure = this.bindFailures.shift();
    if (failure) throw failure;
    const current = this.pods.get(name);
    if (!current || current.metadata.uid !== pod.metadata.uid) throw new HttpError(404, `pods "${name}" not found`);
    if (current.spec.nodeName) throw new HttpError(409, `pod ${name} is already assigned to node "${current.spec.nodeName}"`);
    const bound: Pod = { ...current, spec: { ...current.spec, nodeName } };
    this.pods.set(name, bound);
    this.pendingWatch.push(() => this.scheduler?.onPodUpdate(current, bound));
    if (this.autoWatch) this.deliverWatch();
  }

  deliverWatch(): void {
    for (const deliver of this.pendingWatch.splice(0)) deliver();
  }

  async setPodConditions(pod: Pod, conditions: PodCondition[]): Promise<void> {
    const name = pod.metadata.name as string;
    this.conditionPatches.push({ pod: name, conditions });
    const current = this.pods.get(name);
    if (!current) return;
    const updated: Pod = { ...current, status: { ...current.status, conditions } };
    this.pods.set(name, updated);
    this.scheduler?.onPodUpdate(current, updated);
  }

  async recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.events.push({ pod: pod.metadata.name as string, type, reason, message });
  }

  /** The scheduler's start: what informers deliver after their initial list. */
  connect(scheduler: Scheduler, nodes: Node[]): void {
    this.scheduler = scheduler;
    for (const node of nodes) scheduler.onNodeAdd(node);
    for (const pod of this.pods.values()) scheduler.onPodAdd(pod);
  }
}

function drain(scheduler: Scheduler): number {
  let n = 0;
  while (scheduler.scheduleNext()) n++;
  return n;
}

describe('Scheduler', () => {
  let now: number;
  let server: FakeServer;
  let scheduler: Scheduler;

  function newScheduler(): Scheduler {
    return new Scheduler(server, { now: () => now, random: () => 0.5 });
  }

  beforeEach(() => {
    now = 1_000_000;
    server = new FakeServer();
    scheduler = newScheduler();
  });

  function setup(nodes: Node[], pods: [string, PodShape?][] = []): void {
    server.connect(scheduler, nodes);
    for (const [name, shape] of pods) server.create(makePod(name, shape));
  }

  it('binds a pending pod and says so', async () => {
    setup([makeNode('node-1')], [['nginx']]);
    expect(drain(scheduler)).toBe(1);
    await scheduler.settle();
    expect(server.pods.get('nginx')?.spec.nodeName).toBe('node-1');
    expect(server.events).toEqual([
      { pod: 'nginx', type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned default/nginx to node-1' },
    ]);
    expect(scheduler.cache.assumedCount).toBe(0);
    expect(scheduler.cache.nodeInfo('node-1')?.podCount).toBe(1);
  });

  it('leaves alone pods for another scheduler, bound pods and pods being deleted', () => {
    setup(
      [makeNode('node-1')],
      [
        ['other', { spec: { schedulerName: 'my-scheduler' } }],
        ['placed', { spec: { nodeName: 'node-1' } }],
        ['going', {}],
      ],
    );
    const going = server.pods.get('going') as Pod;
    scheduler.onPodUpdate(going, { ...going, metadata: { ...going.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } });
    expect(drain(scheduler)).toBe(0);
    expect(server.bindCalls).toEqual([]);
    expect(scheduler.cache.nodeInfo('node-1')?.podCount).toBe(1);
  });

  it('schedules pods that name the default scheduler explicitly', async () => {
    setup([makeNode('node-1')], [['explicit', { spec: { schedulerName: 'default-scheduler' } }]]);
    drain(scheduler);
    await scheduler.settle();
    expect(server.bindCalls).toEqual([{ pod: 'explicit', node: 'node-1' }]);
  });

  it('marks a pod that fits nowhere Unschedulable and explains why, once per reason', async () => {
    setup(
      [makeNode('node-1', { cpu: '1' }), makeNode('node-2', { cpu: '1' }), makeNode('node-3', { labels: { disk: 'hdd' } })],
      [['big', { cpu: '2', spec: { nodeSelector: { 'kubernetes.io/hostname': 'node-1' } } }]],
    );
    drain(scheduler);
    await scheduler.settle();
    const message = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.";
    expect(server.events).toEqual([{ pod: 'big', type: 'Warning', reason: 'FailedScheduling', message }]);
    expect(server.conditionPatches).toHaveLength(1);
    expect(server.pods.get('big')?.status?.conditions).toEqual([
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message,
        lastProbeTime: null,
        lastTransitionTime: rfc3339(new Date(now)),
      },
    ]);
    expect(scheduler.queue.counts().unschedulable).toBe(1);

    // Retried after its back-off; the same answer is not reported again.
    now += 1000;
    scheduler.queue.flush();
    expect(drain(scheduler)).toBe(1);
    await scheduler.settle();
    expect(server.events).toHaveLength(1);
    expect(server.conditionPatches).toHaveLength(1);
  });

  it('backs off 1 s, 2 s, 4 s between attempts while nothing changes', () => {
    setup([makeNode('node-1', { cpu: '1' })], [['big', { cpu: '2' }]]);
    expect(drain(scheduler)).toBe(1);
    for (const delay of [1000, 2000, 4000]) {
      now += delay - 1;
      scheduler.queue.flush();
      expect(drain(scheduler)).toBe(0);
      now += 1;
      scheduler.queue.flush();
      expect(drain(scheduler)).toBe(1);
    }
  });

  it('tries an unschedulable pod again as soon as a node is added', async () => {
    setup([makeNode('node-1', { cpu: '1' })], [['big', { cpu: '2' }]]);
    drain(scheduler);
    now += 200;
    scheduler.onNodeAdd(makeNode('node-2', { cpu: '4' }));
    expect(drain(scheduler)).toBe(1);
    await scheduler.settle();
    expect(server.pods.get('big')?.spec.nodeName).toBe('node-2');
  });

  it('tries again when a node update matters, not on a heartbeat', () => {
    const node = makeNode('node-1', { cpu: '1' });
    setup([node], [['big', { cpu: '2' }]]);
    drain(scheduler);
    now += 200;
    const heartbeat: Node = {
      ...node,
      status: { ...node.status, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2024-01-01T00:00:10Z' }] },
    };
    scheduler.onNodeUpdate(node, heartbeat);
    expect(drain(scheduler)).toBe(0);
    const bigger = makeNode('node-1', { cpu: '2' });
    scheduler.onNodeUpdate(heartbeat, bigger);
    expect(drain(scheduler)).toBe(1);
  });

  it('tries again when a pod is deleted and frees room', async () => {
    setup([makeNode('node-1', { cpu: '1' })], [['first', { cpu: '1' }]]);
    drain(scheduler);
    await scheduler.settle();
    server.create(makePod('second', { cpu: '1' }));
    drain(scheduler);
    expect(scheduler.queue.counts().unschedulable).toBe(1);
    now += 200;
    server.delete('first');
    expect(drain(scheduler)).toBe(1);
    await scheduler.settle();
    expect(server.pods.get('second')?.spec.nodeName).toBe('node-1');
  });

  it('counts pods it has just placed, so a burst never overcommits a node', async () => {
    server.autoWatch = false;
    setup([makeNode('node-1', { cpu: '5' }), makeNode('node-2', { cpu: '5' }), makeNode('node-3', { cpu: '5' })]);
    for (let i = 0; i < 200; i++) server.create(makePod(`pod-${i}`, { cpu: '100m' }));
    drain(scheduler);
    expect(scheduler.cache.assumedCount).toBe(150);
    await scheduler.settle();
    expect(server.bindCalls).toHaveLength(150);
    const perNode = new Map<string, number>();
    for (const { node } of server.bindCalls) perNode.set(node, (perNode.get(node) ?? 0) + 1);
    expect([...perNode.values()]).toEqual([50, 50, 50]);
    const failed = server.events.filter((e) => e.reason === 'FailedScheduling');
    expect(failed).toHaveLength(50);
    for (const e of failed) expect(e.message).toBe('0/3 nodes are available: 3 Insufficient cpu.');
    server.deliverWatch();
    expect(scheduler.cache.assumedCount).toBe(0);
    expect(scheduler.cache.podCount).toBe(150);
  });

  it('does not retry a pod that is already bound (409), and holds its room until the watch shows where it is', async () => {
    setup([makeNode('node-1', { cpu: '1' }), makeNode('node-9', { cpu: '1' })], [['nginx', { cpu: '1', spec: { nodeSelector: { 'kubernetes.io/hostname': 'node-1' } } }]]);
    server.bindFailures.push(new HttpError(409, 'pod nginx is already assigned to node "node-9"'));
    drain(scheduler);
    await scheduler.settle();
    const pod = server.pods.get('nginx') as Pod;
    expect(scheduler.queue.has(pod.metadata.uid as string)).toBe(false);
    expect(scheduler.cache.nodeInfo('node-1')?.requestedCpu).toBe(1000);
    const bound: Pod = { ...pod, spec: { ...pod.spec, nodeName: 'node-9' } };
    scheduler.onPodUpdate(pod, bound);
    expect(scheduler.cache.nodeInfo('node-1')?.requestedCpu).toBe(0);
    expect(scheduler.cache.nodeInfo('node-9')?.requestedCpu).toBe(1000);
    now += 60_000;
    scheduler.queue.flush();
    expect(drain(scheduler)).toBe(0);
    expect(server.events).toEqual([]);
  });

  it('frees the room of a refused (409) pod whose watch event never comes, once the assumption expires', async () => {
    setup([makeNode('node-1', { cpu: '1' })], [['nginx', { cpu: '1' }]]);
    server.bindFailures.push(new HttpError(409, 'pod nginx is being deleted, cannot be assigned to a host'));
    drain(scheduler);
    await scheduler.settle();
    expect(scheduler.cache.nodeInfo('node-1')?.requestedCpu).toBe(1000);
    now += 30_000;
    expect(scheduler.cache.cleanupExpired()).toHaveLength(1);
    expect(scheduler.cache.nodeInfo('node-1')?.requestedCpu).toBe(0);
  });

  it('keeps at most maxRequestsInFlight requests open, and sends binds before the events about them', async () => {
    scheduler = new Scheduler(server, { now: () => now, random: () => 0.5, maxRequestsInFlight: 2 });
    setup([makeNode('node-1'), makeNode('node-2')], Array.from({ length: 6 }, (_, i): [string] => [`pod-${i}`]));
    const order: string[] = [];
    let open = 0;
    let mostOpen = 0;
    const slow = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
      open++;
      mostOpen = Math.max(mostOpen, open);
      await new Promise((resolve) => setTimeout(resolve, 1));
      order.push(what);
      open--;
      return call();
    };
    const bind = server.bind.bind(server);
    const recordEvent = server.recordEvent.bind(server);
    server.bind = (pod, node) => slow('bind', () => bind(pod, node));
    server.recordEvent = (pod, type, reason, message) => slow('event', () => recordEvent(pod, type, reason, message));
    expect(drain(scheduler)).toBe(6);
    await scheduler.settle();
    expect(mostOpen).toBe(2);
    expect(order).toEqual([...Array(6).fill('bind'), ...Array(6).fill('event')]);
    expect([...server.pods.values()].every((p) => p.spec.nodeName)).toBe(true);
  });

  it('keeps 256 binds in flight by default, as what keeps the API server busy while it reads a burst of watch events', async () => {
    setup([makeNode('node-1', { pods: '400' })], Array.from({ length: 300 }, (_, i): [string] => [`pod-${i}`]));
    let open = 0;
    let mostOpen = 0;
    const release: (() => void)[] = [];
    const bind = server.bind.bind(server);
    server.bind = async (pod, node) => {
      open++;
      mostOpen = Math.max(mostOpen, open);
      await new Promise<void>((resolve) => release.push(resolve));
      open--;
      return bind(pod, node);
    };
    expect(drain(scheduler)).toBe(300);
    await new Promise((resolve) => setImmediate(resolve));
    expect([defaultMaxRequestsInFlight, mostOpen]).toEqual([256, 256]);
    while (release.length > 0) {
      for (const r of release.splice(0)) r();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await scheduler.settle();
    expect(mostOpen).toBe(256);
    expect([...server.pods.values()].every((p) => p.spec.nodeName)).toBe(true);
  });

  it('drops events while maxQueuedEvents reports wait, and still binds every pod', async () => {
    scheduler = new Scheduler(server, { now: () => now, random: () => 0.5, maxRequestsInFlight: 1, maxQueuedEvents: 2 });
    setup([makeNode('node-1')], Array.from({ length: 6 }, (_, i): [string] => [`pod-${i}`]));
    const bind = server.bind.bind(server);
    server.bind = async (pod, node) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return bind(pod, node);
    };
    expect(drain(scheduler)).toBe(6);
    await scheduler.settle();
    expect([...server.pods.values()].every((p) => p.spec.nodeName)).toBe(true);
    // Binds go first: the events of the first two wait, the next three find two waiting and
    // are dropped, and the last one's comes once the first event has left the queue.
    expect(server.events.map((e) => e.pod)).toEqual(['pod-0', 'pod-1', 'pod-5']);
  });

  it('forgets a failed bind and retries it after a back-off', async () => {
    setup([makeNode('node-1', { cpu: '1' })], [['nginx', { cpu: '1' }]]);
    server.bindFailures.push(new HttpError(500, 'etcdserver: request timed out'));
    drain(scheduler);
    await scheduler.settle();
    expect(scheduler.cache.nodeInfo('node-1')?.requestedCpu).toBe(0);
    expect(server.events).toEqual([
      { pod: 'nginx', type: 'Warning', reason: 'FailedScheduling', message: 'Binding rejected: etcdserver: request timed out' },
    ]);
    expect(drain(scheduler)).toBe(0);
    now += 1000;
    scheduler.queue.flush();
    expect(drain(scheduler)).toBe(1);
    await scheduler.settle();
    expect(server.pods.get('nginx')?.spec.nodeName).toBe('node-1');
  });

  it('drops a pod deleted while its bind is on the way', async () => {
    setup([makeNode('node-1')], [['nginx']]);
    const bind = server.bind.bind(server);
    server.bind = async (pod, node) => {
      server.delete('nginx');
      return bind(pod, node);
    };
    drain(scheduler);
    await scheduler.settle();
    expect(scheduler.cache.podCount).toBe(0);
    expect(scheduler.queue.counts()).toEqual({ active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
  });

  it('ignores updates to a pod while it is being bound', async () => {
    server.autoWatch = false;
    setup([makeNode('node-1')], [['nginx']]);
    let release: () => void = () => undefined;
    const bind = server.bind.bind(server);
    server.bind = (pod, node) => new Promise<void>((resolve) => (release = resolve)).then(() => bind(pod, node));
    drain(scheduler);
    const pod = server.pods.get('nginx') as Pod;
    scheduler.onPodUpdate(pod, { ...pod, metadata: { ...pod.metadata, labels: { touched: 'yes' } } });
    expect(drain(scheduler)).toBe(0);
    release();
    await scheduler.settle();
    expect(server.bindCalls).toHaveLength(1);
  });

  it('frees the room of a pod that finished', () => {
    setup([makeNode('node-1', { cpu: '1' })], [['job', { cpu: '1', spec: { nodeName: 'node-1' } }]]);
    expect(scheduler.cache.nodeInfo('node-1')?.requestedCpu).toBe(1000);
    const job = server.pods.get('job') as Pod;
    scheduler.onPodUpdate(job, { ...job, status: { phase: 'Succeeded' } });
    expect(scheduler.cache.nodeInfo('node-1')?.requestedCpu).toBe(0);
  });

  it('restarted at any moment, binds no pod twice and loses none', async () => {
    server.autoWatch = false;
    const nodes = [makeNode('node-1', { cpu: '2' }), makeNode('node-2', { cpu: '2' })];
    setup(nodes);
    for (let i = 0; i < 30; i++) server.create(makePod(`pod-${i}`, { cpu: '100m' }));
    // The first scheduler binds ten pods and dies before seeing any watch event.
    for (let i = 0; i < 10; i++) scheduler.scheduleNext();
    await scheduler.settle();
    const listedBeforeLastBinds = new Map(server.pods);
    for (let i = 0; i < 5; i++) scheduler.scheduleNext();
    await scheduler.settle();

    // The second one starts from a list taken before the last five binds landed.
    const second = newScheduler();
    server.scheduler = second;
    for (const node of nodes) second.onNodeAdd(node);
    for (const pod of listedBeforeLastBinds.values()) second.onPodAdd(pod);
    expect(second.cache.podCount).toBe(10);
    drain(second);
    await second.settle();
    server.deliverWatch();
    drain(second);
    await second.settle();

    const successful = new Map<string, string>();
    for (const pod of server.pods.values()) successful.set(pod.metadata.name as string, pod.spec.nodeName ?? '');
    expect([...successful.values()].filter((n) => n === '')).toEqual([]);
    expect(successful.size).toBe(30);
    // Each of the five pods bound behind its back got one refused (409) attempt, nothing more.
    const attempts = new Map<string, number>();
    for (const { pod } of server.bindCalls) attempts.set(pod, (attempts.get(pod) ?? 0) + 1);
    expect([...attempts.values()].filter((n) => n > 2)).toEqual([]);
    expect([...attempts.values()].filter((n) => n === 2)).toHaveLength(5);
    expect(second.cache.podCount).toBe(30);
    expect(second.cache.assumedCount).toBe(0);
  });

  it('runs as a loop until stopped', async () => {
    const live = new Scheduler(server, { flushIntervalMs: 10 });
    server.connect(live, [makeNode('node-1'), makeNode('node-2')]);
    live.start();
    for (let i = 0; i < 20; i++) server.create(makePod(`pod-${i}`));
    for (let i = 0; i < 100 && server.bindCalls.length < 20; i++) await new Promise((r) => setTimeout(r, 5));
    await live.stop();
    expect(server.bindCalls).toHaveLength(20);
    expect([...server.pods.values()].every((p) => p.spec.nodeName)).toBe(true);
  });
});
