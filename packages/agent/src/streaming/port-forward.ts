// Port-forward sessions: each forwarded connection is a data stream (bytes both ways) and an
// error stream (what went wrong, as text) for one port inside the pod. kubectl opens them as
// a pair of SPDY streams per connection (headers streamtype, port, requestid), directly or
// tunnelled in a WebSocket; WebSocket clients with the channel protocol (client-node,
// peactl) get one connection per port listed in ?ports=, on channels 2i and 2i+1.
import { PassThrough, Writable } from 'stream';
import type WebSocket from 'ws';
import type { RawData } from 'ws';
import { Channel } from '@peapod/api';
import type { Logger } from '@peapod/client';
import type { InteractiveProcess, Stdio } from '../runtime/interactive';
import type { SpdySession, SpdyStream } from './spdy';
import { channelWriter, endAll, feed } from './remote-streams';

/** Connects io to a port inside the pod's network namespace (also one bound to 127.0.0.1). */
export type PortDialer = (port: number, io: Stdio) => Promise<InteractiveProcess>;

export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Collects what a failed connection printed, bounded. */
function errorCollector(): { sink: Writable; text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (text.length < 4096) text += chunk.toString();
      done();
    },
  });
  return { sink, text: () => text.trim() };
}

/**
 * Forwards one connection and resolves with the error to report, if any. The data streams
 * are not ended here.
 */
async function forward(dial: PortDialer, port: number, podName: string, input: PassThrough | SpdyStream, output: Writable, onGone: (close: () => void) => void): Promise<string | undefined> {
  const errors = errorCollector();
  try {
    const process = await dial(port, { stdin: input, stdout: output, stderr: errors.sink, tty: false });
    onGone(() => process.close());
    const code = await process.done;
    if (code === 0 || code === null) return undefined;
    return `error forwarding port ${port} to pod ${podName}: ${errors.text() || `exit code ${code}`}`;
  } catch (err) {
    return `error forwarding port ${port} to pod ${podName}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** kubectl's port-forward over SPDY: pairs error and data streams by requestid. */
export function serveSpdyPortForward(session: SpdySession, dial: PortDialer, podName: string, log: Logger, pairTimeoutMs = 30_000): void {
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout }>();
  session.on('stream', (stream: SpdyStream) => {
    const { streamtype, requestid } = stream.headers;
    const port = parsePort(stream.headers.port);
    stream.on('error', () => undefined);
    if ((streamtype !== 'data' && streamtype !== 'error') || port === undefined || requestid === undefined) {
      log.debug('port-forward stream refused', { headers: stream.headers });
      stream.destroy();
      return;
    }
    let pair = pairs.get(requestid);
    if (!pair) {
      const timer = setTimeout(() => {
        pairs.delete(requestid);
        pair?.data?.destroy();
        pair?.error?.destroy();
      }, pairTimeoutMs);
      pair = { timer };
      pairs.set(requestid, pair);
    }
    if (pair[streamtype]) {
      stream.destroy();
      return;
    }
    pair[streamtype] = stream;
    if (!pair.data || !pair.error) return;
    clearTimeout(pair.timer);
    pairs.delete(requestid);
    const { data, error } = pair;
    // The client only reads the error stream.
    error.resume();
    void forward(dial, port, podName, data, data, (close) => data.on('close', close)).then((message) => {
      // What the client still sends has nowhere to go; reading it on keeps the connection moving.
      data.resume();
      if (message) error.write(message);
      data.end();
      error.end();
    });
  });
  session.on('close', () => {
    for (const pair of pairs.values()) clearTimeout(pair.timer);
    pairs.clear();
  });
}

/**
 * The channel protocol over a WebSocket: one connection per requested port. The server's
 * first message on each channel is the port (uint16, little-endian); with v5 the client may
 * half-close a data channel (255, channel). The WebSocket closes when every connection has.
 */
export function serveWebSocketPortForward(ws: WebSocket, ports: number[], dial: PortDialer, podName: string): void {
  const inputs = ports.map(() => new PassThrough());
  const portBytes = (port: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(port, 0);
    return b;
  };
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary) return;
    const message = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (message.length === 0) return;
    if (message[0] === Channel.close) {
      if (message.length > 1 && message[1] % 2 === 0) inputs[message[1] / 2]?.end();
      return;
    }
    const input = message[0] % 2 === 0 ? inputs[message[0] / 2] : undefined;
    if (!input || input.writableEnded || message.length === 1) return;
    feed(ws, input, message.subarray(1));
  });
  const closers: (() => void)[] = [];
  ws.on('close', () => {
    for (const input of inputs) input.end();
    for (const close of closers) close();
  });
  ws.on('error', () => ws.terminate());
  void Promise.all(
    ports.map(async (port, i) => {
      const output = channelWriter(ws, 2 * i);
      const errors = channelWriter(ws, 2 * i + 1);
      output.write(portBytes(port));
      errors.write(portBytes(port));
      const message = await forward(dial, port, podName, inputs[i], output, (close) => closers.push(close));
      inputs[i].destroy();
      if (message) errors.write(message);
      await endAll([output, errors]);
    }),
  ).then(() => ws.close(1000));
}
