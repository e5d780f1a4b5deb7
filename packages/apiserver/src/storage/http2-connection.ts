// An HTTP/2 client connection (RFC 9113) for gRPC unary calls, framed by hand on a TCP or TLS
// socket: each call one stream, its headers and whole request written at once, its answer
// (headers, data, trailers) handed over when the stream ends. `node:http2` costs the etcd
// store 80 to 120 us of CPU per call (a stream object and its events, an AsyncResource bound
// with two deprecation wrappers per request in Node 20, its close and destroy ticks); this
// costs 30 to 45, which on the API server's one thread is about a tenth of an etcd write.
// What it leaves out, a unary client needs not: server push (disabled), priorities, and
// trailers or several messages on the client's side.

import net from 'net';
import tls from 'tls';
import { encodeHeaders, HpackDecoder } from './hpack';
import { Slab } from './slab';

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const emptyBody = Buffer.alloc(0);
/** grpc-timeout's field as encodeHeaders writes it, without its value (a length under 127, then the digits: written per call). */
const timeoutName = encodeHeaders([['grpc-timeout', '']]).subarray(0, -1);
/** gRPC's timeouts have at most eight digits */
const maxTimeoutMs = 99_999_999;

const Frame = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
const Setting = { ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5 } as const;
const ErrorCode = { NO_ERROR: 0, PROTOCOL_ERROR: 1, FLOW_CONTROL_ERROR: 3, REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9 } as const;
const errorNames = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED'];

/** What this side lets the server send before it is told again: the most the protocol allows, on each stream and the connection. */
const receiveWindow = 2 ** 31 - 1;
/** Stream ids are 31 bits, and a client's odd: a connection that has used them up is replaced. */
const maxStreamId = 2 ** 31 - 1;
/** Received bytes after which the connection's window is given back (half of it). */
const windowRefill = 2 ** 30;

export type Fields = Record<string, string>;

/** A call's answer: the response headers, the trailers (absent when the headers ended the stream) and the data. */
export interface Answer {
  headers: Fields;
  trailers?: Fields;
  data: Buffer[];
}

/** A call that failed; `sent`: its request had left whole, so the server may have acted on it. */
export interface CallFailure {
  message: string;
  sent: boolean;
}

export type CallDone = (failure: CallFailure | undefined, answer?: Answer) => void;

interface Stream {
  id: number;
  done: CallDone;
  /**
   * Until the stream opens: its HEADERS frame (the first `headersLength` bytes), then a DATA
   * frame's header and the gRPC prefix of `body`, sent with it when it all fits in one frame.
   */
  head: Buffer;
  headersLength: number;
  /** the request's bytes not yet sent (flow control), and the window the server gave the stream */
  body: Buffer;
  window: number;
  /** the whole request, END_STREAM included, has left */
  sent: boolean;
  headers?: Fields;
  trailers?: Fields;
  data: Buffer[];
}

export interface ConnectionOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export class Http2Connection {
  private readonly socket: net.Socket;
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, Stream>();
  /** streams waiting for a slot (the server's MAX_CONCURRENT_STREAMS) or for window to send their request */
  private readonly waiting: Stream[] = [];
  private nextId = 1;
  /** the server's first SETTINGS came (so the connection is up): until then no stream opens, since its limit on streams is not known */
  private settled = false;
  private ended = false;
  private closing = false;
  private corked = false;
  private pending?: Buffer;
  private headerBlock?: { id: number; endStream: boolean; parts: Buffer[] };
  private sendWindow = 65_535;
  private initialStreamWindow = 65_535;
  private maxFrameSize = 16_384;
  private maxStreams = Infinity;
  private unrefilled = 0;
  /** what every call's header block holds: the pseudo-headers but its path, and then (after the path, since pseudo-headers come first) its content type */
  private readonly pseudoHeaders: Buffer;
  private readonly grpcHeaders = encodeHeaders([
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ]);
  /** the paths called, encoded */
  private readonly paths = new Map<string, Buffer>();
  /** what is sent, and what is received and kept until its stream ends: each lives about as long as a call */
  private readonly out = new Slab();
  private readonly in = new Slab();

