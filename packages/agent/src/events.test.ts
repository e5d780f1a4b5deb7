import type { Event, Pod } from '@peapod/api';
import { ApiError, Client } from '@peapod/client';
import { readRequestBody, serveHttp, type TestServer } from '@peapod/client/testing';
import { failureStatus } from '@peapod/api';
import { EventSink, type EventSinkOptions } from './events';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const podNamed = (name: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { containers: [] } });
const pod = podNamed('web');

/**
 * Records what the sink asks of the API; the n-th created event is named web.n. Each write
 * takes `delayMs` (0: answered at once), or waits for release() when held.
 */
function fakeClient(opts: { delayMs?: number; held?: boolean } = {}) {
  const calls: string[] = [];
  const waiting: (() => void)[] = [];
  let created = 0;
  let expired = false;
  const answer = async (): Promise<void> => {
    if (opts.held) await new Promise<void>((resolve) => waiting.push(resolve));
    else if (opts.delayMs) await new Promise((resolve) => setTimeout(resolve, opts.delayMs));
  };
  const client = {
    async recordEvent(o: Pod, type: string, reason: string, message: string, s: { host: string }, at?: Date): Promise<Event> {
      calls.push(`start ${s.host} ${o.metadata.name} ${reason}`);
      await answer();
      created++;
      calls.push(`create web.${created} ${type} ${reason} ${message}${at ? ` at ${at.toISOString()}` : ''}`);
      return { involvedObject: {}, metadata: { name: `web.${created}`, namespace: 'default' } };
    },
    async patch(_r: string, name: string, body: { count: number }): Promise<unknown> {
      await answer();
      if (expired) throw new ApiError(failureStatus(404, 'not found'));
      calls.push(`count ${name} ${body.count}`);
      return {};
    },
  };
  return {
    client: client as unknown as Client,
    calls,
    started: () => calls.filter((c) => c.startsWith('start')),
    created: () => calls.filter((c) => c.startsWith('create')),
    expire: () => (expired = true),
    /** Answers the oldest write still held. */
    release: () => waiting.shift()?.(),
  };
}

function sink(client: Client, opts: Partial<EventSinkOptions> = {}): EventSink {
  return new EventSink(client, { log: quiet, qps: 0, burst: 1, ...opts });
}

