// The server side of a SPDY/3.1 connection as Kubernetes clients speak it (Go's spdystream,
// used by kubectl and client-go for exec, attach and port-forward): the client opens
// streams whose headers name their role, the server accepts each with a SYN_REPLY, and
// both sides send DATA with FIN to half-close. No library fits: spdy-transport, the npm
// SPDY implementation, expects HTTP streams (it rejects a SYN_STREAM without :method and
// :path, which these never carry) and enforces flow control, which spdystream never
// replenishes (it sends no WINDOW_UPDATE), so a transfer would stall after 64 KiB. We take
// the SPDY/3 header dictionary from it and keep to what spdystream does:
// - header blocks are zlib streams with that dictionary, one per direction for the whole
//   connection, so every received block must be inflated in order;
// - no flow control (WINDOW_UPDATE and SETTINGS are read and ignored);
// - PING frames are echoed.
// Invariant: frames are handled in the order they arrive, and frames are written in the
// order they are sent, even while a header block is being (de)compressed; each zlib stream
// works on one header block at a time (a block is all it puts out between write and flush).
import { EventEmitter } from 'events';
import { Duplex } from 'stream';
import zlib from 'zlib';
import spdyTransport from 'spdy-transport';

const VERSION = 3;
const HEADER_BYTES = 8;
const MAX_FRAME_PAYLOAD = 0xffffff;
/** Frames above this are refused (no stream of ours carries headers anywhere near it). */
const MAX_CONTROL_FRAME = 1 << 20;

const FrameType = { synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9 } as const;
const FLAG_FIN = 0x01;
const RST_PROTOCOL_ERROR = 1;
const RST_CANCEL = 5;

const dictionary: Buffer = spdyTransport.protocol.spdy.dictionary[3];

type Headers = Record<string, string>;

interface ControlFrame {
  control: true;
  type: number;
  flags: number;
  body: Buffer;
}

interface DataFrame {
  control: false;
  id: number;
  flags: number;
  body: Buffer;
}

type Frame = ControlFrame | DataFrame;

interface Outgoing {
  data?: Buffer;
  onWritten?: () => void;
}

/** One stream of a SPDY connection, as a Node Duplex (its end sends FIN). */
export class SpdyStream extends Duplex {
  private finSent = false;
  private resetSeen = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: Headers,
  ) {
    super({ allowHalfOpen: true });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.session.sendData(this.id, chunk, false, () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.finSent = true;
    this.session.sendData(this.id, Buffer.alloc(0), true, () => done());
  }

  override _read(): void {
    this.session.resumeInput();
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    // A stream dropped before its FIN is cancelled; never answer a reset with a reset.
    if (!this.finSent && !this.resetSeen) this.session.sendReset(this.id, RST_CANCEL);
    this.session.forget(this.id);
    // Its unread input must not hold up the other streams.
    this.session.resumeInput();
    done(err);
  }

  /** The peer reset the stream. */
  remoteReset(): void {
    this.resetSeen = true;
    this.destroy();
  }
}

/**
 * A SPDY connection on an upgraded socket, server side. Emits 'stream' (SpdyStream, already
 * accepted with a SYN_REPLY) for each stream the client opens, and 'close' once.
 */
export class SpdySession extends EventEmitter {
  private input: Buffer = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private handling = false;
  private readonly streams = new Map<number, SpdyStream>();
  private lastStreamId = 0;
  private readonly outgoing: Outgoing[] = [];
  private readonly inflater = zlib.createInflate({ dictionary });
  private readonly deflater = zlib.createDeflate({ dictionary });
  private deflating: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
  private closed = false;
  private inputPaused = false;

