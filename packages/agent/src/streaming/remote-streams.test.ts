import { PassThrough } from 'stream';
import WebSocket, { WebSocketServer } from 'ws';
import { createLogger } from '@peapod/client';
import { serveHttp } from '@peapod/client/testing';
import type { InteractiveProcess } from '../runtime/interactive';
import { runRemoteCommand } from './remote-command';
import type { InteractiveRuntime } from './remote-command';
import { clientReading } from './remote-streams';
import type { RemoteStreams } from './remote-streams';

/** A WebSocket server on loopback and a client of it, with the server's side of the connection. */
async function connected(clientOptions: WebSocket.ClientOptions = {}): Promise<{ server: WebSocket; client: WebSocket; close(): Promise<void> }> {
  const httpServer = await serveHttp(() => undefined);
  const wss = new WebSocketServer({ server: httpServer.server });
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${httpServer.port}/`, clientOptions);
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  const server = await serverSide;
  return {
    server,
    client,
    close: async () => {
      client.terminate();
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await httpServer.close();
    },
  };
}

describe('clientReading', () => {
  test('resolves once the client answers the ping', async () => {
    const ws = await connected({ autoPong: false });
    try {
      let pinged = false;
      ws.client.on('ping', () => (pinged = true));
      let ready = false;
      const reading = clientReading(ws.server, 10_000).then(() => (ready = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(pinged).toBe(true);
      expect(ready).toBe(false);
      ws.client.pong();
      await reading;
      expect(ready).toBe(true);
    } finally {
      await ws.close();
    }
  });

  test('a client that answers by itself is ready at once', async () => {
    const ws = await connected();
    try {
      const started = Date.now();
      await clientReading(ws.server, 10_000);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await ws.close();
    }
  });

  test('a client that never answers gets the timeout; one that goes away, no wait', async () => {
    const silent = await connected({ autoPong: false });
    try {
      const started = Date.now();
      await clientReading(silent.server, 200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    } finally {
      await silent.close();
    }
    const leaving = await connected({ autoPong: false });
    try {
      const reading = clientReading(leaving.server, 10_000);
      leaving.client.close();
      const started = Date.now();
      await reading;
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await leaving.close();
    }
  });
});

test('a command starts only once the client is ready for its output', async () => {
  let makeReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (makeReady = resolve));
  const started: string[][] = [];
  const finished: unknown[] = [];
  const runtime: InteractiveRuntime = {
    execInteractive: async (_id, cmd): Promise<InteractiveProcess> => {
      started.push(cmd);
      return { resize: () => undefined, done: Promise.resolve(0), close: () => undefined };
    },
    attachInteractive: () => Promise.reject(new Error('not used')),
  };
  const streams: RemoteStreams = {
    stdout: new PassThrough(),
    ready,
    onResize: () => undefined,
    onClose: () => undefined,
    finish: (status) => finished.push(status),
  };
  const running = runRemoteCommand(runtime, { containerId: 'c1', command: ['echo', 'ok'], tty: false }, streams, createLogger('test', { level: 'error' }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(started).toEqual([]);
  makeReady();
  await running;
  expect(started).toEqual([['echo', 'ok']]);
  expect(finished).toEqual([expect.objectContaining({ status: 'Success' })]);
});