  /** `origin`: http://host:port (cleartext HTTP/2) or https://host:port (TLS with ALPN h2). */
  constructor(origin: string, opts: ConnectionOptions = {}, private readonly onEnd: () => void = () => undefined) {
    const url = new URL(origin);
    const secure = url.protocol === 'https:';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (secure ? 443 : 80));
    this.pseudoHeaders = encodeHeaders([
      [':method', 'POST'],
      [':scheme', secure ? 'https' : 'http'],
      [':authority', url.host],
    ]);
    if (secure) {
      this.socket = tls.connect({ host, port, ca: opts.ca, cert: opts.cert, key: opts.key, ALPNProtocols: ['h2'], servername: net.isIP(host) ? undefined : host });
      this.socket.once('secureConnect', () => {
        if ((this.socket as tls.TLSSocket).alpnProtocol !== 'h2') this.fail('the server did not agree to HTTP/2 (ALPN)');
      });
    } else {
      this.socket = net.connect({ host, port });
    }
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (err: Error) => this.fail(err.message));
    this.socket.on('close', () => this.fail('the connection closed'));
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(Setting.ENABLE_PUSH, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(Setting.INITIAL_WINDOW_SIZE, 6);
    settings.writeUInt32BE(receiveWindow, 8);
    this.write(Buffer.concat([preface, frameHeader(settings.length, Frame.SETTINGS, 0, 0), settings, windowUpdate(0, receiveWindow - 65_535)]));
  }

  /** Whether a new call may go on this connection: not ended, not told to go away, not closing, stream ids left. */
  get usable(): boolean {
    return !this.ended && !this.closing && this.nextId + 2 * this.waiting.length < maxStreamId;
  }

  /**
   * Starts a unary call of `path`: `metadata` the call's own headers (encoded with
   * encodeHeaders), `timeoutMs` its deadline as gRPC sends it, `message` the whole request
   * (gRPC frames it here). `done` is called once. The returned function cancels the call
   * (RST_STREAM CANCEL), after which `done` is not called.
   */
  call(path: string, metadata: Buffer, timeoutMs: number, message: Buffer, done: CallDone): () => void {
    if (!this.usable) {
      process.nextTick(() => done({ message: 'the connection is closed', sent: false }));
      return () => undefined;
    }
    let pathBlock = this.paths.get(path);
    if (!pathBlock) this.paths.set(path, (pathBlock = encodeHeaders([[':path', path]])));
    const timeout = `${Math.min(Math.max(1, Math.ceil(timeoutMs)), maxTimeoutMs)}m`;
    const blockLength = this.pseudoHeaders.length + pathBlock.length + this.grpcHeaders.length + metadata.length + timeoutName.length + 1 + timeout.length;
    if (blockLength > this.maxFrameSize) throw new Error(`request headers of ${blockLength} bytes: more than one frame`);
    // One buffer for the frames' headers, the header block and the message's prefix, from the slab: see slab.ts.
    const head = this.out.take(9 + blockLength + 9 + 5);
    writeFrameHeader(head, 0, blockLength, Frame.HEADERS, Flag.END_HEADERS, 0);
    let at = 9;
    at += this.pseudoHeaders.copy(head, at);
    at += pathBlock.copy(head, at);
    at += this.grpcHeaders.copy(head, at);
    at += metadata.copy(head, at);
    at += timeoutName.copy(head, at);
    head[at++] = timeout.length;
    at += head.write(timeout, at, 'latin1');
    writeFrameHeader(head, at, 5 + message.length, Frame.DATA, Flag.END_STREAM, 0);
    head[at + 9] = 0;
    head.writeUInt32BE(message.length, at + 10);
    const stream: Stream = { id: 0, done, head, headersLength: at, body: message, window: 0, sent: false, data: [] };
    this.waiting.push(stream);
    this.flush();
    return () => this.cancel(stream);
  }

  /** No new calls; the connection ends once the calls in flight are answered. */
  close(): void {
    this.closing = true;
    this.endIfIdle();
  }

  /** Opens the waiting streams that may open, and sends what their windows allow. */
  private flush(): void {
    if (!this.settled) return;
    for (let i = 0; i < this.waiting.length; ) {
      const s = this.waiting[i];
      if (s.id === 0) {
        if (this.streams.size >= this.maxStreams) {
          i++;
          continue;
        }
        this.open(s);
      }
      this.sendData(s);
      if (s.sent) this.waiting.splice(i, 1);
      else i++;
    }
  }

  /** Gives a stream its id and sends its HEADERS frame, and its request too when that fits in one DATA frame. */
  private open(s: Stream): void {
    s.id = this.nextId;
    this.nextId += 2;
    s.window = this.initialStreamWindow;
    this.streams.set(s.id, s);
    const head = s.head;
    head.writeUInt32BE(s.id, 5);
    const payload = 5 + s.body.length;
    if (payload <= Math.min(this.maxFrameSize, s.window, this.sendWindow)) {
      head.writeUInt32BE(s.id, s.headersLength + 5);
      this.write(head);
      this.write(s.body);
      s.window -= payload;
      this.sendWindow -= payload;
      s.body = emptyBody;
      s.sent = true;
    } else {
      this.write(head.subarray(0, s.headersLength));
      const body = this.out.take(payload);
      head.copy(body, 0, s.headersLength + 9);
      s.body.copy(body, 5);
      s.body = body;
    }
    s.head = emptyBody;
  }

  /** Sends as much of a stream's request as the windows and the frame size allow; the last frame ends the stream. */
  private sendData(s: Stream): void {
    while (!s.sent) {
      const n = Math.min(s.body.length, this.maxFrameSize, s.window, this.sendWindow);
      if (n < s.body.length && n <= 0) return;
      const last = n === s.body.length;
      const header = this.out.take(9);
      writeFrameHeader(header, 0, n, Frame.DATA, last ? Flag.END_STREAM : 0, s.id);
      this.write(header);
      this.write(s.body.subarray(0, n));
      s.window -= n;
      this.sendWindow -= n;
      s.body = s.body.subarray(n);
      s.sent = last;
    }
  }

  private cancel(s: Stream): void {
    s.done = () => undefined;
    if (this.forget(s)) {
      this.write(rstStream(s.id, ErrorCode.CANCEL));
      this.flush();
    }
    this.endIfIdle();
  }

  /**
   * Writes with the other frames written in this turn of the event loop, in one system call
   * once the turn is over. Not at the end of the tick: the API server writes each request's
   * transaction in a tick of its own, and etcd commits what reaches it together in one raft
   * round, so a TCP segment per transaction cost etcd 0.82 to 0.90 ms of CPU per create
   * against 0.54 to 0.56 with the turn's transactions in one (as node:http2 sends them).
   */
  private write(bytes: Buffer): void {
    if (this.ended) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
  }

  private receive(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    while (buf.length >= 9 && !this.ended) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < 9 + length) break;
      const payload = buf.subarray(9, 9 + length);
      try {
        this.frame(buf[3], buf[4], buf.readUInt32BE(5) & 0x7fffffff, payload);
      } catch (err) {
        this.fail(`protocol error: ${(err as Error).message}`, ErrorCode.PROTOCOL_ERROR);
        return;
      }
      buf = buf.subarray(9 + length);
    }
    if (buf.length) this.pending = this.in.copy(buf);
    this.flush();
  }

  private frame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.headerBlock && type !== Frame.CONTINUATION) throw new Error('a header block not continued');
    switch (type) {
      case Frame.DATA: {
        this.unrefilled += payload.length;
        if (this.unrefilled >= windowRefill) {
          this.write(windowUpdate(0, this.unrefilled));
          this.unrefilled = 0;
        }
        const s = this.streams.get(id);
        if (!s) return;
        const data = flags & Flag.PADDED ? unpad(payload) : payload;
        if (data.length) s.data.push(this.in.copy(data));
        if (flags & Flag.END_STREAM) this.finish(s);
        return;
      }
      case Frame.HEADERS: {
        let block = flags & Flag.PADDED ? unpad(payload) : payload;
        if (flags & Flag.PRIORITY) block = block.subarray(5);
        this.headerBlock = { id, endStream: (flags & Flag.END_STREAM) !== 0, parts: [block] };
        if (flags & Flag.END_HEADERS) this.headersDone();
        return;
      }
      case Frame.CONTINUATION:
        if (!this.headerBlock || this.headerBlock.id !== id) throw new Error('a continuation of no header block');
        this.headerBlock.parts.push(payload);
        if (flags & Flag.END_HEADERS) this.headersDone();
        return;
      case Frame.RST_STREAM: {
        const s = this.streams.get(id);
        if (!s) return;
        const code = payload.readUInt32BE(0);
        this.forget(s);
        // REFUSED_STREAM: the server did nothing with it.
        this.end(s, { message: `the stream was reset with ${errorNames[code] ?? `error code ${code}`}`, sent: code !== ErrorCode.REFUSED_STREAM && s.sent });
        this.endIfIdle();
        return;
      }
      case Frame.SETTINGS:
        if (!(flags & Flag.ACK)) this.settings(payload);
        return;
      case Frame.PING:
        if (!(flags & Flag.ACK)) this.write(Buffer.concat([frameHeader(8, Frame.PING, Flag.ACK, 0), payload]));
        return;
      case Frame.GOAWAY: {
        // Streams after the last one the server took were not acted on: they fail as never sent.
        const last = payload.readUInt32BE(0) & 0x7fffffff;
        this.closing = true;
        for (const [sid, s] of this.streams) {
          if (sid <= last) continue;
          this.streams.delete(sid);
          this.end(s, { message: `the server is going away (${errorNames[payload.readUInt32BE(4)] ?? 'error'})`, sent: false });
        }
        const unopened = this.waiting.filter((w) => !w.id);
        this.waiting.splice(0, this.waiting.length, ...this.waiting.filter((w) => this.streams.has(w.id)));
        for (const s of unopened) this.end(s, { message: 'the server is going away', sent: false });
        this.endIfIdle();
        return;
      }
      case Frame.WINDOW_UPDATE: {
        const n = payload.readUInt32BE(0) & 0x7fffffff;
        if (id === 0) this.sendWindow += n;
        else {
          const s = this.streams.get(id);
          if (s) s.window += n;
        }
        return;
      }
      case Frame.PUSH_PROMISE:
        throw new Error('a push promise, push being disabled');
      default:
        // Frames of unknown types are ignored (RFC 9113 4.1), PRIORITY among them here.
        return;
    }
  }

  private settings(payload: Buffer): void {
    for (let i = 0; i + 6 <= payload.length; i += 6) {
      const value = payload.readUInt32BE(i + 2);
      switch (payload.readUInt16BE(i)) {
        case Setting.INITIAL_WINDOW_SIZE: {
          const delta = value - this.initialStreamWindow;
          this.initialStreamWindow = value;
          for (const s of this.streams.values()) s.window += delta;
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          this.maxFrameSize = value;
          break;
        case Setting.MAX_CONCURRENT_STREAMS:
          this.maxStreams = value;
          break;
      }
    }
    this.write(frameHeader(0, Frame.SETTINGS, Flag.ACK, 0));
    this.settled = true;
  }

  /** A whole header block: decoded whatever its stream (the decoding context is the connection's), kept if the stream is open. */
  private headersDone(): void {
    const { id, endStream, parts } = this.headerBlock!;
    this.headerBlock = undefined;
    let fields: (readonly [string, string])[];
    try {
      fields = this.decoder.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    } catch (err) {
      this.fail(`header block not readable: ${(err as Error).message}`, ErrorCode.COMPRESSION_ERROR);
      return;
    }
    const s = this.streams.get(id);
    if (!s) return;
    const map: Fields = {};
    for (const [name, value] of fields) map[name] = value;
    if (!s.headers) s.headers = map;
    else s.trailers = map;
    if (endStream) this.finish(s);
  }

  /** The server ended the stream: the call is answered (a request still being sent is cut off). */
  private finish(s: Stream): void {
    this.forget(s);
    if (!s.sent) this.write(rstStream(s.id, ErrorCode.NO_ERROR));
    const done = s.done;
    s.done = () => undefined;
    done(undefined, { headers: s.headers ?? {}, trailers: s.trailers, data: s.data });
    this.endIfIdle();
  }

  /** Drops a stream from the open and the waiting ones; true if it was open. */
  private forget(s: Stream): boolean {
    const waiting = this.waiting.indexOf(s);
    if (waiting >= 0) this.waiting.splice(waiting, 1);
    return s.id !== 0 && this.streams.delete(s.id);
  }

  private end(s: Stream, failure: CallFailure): void {
    const done = s.done;
    s.done = () => undefined;
    done(failure);
  }

  private endIfIdle(): void {
    if (this.closing && !this.ended && this.streams.size === 0 && this.waiting.length === 0) {
      this.write(goaway(ErrorCode.NO_ERROR));
      this.ended = true;
      this.socket.end();
      this.onEnd();
    }
  }

  /** The connection is over: every call in flight fails, as sent or not as its request had left. */
  private fail(reason: string, code?: number): void {
    if (!this.ended && code !== undefined) this.socket.write(goaway(code));
    const wasEnded = this.ended;
    this.ended = true;
    for (const s of [...this.streams.values(), ...this.waiting]) this.end(s, { message: reason, sent: s.sent });
    this.streams.clear();
    this.waiting.length = 0;
    this.socket.destroy();
    if (!wasEnded) this.onEnd();
  }
}

function frameHeader(length: number, type: number, flags: number, id: number): Buffer {
  const b = Buffer.allocUnsafe(9);
  writeFrameHeader(b, 0, length, type, flags, id);
  return b;
}

function writeFrameHeader(b: Buffer, at: number, length: number, type: number, flags: number, id: number): void {
  b.writeUIntBE(length, at, 3);
  b[at + 3] = type;
  b[at + 4] = flags;
  b.writeUInt32BE(id, at + 5);
}

function windowUpdate(id: number, n: number): Buffer {
  const b = frameHeader(4, Frame.WINDOW_UPDATE, 0, id);
  return Buffer.concat([b, uint32(n)]);
}

function rstStream(id: number, code: number): Buffer {
  return Buffer.concat([frameHeader(4, Frame.RST_STREAM, 0, id), uint32(code)]);
}

function goaway(code: number): Buffer {
  return Buffer.concat([frameHeader(8, Frame.GOAWAY, 0, 0), uint32(0), uint32(code)]);
}

function uint32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** A padded frame's payload without its pad length and padding. */
function unpad(payload: Buffer): Buffer {
  const pad = payload[0];
  if (pad >= payload.length) throw new Error('padding longer than the frame');
  return payload.subarray(1, payload.length - pad);
}
