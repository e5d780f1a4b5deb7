// The streams of one exec or attach session, whichever transport carried them: a
// WebSocket with the channel protocol, or SPDY streams named by their streamtype header.
import { PassThrough, Writable } from 'stream';
import type { Readable } from 'stream';
import type WebSocket from 'ws';
import type { RawData } from 'ws';
import { Channel, channelMessage, parseResize } from '@peapod/api';
import type { Status, TerminalSize } from '@peapod/api';
import type { SpdySession, SpdyStream } from './spdy';

export interface RemoteStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** Resolves once the client reads what is sent to it (or has been given time enough to). */
  readonly ready: Promise<void>;
  onResize(listener: (size: TerminalSize) => void): void;
  /** Reports how the session ended on the error channel and closes the connection. */
  finish(status: Status): void;
  /** Called when the client goes away. */
  onClose(listener: () => void): void;
}

export interface WantedStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/**
 * What the error channel carries: v4 and later a Status as JSON (with the exit code), older
 * versions only the message of a failure.
 */
export function errorChannelPayload(protocol: string, status: Status): string | undefined {
  if (protocol === 'v4.channel.k8s.io' || protocol === 'v5.channel.k8s.io') return JSON.stringify(status);
  return status.status === 'Failure' ? status.message ?? 'error' : undefined;
}

/** Ends each writable and resolves once all of them have written everything (or gone). */
export function endAll(writables: (Writable | undefined)[]): Promise<void> {
  return Promise.all(
    writables.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (!w || w.writableFinished || w.destroyed) return resolve();
          w.once('close', resolve);
          w.end(resolve);
        }),
    ),
  ).then(() => undefined);
}

function rawBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Writes a client's message into input; when input is full, stops reading the WebSocket until
 * input has room again or is done with (an ended stream never says 'drain').
 */
export function feed(ws: WebSocket, input: Writable, payload: Buffer): void {
  if (input.write(payload)) return;
  ws.pause();
  const resume = (): void => {
    input.off('drain', resume);
    input.off('finish', resume);
    input.off('close', resume);
    ws.resume();
  };
  input.on('drain', resume);
  input.on('finish', resume);
  input.on('close', resume);
}

/** A writable whose chunks go out as messages on one channel, each written before the next is taken. */
export function channelWriter(ws: WebSocket, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (ws.readyState !== ws.OPEN) return done();
      ws.send(channelMessage(channel, chunk), { binary: true }, () => done());
    },
  });
}

/** How long a WebSocket client may take to answer the first ping before the command starts anyway. */
export const clientReadyMs = 1000;

/**
 * Resolves when the client answers a ping, that is when its reading loop runs, or after
 * timeoutMs (or when the connection closes). kubectl's WebSocket executor starts that loop
 * as it creates its streams, and drops output that comes for a stream not made yet: a
 * command that prints at once, started before then, could lose its output on a busy machine.
 */
export function clientReading(ws: WebSocket, timeoutMs = clientReadyMs): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      ws.off('pong', done);
      ws.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    ws.on('pong', done);
    ws.on('close', done);
    if (ws.readyState === ws.OPEN) ws.ping();
    else done();
  });
}

