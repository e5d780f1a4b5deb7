// exec, attach and port-forward from the client side, over a WebSocket with the channel
// protocol (see @peapod/api streams.ts): v5.channel.k8s.io, whose close message lets stdin
// and a forwarded connection be half-closed.
import { Duplex } from 'stream';
import type { Readable, Writable } from 'stream';
import type { IncomingMessage } from 'http';
import type WebSocket from 'ws';
import type { RawData } from 'ws';
import { Channel, channelMessage, failureStatus, isStatus, portForwardProtocols, remoteCommandProtocols, resizePayload, successStatus } from '@peapod/api';
import type { Status, TerminalSize } from '@peapod/api';
import { ApiError, ConnectionError } from './errors';
import type { Client } from './rest';

export interface RemoteCommandOptions {
  container?: string;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty?: boolean;
  /** With a TTY: the terminal's size now, and a way to hear of later sizes. */
  terminal?: { size: TerminalSize; onResize(listener: (size: TerminalSize) => void): void };
}

function rawBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function query(params: [string, string | undefined][]): string {
  return params
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

/**
 * Resolves once the WebSocket is open, rejects with the server's refusal (ApiError) or the
 * connection's failure. Message handlers go on before this is awaited: the server's first
 * messages can arrive with the handshake's answer and are emitted in the same tick.
 */
function opened(client: Client, ws: WebSocket): Promise<void> {
  ws.on('error', () => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      client.errorFrom(res).then(reject, reject);
    });
    ws.once('error', (err) => reject(new ConnectionError(client.server, err)));
  });
}

/**
 * Runs exec (command given) or attach (no command) and resolves with the Status the server
 * reports at the end: Success, NonZeroExitCode with the code (see exitCodeOf), or a failure.
 */
export async function remoteCommand(client: Client, namespace: string, pod: string, command: string[] | undefined, opts: RemoteCommandOptions): Promise<Status> {
  const tty = opts.tty === true;
  const params: [string, string | undefined][] = [
    ...(command ?? []).map((c): [string, string] => ['command', c]),
    ['container', opts.container],
    ['stdin', opts.stdin ? 'true' : undefined],
    ['stdout', opts.stdout ? 'true' : undefined],
    ['stderr', opts.stderr && !tty ? 'true' : undefined],
    ['tty', tty ? 'true' : undefined],
  ];
  const path = `${client.path('pods', { namespace, name: pod, subresource: command ? 'exec' : 'attach' })}?${query(params)}`;
  const ws = client.openWebSocket(path, {}, remoteCommandProtocols);
  let status: Status | undefined;
  const write = (target: Writable | undefined, payload: Buffer): void => {
    if (target && !target.write(payload)) {
      ws.pause();
      target.once('drain', () => ws.resume());
    }
  };
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const message = rawBuffer(data);
    if (!isBinary || message.length === 0) return;
    const payload = message.subarray(1);
    if (message[0] === Channel.stdout) write(opts.stdout, payload);
    else if (message[0] === Channel.stderr) write(opts.stderr, payload);
    else if (message[0] === Channel.error) status = parseStatus(payload);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', resolve));
  await opened(client, ws);

  const send = (channel: number, payload?: Buffer | string): void => {
    if (ws.readyState === ws.OPEN) ws.send(channelMessage(channel, payload), { binary: true });
  };
  if (tty && opts.terminal) {
    send(Channel.resize, resizePayload(opts.terminal.size));
    opts.terminal.onResize((size) => send(Channel.resize, resizePayload(size)));
  }
  const stdin = opts.stdin;
  const onInput = (chunk: Buffer | string): void => send(Channel.stdin, chunk);
  const onInputEnd = (): void => send(Channel.close, Buffer.from([Channel.stdin]));
  stdin?.on('data', onInput);
  stdin?.on('end', onInputEnd);
  const code = await closed;
  stdin?.off('data', onInput);
  stdin?.off('end', onInputEnd);
  if (status) return status;
  if (code === 1000 || code === 1005) return successStatus();
  throw new ConnectionError(client.server, new Error(`the stream closed with code ${code}`));
}

function parseStatus(payload: Buffer): Status {
  try {
    const value: unknown = JSON.parse(payload.toString());
    if (isStatus(value)) return value;
  } catch {
    // an older server's plain message
  }
  return failureStatus(500, payload.toString());
}

/**
 * One connection to a port of a pod, as a Duplex: what is written goes to the port, what the
 * pod's side sends is read; its end half-closes the connection. A failure the server reports
 * (nothing listening, say) destroys the stream with that message.
 */
export async function portForward(client: Client, namespace: string, pod: string, port: number): Promise<Duplex> {
  const path = `${client.path('pods', { namespace, name: pod, subresource: 'portforward' })}?ports=${port}`;
  const ws = client.openWebSocket(path, {}, portForwardProtocols);
  // Each channel's stream starts with the port, as two bytes.
  const skip = [2, 2];
  let errorText = '';
  const stream = new Duplex({
    allowHalfOpen: true,
    write(chunk: Buffer, _encoding, done) {
      if (ws.readyState !== ws.OPEN) return done(new Error('the connection is closed'));
      ws.send(channelMessage(0, chunk), { binary: true }, (err) => done(err ?? null));
    },
    final(done) {
      if (ws.readyState === ws.OPEN) ws.send(channelMessage(Channel.close, Buffer.from([0])), { binary: true }, () => done());
      else done();
    },
    read() {
      ws.resume();
    },
    destroy(err, done) {
      ws.terminate();
      done(err);
    },
  });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const message = rawBuffer(data);
    if (!isBinary || message.length === 0 || message[0] > 1) return;
    const channel = message[0];
    let payload = message.subarray(1);
    const skipped = Math.min(skip[channel], payload.length);
    skip[channel] -= skipped;
    payload = payload.subarray(skipped);
    if (payload.length === 0) return;
    if (channel === 1) errorText += payload.toString();
    else if (!stream.push(payload)) ws.pause();
  });
  ws.on('close', () => {
    if (errorText) stream.destroy(new ApiError(failureStatus(500, errorText.trim())));
    else stream.push(null);
  });
  ws.on('error', (err) => stream.destroy(new ConnectionError(client.server, err)));
  await opened(client, ws);
  return stream;
}