  constructor(private readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.shutdown());
    socket.on('close', () => this.shutdown());
    socket.on('error', () => this.shutdown());
    this.inflater.on('error', () => this.fail());
    this.deflater.on('error', () => this.fail());
  }

  /** Says goodbye (GOAWAY) and closes the connection once everything queued is written. */
  close(): void {
    if (this.closed) return;
    const body = Buffer.alloc(8);
    body.writeUInt32BE(this.lastStreamId, 0);
    this.enqueue({ data: controlFrame(FrameType.goAway, 0, body) });
    this.enqueue({ onWritten: () => this.socket.end() });
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
    this.shutdown();
  }

  sendData(id: number, data: Buffer, fin: boolean, onWritten: () => void): void {
    let offset = 0;
    do {
      const part = data.subarray(offset, offset + MAX_FRAME_PAYLOAD);
      offset += MAX_FRAME_PAYLOAD;
      const last = offset >= data.length;
      this.enqueue({ data: dataFrame(id, fin && last ? FLAG_FIN : 0, part), onWritten: last ? onWritten : undefined });
    } while (offset < data.length);
  }

  sendReset(id: number, status: number): void {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    body.writeUInt32BE(status, 4);
    this.enqueue({ data: controlFrame(FrameType.rstStream, 0, body) });
  }

  forget(id: number): void {
    this.streams.delete(id);
  }

  resumeInput(): void {
    if (this.inputPaused) {
      this.inputPaused = false;
      this.socket.resume();
    }
  }

  // --- reading ---

  private onData(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    while (this.input.length >= HEADER_BYTES) {
      const control = (this.input[0] & 0x80) !== 0;
      const length = this.input.readUInt32BE(4) & 0xffffff;
      if (control && length > MAX_CONTROL_FRAME) return this.fail();
      if (this.input.length < HEADER_BYTES + length) break;
      const flags = this.input[4];
      const body = this.input.subarray(HEADER_BYTES, HEADER_BYTES + length);
      if (control) {
        if ((this.input.readUInt16BE(0) & 0x7fff) !== VERSION) return this.fail();
        this.frames.push({ control, type: this.input.readUInt16BE(2), flags, body });
      } else {
        this.frames.push({ control, id: this.input.readUInt32BE(0) & 0x7fffffff, flags, body });
      }
      this.input = this.input.subarray(HEADER_BYTES + length);
    }
    this.handleFrames();
  }

  /** Handles queued frames in order; only a header block (inflated asynchronously) makes the rest wait. */
  private handleFrames(): void {
    while (!this.handling && this.frames.length > 0) {
      const frame = this.frames.shift()!;
      if (!frame.control) {
        this.onDataFrame(frame);
        continue;
      }
      if (frame.type === FrameType.synStream || frame.type === FrameType.headers) {
        const offset = frame.type === FrameType.synStream ? 10 : 4;
        if (frame.body.length < offset) return this.fail();
        this.handling = true;
        this.inflate(frame.body.subarray(offset)).then(
          (block) => {
            this.handling = false;
            if (frame.type === FrameType.synStream) this.onSynStream(frame, parseHeaderBlock(block));
            this.handleFrames();
          },
          () => this.fail(),
        );
        return;
      }
      this.onControlFrame(frame);
    }
  }

  private onSynStream(frame: ControlFrame, headers: Headers | undefined): void {
    const id = frame.body.readUInt32BE(0) & 0x7fffffff;
    // Client streams have odd ids. spdystream numbers a stream before it writes its SYN_STREAM,
    // so streams opened at once by several goroutines may arrive out of order.
    if (!headers || id % 2 === 0 || this.streams.has(id)) {
      this.sendReset(id, RST_PROTOCOL_ERROR);
      return;
    }
    this.lastStreamId = Math.max(this.lastStreamId, id);
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    this.sendReply(id);
    if (frame.flags & FLAG_FIN) stream.push(null);
    this.emit('stream', stream);
  }

  private onDataFrame(frame: DataFrame): void {
    const stream = this.streams.get(frame.id);
    if (!stream) return;
    if (frame.body.length > 0 && !stream.push(Buffer.from(frame.body)) && !this.inputPaused) {
      this.inputPaused = true;
      this.socket.pause();
    }
    if (frame.flags & FLAG_FIN) stream.push(null);
  }

  private onControlFrame(frame: ControlFrame): void {
    switch (frame.type) {
      case FrameType.rstStream:
        if (frame.body.length >= 4) this.streams.get(frame.body.readUInt32BE(0) & 0x7fffffff)?.remoteReset();
        return;
      case FrameType.ping:
        // Our own pings have even ids; the client's are answered with the same frame.
        if (frame.body.length >= 4 && frame.body.readUInt32BE(0) % 2 === 1) this.enqueue({ data: controlFrame(FrameType.ping, 0, frame.body) });
        return;
      case FrameType.goAway:
        this.close();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE, NOOP, SYN_REPLY: nothing to do without flow control or streams of our own.
        return;
    }
  }

  private inflate(block: Buffer): Promise<Buffer> {
    return zlibBlock(this.inflater, block);
  }

  // --- writing ---

  /** SYN_REPLY with an empty header block, compressed in order with any before it. */
  private sendReply(id: number): void {
    const entry: Outgoing = {};
    this.outgoing.push(entry);
    // One block at a time: a block is what the stream puts out between its write and its flush.
    this.deflating = this.deflating.then(() => zlibBlock(this.deflater, Buffer.alloc(4)));
    this.deflating.then(
      (block) => {
        const body = Buffer.alloc(4 + block.length);
        body.writeUInt32BE(id, 0);
        block.copy(body, 4);
        entry.data = controlFrame(FrameType.synReply, 0, body);
        this.flush();
      },
      () => this.fail(),
    );
  }

  private enqueue(entry: Outgoing): void {
    this.outgoing.push(entry);
    this.flush();
  }

  private flush(): void {
    while (this.outgoing.length > 0 && (this.outgoing[0].data !== undefined || this.outgoing[0].onWritten)) {
      const { data, onWritten } = this.outgoing.shift()!;
      if (this.closed) {
        onWritten?.();
        continue;
      }
      const ok = data === undefined || this.socket.write(data);
      if (!onWritten) continue;
      if (ok) onWritten();
      else this.socket.once('drain', onWritten);
    }
  }

  private fail(): void {
    this.destroy();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) stream.destroy();
    this.streams.clear();
    this.inflater.close();
    this.deflater.close();
    this.flush();
    this.emit('close');
  }
}

