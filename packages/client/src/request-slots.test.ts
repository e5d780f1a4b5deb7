// maxSockets: requests beyond it wait in the client, in order, and one that gives up while
// waiting (deadline or signal) is never sent.
import type * as http from 'http';
import { Client } from './rest';
import { RequestSlots } from './request-slots';
import { serveHttp } from './testing/http-server';
import type { TestServer } from './testing/http-server';

describe('RequestSlots', () => {
  it('starts at most the limit, hands each freed slot to the next in order, skips the withdrawn', () => {
    const slots = new RequestSlots(2);
    const started: number[] = [];
    const withdraw = [0, 1, 2, 3, 4].map((i) => slots.take(() => started.push(i)));
    expect(started).toEqual([0, 1]);
    expect(withdraw[0]()).toBe(false);
    expect(withdraw[2]()).toBe(true);
    slots.release();
    expect(started).toEqual([0, 1, 3]);
    slots.release();
    slots.release();
    expect(started).toEqual([0, 1, 3, 4]);
    slots.release();
    slots.take(() => started.push(5));
    slots.take(() => started.push(6));
    expect(started).toEqual([0, 1, 3, 4, 5, 6]);
  });
});

function timedOut(reason: unknown): boolean {
  const err = reason as Error & { cause?: Error };
  return /timed out/.test(`${err.message} ${err.cause?.message}`);
}

describe('Client with maxSockets', () => {
  let server: TestServer;
  const seen: string[] = [];
  let inFlight = 0;
  let most = 0;
  /** answers held back until the test lets them go */
  const held: http.ServerResponse[] = [];
  let hold = false;

  beforeAll(async () => {
    server = await serveHttp((req, res) => {
      seen.push(req.url ?? '');
      most = Math.max(most, ++inFlight);
      res.on('close', () => inFlight--);
      const answer = () => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200 }));
      };
      if (hold) {
        // Headers now, the body never: a stream's open resolves, an ordinary request waits.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        held.push(res);
      } else {
        setTimeout(answer, 5);
      }
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    seen.length = 0;
    most = 0;
    hold = false;
  });

  it('keeps at most maxSockets requests in flight and answers every one', async () => {
    const client = new Client({ server: server.url, maxSockets: 3 });
    try {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => client.request('GET', `/r/${i}`)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(seen).toHaveLength(40);
      expect(most).toBeLessThanOrEqual(3);
    } finally {
      client.close();
    }
  });

  it('never sends a request whose deadline passed while it waited', async () => {
    const client = new Client({ server: server.url, maxSockets: 2, timeoutMs: 500 });
    try {
      hold = true;
      // Streams past their headers have no deadline, so they hold both slots longer than any
      // waiting request's deadline, whatever order the timers fire in.
      const holders = await Promise.all([0, 1].map((i) => client.openStream('GET', `/held/${i}`, {})));
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => client.request('POST', `/waiting/${i}`, {})));
      expect(results.every((r) => r.status === 'rejected' && timedOut(r.reason))).toBe(true);
      expect(seen).toEqual(['/held/0', '/held/1']);
      for (const res of holders) res.destroy();
      hold = false;
      const after = await client.request('GET', '/after');
      expect(after.status).toBe(200);
    } finally {
      client.close();
    }
  });

  it('frees the slots of requests that were sent and timed out', async () => {
    const client = new Client({ server: server.url, maxSockets: 2, timeoutMs: 300 });
    try {
      hold = true;
      const results = await Promise.allSettled([0, 1].map((i) => client.request('POST', `/held/${i}`, {})));
      expect(results.every((r) => r.status === 'rejected' && timedOut(r.reason))).toBe(true);
      // Two more, also held: both reach the server only if each got a slot back.
      seen.length = 0;
      await Promise.allSettled([0, 1].map((i) => client.request('POST', `/again/${i}`, {})));
      expect(seen.sort()).toEqual(['/again/0', '/again/1']);
    } finally {
      for (const res of held.splice(0)) res.destroy();
      client.close();
    }
  });

  it('withdraws a waiting request whose signal aborts', async () => {
    const client = new Client({ server: server.url, maxSockets: 1, timeoutMs: 0 });
    try {
      hold = true;
      const first = client.openStream('GET', '/stream', {});
      await new Promise((r) => setTimeout(r, 50));
      const abort = new AbortController();
      const second = client.openStream('GET', '/aborted', {}, abort.signal);
      abort.abort();
      await expect(second).rejects.toThrow();
      expect(seen).toEqual(['/stream']);
      for (const res of held.splice(0)) res.destroy();
      await first.then((res) => res.resume(), () => undefined);
    } finally {
      client.close();
    }
  });
});
