import * as fc from 'fast-check';
import type * as http from 'http';
import { Readable } from 'stream';
import type { KubeObject, WatchEvent } from '@peapod/api';
import { ApiError, Client, ConnectionError } from './rest';
import { bytesPerTurn } from './turns';
import { WatchDecoder, parseWatchEvent } from './watch';
import { FakeApiServer } from './testing/fake-apiserver';
import { closedPort, serveHttp } from './testing/http-server';

function obj(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', ...extra } };
}

describe('WatchDecoder', () => {
  const events = [
    { type: 'ADDED', object: obj('a') },
    { type: 'MODIFIED', object: obj('b', { labels: { note: 'naïve – ☃ ✓ 日本' } }) },
    { type: 'DELETED', object: obj('c') },
  ];
  const stream = Buffer.from(events.map((e) => JSON.stringify(e) + '\n').join(''), 'utf8');

  it('decodes several events in one chunk', () => {
    const d = new WatchDecoder();
    expect(d.push(stream)).toEqual(events);
    expect(d.end()).toEqual([]);
  });

  it('decodes events split at every byte boundary, including inside a character', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const d = new WatchDecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut)), ...d.end()];
      expect(got).toEqual(events);
    }
  });

  it('decodes any chunking of the stream', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 20 }), (cuts) => {
        const bounds = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const d = new WatchDecoder();
        const got: WatchEvent<unknown>[] = [];
        for (let i = 0; i + 1 < bounds.length; i++) got.push(...d.push(stream.subarray(bounds[i], bounds[i + 1])));
        got.push(...d.end());
        expect(got).toEqual(events);
      }),
    );
  });

  it('takes a last event without a newline, and skips blank lines', () => {
    const d = new WatchDecoder();
    expect(d.push('\n\r\n' + JSON.stringify(events[0]) + '\r\n\n' + JSON.stringify(events[1]))).toEqual([events[0]]);
    expect(d.end()).toEqual([events[1]]);
  });

  it('rejects malformed lines', () => {
    expect(() => parseWatchEvent('{"type":"ADDED"')).toThrow(/malformed watch event/);
    expect(() => parseWatchEvent('{"type":"EXPLODED","object":{}}')).toThrow(/malformed watch event/);
    expect(() => parseWatchEvent('{"type":"ADDED"}')).toThrow(/malformed watch event/);
    expect(() => parseWatchEvent('[1]')).toThrow(/malformed watch event/);
  });
});

function collect(): { events: WatchEvent<KubeObject>[]; next: (n: number) => Promise<void>; handler: (e: WatchEvent<KubeObject>) => void } {
  const events: WatchEvent<KubeObject>[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  return {
    events,
    handler: (e) => {
      events.push(e);
      if (waiter && events.length >= waiter.n) waiter.resolve();
    },
    next: (n) =>
      new Promise<void>((resolve) => {
        if (events.length >= n) resolve();
        else waiter = { n, resolve };
      }),
  };
}

describe.each(['http', 'websocket'] as const)('watch over %s', (transport) => {
  let fake: FakeApiServer;
  let client: Client;

  beforeEach(async () => {
    fake = new FakeApiServer();
    await fake.start();
    client = new Client({ server: fake.url, token: 'tok' });
  });
  afterEach(async () => {
    client.close();
    await fake.stop();
  });

  it('delivers events in order, from the given resourceVersion, with the token', async () => {
    fake.set('pods', obj('before'));
    const rv = fake.resourceVersion;
    fake.set('pods', obj('a'));
    const c = collect();
    const w = client.watch('pods', { namespace: 'ns', resourceVersion: rv, allowWatchBookmarks: true, labelSelector: 'x=y', transport }, c.handler);
    await c.next(1);
    fake.set('pods', obj('a', { labels: { v: '2' } }));
    fake.remove('pods', 'ns', 'a');
    await c.next(3);
    w.stop();
    await w.done;
    expect(c.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'a'],
      ['MODIFIED', 'a'],
      ['DELETED', 'a'],
    ]);
    const req = fake.requests.find((r) => r.url.includes('watch=true'));
    expect(req?.headers.authorization).toBe('Bearer tok');
    const url = new URL(req?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/api/v1/namespaces/ns/pods');
    expect(url.searchParams.get('resourceVersion')).toBe(rv);
    expect(url.searchParams.get('allowWatchBookmarks')).toBe('true');
    expect(url.searchParams.get('labelSelector')).toBe('x=y');
  });

  it('delivers bookmarks', async () => {
    const c = collect();
    const w = client.watch('pods', { transport }, c.handler);
    await waitFor(() => fake.watcherCount() === 1);
    fake.set('pods', obj('a'));
    fake.bookmark('Pod');
    await c.next(2);
    w.stop();
    expect(c.events[1]).toEqual({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '1' } } });
  });

  it('resolves done when the server ends the stream', async () => {
    const w = client.watch('pods', { transport }, () => undefined);
    await waitFor(() => fake.watcherCount() === 1);
    fake.closeWatches();
    await expect(w.done).resolves.toBeUndefined();
  });

  it('rejects done with a 410 ApiError when the resourceVersion is too old', async () => {
    fake.set('pods', obj('a'));
    fake.set('pods', obj('b'));
    fake.compact();
    const c = collect();
    const w = client.watch('pods', { resourceVersion: '1', transport }, c.handler);
    const err = await w.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(410);
    expect((err as ApiError).reason).toBe('Expired');
    expect(c.events).toEqual([]);
  });

  it('rejects done with a ConnectionError when the server goes away', async () => {
    const w = client.watch('pods', { transport }, () => undefined);
    await waitFor(() => fake.watcherCount() === 1);
    await fake.stop();
    await expect(w.done).rejects.toBeInstanceOf(ConnectionError);
  });

  it('rejects done with the handler exception', async () => {
    const w = client.watch('pods', { transport }, () => {
      throw new Error('handler bug');
    });
    await waitFor(() => fake.watcherCount() === 1);
    fake.set('pods', obj('a'));
    await expect(w.done).rejects.toThrow('handler bug');
  });

  it('stop resolves done and delivers nothing more', async () => {
    const c = collect();
    const w = client.watch('pods', { transport }, c.handler);
    await waitFor(() => fake.watcherCount() === 1);
    w.stop();
    await w.done;
    await waitFor(() => fake.watcherCount() === 0);
    fake.set('pods', obj('late'));
    await new Promise((r) => setTimeout(r, 20));
    expect(c.events).toEqual([]);
  });

  it('a refused connection rejects done with a ConnectionError', async () => {
    const port = await closedPort();
    const c2 = new Client({ server: `http://127.0.0.1:${port}` });
    const w = c2.watch('pods', { transport }, () => undefined);
    const err = await w.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain(`127.0.0.1:${port} was refused`);
    c2.close();
  });
});