function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const frame = Buffer.alloc(HEADER_BYTES + body.length);
  frame.writeUInt16BE(0x8000 | VERSION, 0);
  frame.writeUInt16BE(type, 2);
  frame.writeUInt32BE(body.length, 4);
  frame[4] = flags;
  body.copy(frame, HEADER_BYTES);
  return frame;
}

function dataFrame(id: number, flags: number, body: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(id & 0x7fffffff, 0);
  header.writeUInt32BE(body.length, 4);
  header[4] = flags;
  return body.length === 0 ? header : Buffer.concat([header, body]);
}

/** Runs one header block through a connection-long zlib stream, ending it with a sync flush. */
function zlibBlock(stream: zlib.Inflate | zlib.Deflate, block: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      out.push(chunk);
    };
    stream.on('data', onData);
    stream.write(block, (err) => {
      if (err) {
        stream.off('data', onData);
        reject(err);
      }
    });
    stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      stream.off('data', onData);
      resolve(Buffer.concat(out));
    });
  });
}

/** Name/value pairs: a count, then length-prefixed names and values (uint32 lengths). */
export function parseHeaderBlock(block: Buffer): Headers | undefined {
  if (block.length < 4) return undefined;
  const count = block.readUInt32BE(0);
  const headers: Headers = {};
  let offset = 4;
  const take = (): string | undefined => {
    if (offset + 4 > block.length) return undefined;
    const len = block.readUInt32BE(offset);
    offset += 4;
    if (offset + len > block.length) return undefined;
    const text = block.toString('utf8', offset, offset + len);
    offset += len;
    return text;
  };
  for (let i = 0; i < count; i++) {
    const name = take();
    const value = take();
    if (name === undefined || value === undefined) return undefined;
    headers[name.toLowerCase()] = value;
  }
  return headers;
}