/** exec/attach over a WebSocket with the channel protocol (binary; any version). */
export function webSocketStreams(ws: WebSocket, wanted: WantedStreams): RemoteStreams {
  const stdin = wanted.stdin ? new PassThrough() : undefined;
  const resizeListeners: ((size: TerminalSize) => void)[] = [];
  const closeListeners: (() => void)[] = [];
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary) return;
    const message = rawBuffer(data);
    if (message.length === 0) return;
    const payload = message.subarray(1);
    switch (message[0]) {
      case Channel.stdin:
        if (stdin && !stdin.writableEnded && payload.length > 0) feed(ws, stdin, payload);
        return;
      case Channel.resize: {
        const size = parseResize(payload);
        if (size) for (const l of resizeListeners) l(size);
        return;
      }
      case Channel.close:
        if (payload[0] === Channel.stdin) stdin?.end();
        return;
      default:
        return;
    }
  });
  let finished = false;
  ws.on('close', () => {
    stdin?.end();
    if (!finished) for (const l of closeListeners) l();
  });
  ws.on('error', () => ws.terminate());
  const stdout = wanted.stdout ? channelWriter(ws, Channel.stdout) : undefined;
  const stderr = wanted.stderr && !wanted.tty ? channelWriter(ws, Channel.stderr) : undefined;
  return {
    stdin,
    stdout,
    stderr,
    ready: clientReading(ws),
    onResize: (l) => resizeListeners.push(l),
    onClose: (l) => closeListeners.push(l),
    finish(status) {
      finished = true;
      // Input nobody reads any more must not keep the client's close from being read.
      stdin?.destroy();
      ws.resume();
      void endAll([stdout, stderr]).then(() => {
        const payload = errorChannelPayload(ws.protocol, status);
        if (payload !== undefined && ws.readyState === ws.OPEN) ws.send(channelMessage(Channel.error, payload), { binary: true });
        ws.close(1000);
      });
    },
  };
}

/**
 * exec/attach over SPDY: the client opens one stream per role (error, stdin, stdout, stderr,
 * resize with a TTY). Resolves once every stream the request asked for is open; rejects
 * when they do not all come within the timeout or the connection drops first.
 */
export function spdyStreams(session: SpdySession, protocol: string, wanted: WantedStreams, timeoutMs = 30_000): Promise<RemoteStreams> {
  const needed = new Set(['error']);
  if (wanted.stdin) needed.add('stdin');
  if (wanted.stdout) needed.add('stdout');
  if (wanted.stderr && !wanted.tty) needed.add('stderr');
  if (wanted.tty && protocol !== 'channel.k8s.io' && protocol !== 'v2.channel.k8s.io') needed.add('resize');
  const streams = new Map<string, SpdyStream>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error('timed out waiting for the client to open its streams'));
    }, timeoutMs);
    const onClose = (): void => {
      clearTimeout(timer);
      reject(new Error('the client went away'));
    };
    session.on('close', onClose);
    session.on('stream', (stream: SpdyStream) => {
      const type = stream.headers.streamtype;
      stream.on('error', () => undefined);
      if (!type || !needed.has(type) || streams.has(type)) {
        stream.destroy();
        return;
      }
      streams.set(type, stream);
      if (streams.size < needed.size) return;
      clearTimeout(timer);
      session.off('close', onClose);
      resolve(spdyRemoteStreams(session, protocol, streams));
    });
  });
}

function spdyRemoteStreams(session: SpdySession, protocol: string, streams: Map<string, SpdyStream>): RemoteStreams {
  const resizeListeners: ((size: TerminalSize) => void)[] = [];
  const closeListeners: (() => void)[] = [];
  const resize = streams.get('resize');
  if (resize) {
    // A sequence of JSON objects, one per resize.
    let text = '';
    resize.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      for (let nl = text.indexOf('}'); nl >= 0; nl = text.indexOf('}')) {
        const size = parseResize(text.slice(0, nl + 1));
        text = text.slice(nl + 1);
        if (size) for (const l of resizeListeners) l(size);
      }
    });
  }
  let finished = false;
  session.on('close', () => {
    if (!finished) for (const l of closeListeners) l();
  });
  return {
    stdin: streams.get('stdin'),
    stdout: streams.get('stdout'),
    stderr: streams.get('stderr'),
    // The client opened every stream itself before this was made.
    ready: Promise.resolve(),
    onResize: (l) => resizeListeners.push(l),
    onClose: (l) => closeListeners.push(l),
    finish(status) {
      finished = true;
      streams.get('stdin')?.resume();
      void endAll([streams.get('stdout'), streams.get('stderr')]).then(() => {
        const error = streams.get('error')!;
        const payload = errorChannelPayload(protocol, status);
        if (payload !== undefined) error.write(payload);
        error.end(() => session.close());
      });
    },
  };
}