describe('the agent event recorder', () => {
  it('writes a repeat as a higher count on the first event, in order, even when recorded at once; other events go their own way', async () => {
    const { client, calls } = fakeClient({ delayMs: 5 });
    const events = sink(client, { inFlight: 4 }).recorder('n1');
    await Promise.all([
      events.record(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: '),
      events.record(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: '),
      events.record(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: '),
      events.record(pod, 'Normal', 'Killing', 'Stopping container app', new Date('2030-01-01T00:00:00.123Z')),
    ]);
    expect(calls.filter((c) => c.startsWith('create') || c.startsWith('count')).filter((c) => c.includes('Unhealthy') || c.startsWith('count'))).toEqual([
      'create web.1 Warning Unhealthy Readiness probe failed: ',
      'count web.1 2',
      'count web.1 3',
    ]);
    expect(calls).toContainEqual(expect.stringMatching(/^create web\.\d Normal Killing Stopping container app at 2030-01-01T00:00:00.123Z$/));
  });

  it('writes an event afresh once the one it counted on has expired', async () => {
    const { client, created, expire } = fakeClient();
    const events = sink(client).recorder('n1');
    await events.record(pod, 'Warning', 'BackOff', 'Back-off');
    expire();
    await events.record(pod, 'Warning', 'BackOff', 'Back-off');
    expect(created()).toEqual(['create web.1 Warning BackOff Back-off', 'create web.2 Warning BackOff Back-off']);
  });
});

describe('the event sink', () => {
  afterEach(() => jest.useRealTimers());

  it('has a fixed number of writes in flight, the rest waiting in order', async () => {
    const api = fakeClient({ held: true });
    const events = sink(api.client, { inFlight: 2 }).recorder('n1');
    const done = ['A', 'B', 'C', 'D', 'E'].map((reason) => events.record(pod, 'Normal', reason, 'm'));
    await new Promise(setImmediate);
    expect(api.started()).toEqual(['start n1 web A', 'start n1 web B']);
    api.release();
    await new Promise(setImmediate);
    expect(api.started()).toEqual(['start n1 web A', 'start n1 web B', 'start n1 web C']);
    while (api.created().length < 5) {
      api.release();
      await new Promise(setImmediate);
    }
    await Promise.all(done);
    expect(api.created().map((c) => c.split(' ')[3])).toEqual(['A', 'B', 'C', 'D', 'E']);
  });

  it('drops events beyond its queue, counts them and says so at debug; those already queued are written', async () => {
    const api = fakeClient({ held: true });
    const debug = jest.fn();
    const events = new EventSink(api.client, { log: { ...quiet, debug }, qps: 0, burst: 1, queueLength: 3 });
    const recorder = events.recorder('n1');
    // One in flight, three waiting: the fifth has no room.
    const done = ['A', 'B', 'C', 'D', 'E'].map((reason) => recorder.record(pod, 'Normal', reason, 'm'));
    await done[4];
    expect(events.stats()).toEqual({ written: 0, failed: 0, dropped: 1, filtered: 0, queued: 3 });
    expect(debug).toHaveBeenCalledWith('event dropped: too many waiting', { node: 'n1', pod: 'web', reason: 'E' });
    while (api.created().length < 4) {
      api.release();
      await new Promise(setImmediate);
    }
    await Promise.all(done);
    expect(api.created().map((c) => c.split(' ')[3])).toEqual(['A', 'B', 'C', 'D']);
    expect(events.stats()).toEqual({ written: 4, failed: 0, dropped: 1, filtered: 0, queued: 0 });
  });

  it("limits each node's writes to --event-qps past --event-burst: the rest wait their turn; another node is not held up", async () => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    const api = fakeClient();
    const events = sink(api.client, { qps: 2, burst: 3, inFlight: 10 });
    const n1 = events.recorder('n1');
    const n2 = events.recorder('n2');
    for (const reason of ['A', 'B', 'C', 'D', 'E', 'F']) void n1.record(pod, 'Normal', reason, 'm');
    void n2.record(pod, 'Normal', 'X', 'm');
    await jest.advanceTimersByTimeAsync(0);
    expect(api.started()).toEqual(['start n1 web A', 'start n1 web B', 'start n1 web C', 'start n2 web X']);
    expect(events.stats().queued).toBe(3);
    await jest.advanceTimersByTimeAsync(499);
    expect(api.started()).toHaveLength(4);
    await jest.advanceTimersByTimeAsync(1);
    expect(api.started().slice(4)).toEqual(['start n1 web D']);
    await jest.advanceTimersByTimeAsync(1000);
    expect(api.started().slice(4)).toEqual(['start n1 web D', 'start n1 web E', 'start n1 web F']);
    expect(events.stats()).toEqual({ written: 7, failed: 0, dropped: 0, filtered: 0, queued: 0 });
  });

  it('with --event-qps 0 writes as fast as its writes in flight allow', async () => {
    const api = fakeClient();
    const events = sink(api.client, { qps: 0, inFlight: 4 });
    const recorder = events.recorder('n1');
    await Promise.all(Array.from({ length: 200 }, (_, i) => recorder.record(podNamed(`p${i}`), 'Normal', 'Started', 'm')));
    expect(events.stats()).toEqual({ written: 200, failed: 0, dropped: 0, filtered: 0, queued: 0 });
  });

  it('filters spam per node and object: 25 events at once, then one every 5 minutes', async () => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    const api = fakeClient();
    const events = sink(api.client, { inFlight: 100 });
    const n1 = events.recorder('n1');
    const all = (recorder: typeof n1, p: Pod, n: number, from = 0): Promise<void[]> =>
      Promise.all(Array.from({ length: n }, (_, i) => recorder.record(p, 'Warning', 'Failed', `error ${from + i}`)));
    await all(n1, pod, 30);
    expect(events.stats()).toMatchObject({ written: 25, filtered: 5 });
    // Another pod, and the same pod on another node, have their own allowance.
    await all(n1, podNamed('db'), 25);
    await all(events.recorder('n2'), pod, 25);
    expect(events.stats()).toMatchObject({ written: 75, filtered: 5 });
    await jest.advanceTimersByTimeAsync(299_000);
    await all(n1, pod, 1, 100);
    expect(events.stats()).toMatchObject({ written: 75, filtered: 6 });
    await jest.advanceTimersByTimeAsync(2_000);
    await all(n1, pod, 2, 200);
    expect(events.stats()).toMatchObject({ written: 76, filtered: 7 });
  });
});

describe('events and status writes on one client', () => {
  let server: TestServer;
  let client: Client;
  const arrived: string[] = [];

  beforeAll(async () => {
    // Events are answered after a while, so that the burst is still being written when the status write comes.
    server = await serveHttp((req, res) => {
      arrived.push(`${req.method} ${req.url}`);
      void readRequestBody(req).then((body) => {
        const answer = (): void => {
          res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/json' });
          res.end(body);
        };
        if (req.url?.includes('/events')) setTimeout(answer, 5);
        else answer();
      });
    });
    client = new Client({ server: server.url, maxSockets: 4 });
  });

  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('sends a status write before a burst of events recorded ahead of it', async () => {
    const events = new EventSink(client, { log: quiet, qps: 0, burst: 1, inFlight: 2 });
    const recorder = events.recorder('n1');
    const burst = Array.from({ length: 100 }, (_, i) => recorder.record(podNamed(`p${i}`), 'Normal', 'Started', 'Started container app'));
    await client.patch('pods', 'web', { status: { phase: 'Running' } }, 'merge', { namespace: 'default', subresource: 'status' });
    await Promise.all(burst);
    expect(events.stats()).toEqual({ written: 100, failed: 0, dropped: 0, filtered: 0, queued: 0 });
    // Only the events already in flight may come first.
    expect(arrived.indexOf('PATCH /api/v1/namespaces/default/pods/web/status')).toBeLessThanOrEqual(2);
    expect(arrived.filter((r) => r.startsWith('POST /api/v1/namespaces/default/events'))).toHaveLength(100);
  });
});
