// A request sent as an answer ends goes out on that answer's connection once undici frees it,
// rather than on a new one: a client keeps the connections its requests in flight need.
import { Client } from './rest';
import { ConnectionHandover } from './connection-handover';
import { serveHttp } from './testing/http-server';
import type { TestServer } from './testing/http-server';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ConnectionHandover', () => {
  it('sends at once while no connection is on its way back', async () => {
    const handover = new ConnectionHandover();
    const sent: number[] = [];
    handover.send(() => sent.push(1));
    handover.answered();
    await turn();
    await turn();
    handover.send(() => sent.push(2));
    expect(sent).toEqual([1, 2]);
  });

  it('holds requests while a connection is on its way back; each one back takes the oldest, then the rest go', async () => {
    const handover = new ConnectionHandover();
    const sent: number[] = [];
    let afterFirst: number[] = [];
    handover.answered();
    // Queued as answered() queues: it runs between the two connections' return.
    queueMicrotask(() => setImmediate(() => (afterFirst = [...sent])));
    handover.answered();
    for (const n of [1, 2, 3]) handover.send(() => sent.push(n));
    expect(sent).toEqual([]);
    await turn();
    await turn();
    expect(afterFirst).toEqual([1]);
    expect(sent).toEqual([1, 2, 3]);
  });
});

describe('Client connections', () => {
  let server: TestServer;
  let connections = 0;

  beforeAll(async () => {
    server = await serveHttp((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200 }));
    });
    server.server.on('connection', () => connections++);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    connections = 0;
  });

  it('sends one request after another on one connection', async () => {
    const client = new Client({ server: server.url });
    try {
      for (let i = 0; i < 20; i++) await client.request('GET', `/r/${i}`);
      expect(connections).toBe(1);
    } finally {
      client.close();
    }
  });

  it('keeps as many connections as requests in flight', async () => {
    const client = new Client({ server: server.url });
    try {
      for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 10 }, (_, i) => client.request('GET', `/r/${i}`)));
      expect(connections).toBeLessThanOrEqual(10);
    } finally {
      client.close();
    }
  });

  it('with maxSockets, opens no more connections than that', async () => {
    const client = new Client({ server: server.url, maxSockets: 4 });
    try {
      const answers = await Promise.all(Array.from({ length: 400 }, (_, i) => client.request('GET', `/r/${i}`)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(connections).toBeLessThanOrEqual(4);
    } finally {
      client.close();
    }
  });
});
