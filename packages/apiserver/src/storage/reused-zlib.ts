// Gzip for etcd's values without new memory outside V8's heap for each value: one zlib
// stream per setting (the window is sized to the value), reset after each value instead of
// made anew, the text written into and deflated from buffers kept between values, and the
// bytes handed out as slices of a large buffer. zlib.gzipSync makes a zlib stream, its state
// array and a buffer or two for every value, and each is memory the process reports to V8.
// While V8 marks a large heap and that memory is over its limit, every such report makes the
// caller mark for 5 to 10 ms: in a profile of the API server on etcd at 150,000 pods,
// gzipSync was 40% of the thread in its longest turns. Same deflate, same options: same bytes.

import zlib from 'zlib';
import { Slab } from './slab';

/** Node's binding under its zlib streams, which zlib.gzipSync drives the same way; not in Node's typings. */
interface ZlibHandle {
  writeSync(flush: number, input: Buffer, inOffset: number, inLength: number, output: Buffer, outOffset: number, outLength: number): void;
}

type Engine = zlib.Gzip & {
  reset(): void;
  _handle: ZlibHandle | null;
  /** after each write: [output bytes left, input bytes left] */
  _writeState: Uint32Array;
};

/** Values past this size are gzipped the ordinary way: rare, and not worth keeping buffers that large. */
const largestReused = 1 << 20;

/** Room for `bytes` in a buffer that only grows: at least double, so that growing is rare. */
function atLeast(buffer: Buffer, bytes: number): Buffer {
  return buffer.length >= bytes ? buffer : Buffer.allocUnsafeSlow(Math.max(bytes, buffer.length * 2));
}

/** Over zlib's deflateBound (stored blocks at worst, for any window and memory level) with gzip's header and trailer. */
function deflateBound(bytes: number): number {
  return bytes + (bytes >> 3) + (bytes >> 6) + 64;
}

/** finish(): the output ran out before zlib was done */
const outOfRoom = -2;
/** finish(): zlib failed (which destroys the engine: it is not reused), or input was left over */
const failed = -1;

/** Runs `input[0, length)` through the engine to its end: the bytes it wrote to `output`, or outOfRoom, or failed. */
function finish(engine: Engine, input: Buffer, length: number, output: Buffer): number {
  const handle = engine._handle;
  if (!handle) return failed;
  handle.writeSync(zlib.constants.Z_FINISH, input, 0, length, output, 0, output.length);
  if (engine.destroyed) return failed;
  const [outputLeft, inputLeft] = engine._writeState;
  engine.reset();
  if (outputLeft === 0) return outOfRoom;
  return inputLeft === 0 ? output.length - outputLeft : failed;
}

function engine(make: () => zlib.Gzip | zlib.Gunzip): Engine {
  const e = make() as Engine;
  // A zlib error destroys the stream and emits 'error' on the next tick: finish() has seen it by then.
  e.on('error', () => undefined);
  return e;
}

export class ReusedGzip {
  /** by level, window and memory level */
  private readonly deflaters = new Map<string, Engine>();
  private inflater?: Engine;
  private input: Buffer = Buffer.allocUnsafeSlow(16 * 1024);
  private output: Buffer = Buffer.allocUnsafeSlow(16 * 1024);
  private readonly kept = new Slab();

  constructor(private readonly options: (bytes: number) => zlib.ZlibOptions) {}

  /** `text` gzipped with the options for its size, as zlib.gzipSync would make it. */
  gzip(text: string): Buffer {
    const bytes = Buffer.byteLength(text, 'utf8');
    const options = this.options(bytes);
    if (bytes > largestReused) return zlib.gzipSync(text, options);
    this.input = atLeast(this.input, bytes);
    this.input.write(text, 0, bytes, 'utf8');
    this.output = atLeast(this.output, deflateBound(bytes));
    const settings = `${options.level}/${options.windowBits}/${options.memLevel}`;
    let deflater = this.deflaters.get(settings);
    if (!deflater) this.deflaters.set(settings, (deflater = engine(() => zlib.createGzip(options))));
    const produced = finish(deflater, this.input, bytes, this.output);
    if (produced < 0) {
      if (deflater.destroyed) this.deflaters.delete(settings);
      return zlib.gzipSync(this.input.subarray(0, bytes), options);
    }
    return this.kept.copy(this.output.subarray(0, produced));
  }

  /** The text `gzipped` holds; what zlib cannot read throws as zlib.gunzipSync does. */
  gunzip(gzipped: Buffer): string {
    if (gzipped.length > largestReused) return zlib.gunzipSync(gzipped).toString('utf8');
    for (let room = Math.max(this.output.length, gzipped.length * 4); room <= largestReused * 8; room *= 2) {
      this.output = atLeast(this.output, room);
      this.inflater ??= engine(() => zlib.createGunzip());
      const produced = finish(this.inflater, gzipped, gzipped.length, this.output);
      if (produced >= 0) return this.output.toString('utf8', 0, produced);
      if (produced === failed) break;
    }
    if (this.inflater?.destroyed) this.inflater = undefined;
    return zlib.gunzipSync(gzipped).toString('utf8');
  }
}
