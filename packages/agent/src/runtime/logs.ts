import { PassThrough, Readable, Transform, TransformCallback } from 'stream';
import type Docker from 'dockerode';
import type { LogOptions } from './types';

const HEADER_BYTES = 8;
const NEWLINE = 0x0a;

/**
 * Turns Docker's multiplexed log stream (8-byte header: stream type, 3 zero bytes, payload
 * length big-endian) into plain text. stdout and stderr are each cut at line ends so the two
 * interleave by whole lines, never inside one.
 */
export class DockerFrameDemuxer extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private readonly partialLines = new Map<number, Buffer>();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER_BYTES) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + size) break;
      this.addPayload(this.pending[0], this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size));
      this.pending = this.pending.subarray(HEADER_BYTES + size);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    for (const rest of this.partialLines.values()) {
      if (rest.length > 0) this.push(Buffer.concat([rest, Buffer.from('\n')]));
    }
    this.partialLines.clear();
    done();
  }

  private addPayload(stream: number, payload: Buffer): void {
    const before = this.partialLines.get(stream);
    const data = before && before.length > 0 ? Buffer.concat([before, payload]) : payload;
    const lastNewline = data.lastIndexOf(NEWLINE);
    if (lastNewline >= 0) this.push(data.subarray(0, lastNewline + 1));
    this.partialLines.set(stream, Buffer.from(data.subarray(lastNewline + 1)));
  }
}

function dockerLogOptions(opts: LogOptions): Docker.ContainerLogsOptions {
  const options: Docker.ContainerLogsOptions = { stdout: true, stderr: true, timestamps: opts.timestamps === true };
  if (opts.tailLines !== undefined) options.tail = opts.tailLines;
  if (opts.sinceSeconds !== undefined) options.since = Math.floor(Date.now() / 1000) - opts.sinceSeconds;
  return options;
}

/**
 * stdout+stderr of a container as plain text. Resolves once Docker has accepted the request,
 * so a missing container rejects (404) before any byte is streamed.
 */
export async function containerLogs(docker: Docker, id: string, opts: LogOptions = {}): Promise<Readable> {
  const container = docker.getContainer(id);
  const info = await container.inspect();
  // A TTY container's output is one raw stream, not framed.
  const decode = (): Transform => (info.Config.Tty ? new PassThrough() : new DockerFrameDemuxer());
  const options = dockerLogOptions(opts);
  if (!opts.follow) {
    const buffer = await container.logs({ ...options, follow: false });
    const out = decode();
    out.end(buffer);
    return out;
  }
  const source = (await container.logs({ ...options, follow: true })) as Readable;
  const out = decode();
  source.on('error', (err) => out.destroy(err));
  // A reader that goes away (closed HTTP response) must release Docker's follow stream.
  out.on('close', () => source.destroy());
  source.pipe(out);
  return out;
}