describe('watch refused by the server', () => {
  it.each(['http', 'websocket'] as const)('rejects done with the Status over %s', async (transport) => {
    const server = await serveHttp((_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 403, reason: 'Forbidden', message: 'no watching' }));
    });
    const client = new Client({ server: server.url });
    try {
      const err = await client.watch('pods', { transport }, () => undefined).done.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(403);
      expect((err as ApiError).message).toBe('no watching');
    } finally {
      client.close();
      await server.close();
    }
  });

  it('rejects done on an ERROR event that is not 410', async () => {
    const server = await serveHttp((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: obj('a') }) + '\n');
      res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 500, message: 'boom' } }) + '\n');
    });
    const client = new Client({ server: server.url });
    try {
      const c = collect();
      const err = await client.watch('pods', {}, c.handler).done.catch((e: unknown) => e);
      expect((err as ApiError).code).toBe(500);
      expect(c.events.map((e) => e.type)).toEqual(['ADDED']);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('rejects done on a malformed stream', async () => {
    const server = await serveHttp((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('not json\n');
    });
    const client = new Client({ server: server.url });
    try {
      await expect(client.watch('pods', {}, () => undefined).done).rejects.toThrow(/malformed watch event/);
    } finally {
      client.close();
      await server.close();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A client whose streams come already buffered: what a burst Node hands over in one go looks like. */
class BufferedStreamClient extends Client {
  constructor(private readonly chunks: Buffer[]) {
    super({ server: 'http://127.0.0.1:1' });
  }

  override async openStream(): Promise<http.IncomingMessage> {
    const stream = new Readable({ read: () => undefined });
    for (const chunk of this.chunks) stream.push(chunk);
    stream.push(null);
    return Object.assign(stream, { statusCode: 200, complete: true }) as unknown as http.IncomingMessage;
  }
}

describe('a burst of watch events', () => {
  it('is handed over in turns of 64 KiB, so that other work runs in between', async () => {
    const padding = 'x'.repeat(2000);
    // An event a chunk, as the API server writes them: 2,000 of about 2 KB.
    const chunks = Array.from({ length: 2000 }, (_, i) => Buffer.from(JSON.stringify({ type: 'ADDED', object: obj(`p${i}`, { annotations: { padding } }) }) + '\n'));
    const client = new BufferedStreamClient(chunks);
    let delivered = 0;
    const turnsSeen: number[] = [];
    const nextTurn = (): void => {
      turnsSeen.push(delivered);
      if (delivered < chunks.length) setImmediate(nextTurn);
    };
    const w = client.watch('pods', {}, () => {
      if (++delivered === 1) setImmediate(nextTurn);
    });
    await w.done;
    expect(delivered).toBe(chunks.length);
    // Each turn delivers the events that fill 64 KiB, and no more.
    const perTurn = Math.ceil(bytesPerTurn / chunks[0].length);
    expect(turnsSeen[0]).toBe(perTurn);
    for (let i = 1; i < turnsSeen.length; i++) expect(turnsSeen[i] - turnsSeen[i - 1]).toBeLessThanOrEqual(perTurn);
    expect(turnsSeen.length).toBeGreaterThanOrEqual(Math.floor(chunks.length / perTurn));
  });
});
