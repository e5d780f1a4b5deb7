// Interactive work in a container over a hijacked Docker connection: running a command
// (docker exec) and attaching to a container's own stdio. This is what `kubectl exec`,
// `attach`, `cp` and port-forward reach on a node.
import { Writable } from 'stream';
import type { Duplex, Readable } from 'stream';
import type Docker from 'dockerode';
import type { TerminalSize } from '@peapod/api';

export interface Stdio {
  /** what the client types; its end closes the process's stdin */
  stdin?: Readable;
  stdout?: Writable;
  /** ignored with a TTY: a terminal has one output */
  stderr?: Writable;
  tty: boolean;
  /** the terminal's size to start with (a TTY only) */
  size?: TerminalSize;
}

export interface InteractiveProcess {
  /** Sets the terminal size (a TTY only). */
  resize(size: TerminalSize): void;
  /** Resolves once the output has ended: with the exit code for exec, null for attach. */
  readonly done: Promise<number | null>;
  /** Cuts the connection to Docker (the client went away). */
  close(): void;
}

const HEADER_BYTES = 8;

/**
 * Splits Docker's multiplexed stream (8-byte header: stream 1 stdout or 2 stderr, 3 zero
 * bytes, payload length big-endian) into two writables, byte for byte, waiting for a slow
 * reader before taking more (unlike the log demuxer, which cuts at line ends).
 */
export class DockerStreamDemux extends Writable {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly stdout: Writable | undefined,
    private readonly stderr: Writable | undefined,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const waits: Promise<void>[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + size) break;
      const target = this.pending[0] === 2 ? this.stderr : this.stdout;
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size);
      this.pending = this.pending.subarray(HEADER_BYTES + size);
      if (target && !target.destroyed && size > 0 && !target.write(payload)) {
        waits.push(new Promise((resolve) => drainOrClose(target, resolve)));
      }
    }
    if (waits.length === 0) done();
    else void Promise.all(waits).then(() => done());
  }
}

function drainOrClose(w: Writable, then: () => void): void {
  const finish = (): void => {
    w.off('drain', finish);
    w.off('close', finish);
    then();
  };
  w.on('drain', finish);
  w.on('close', finish);
}

/**
 * Connects the client's streams to a hijacked Docker connection; resolves when all of the
 * output has been handed to the client's writables (they are not ended).
 */
function relay(socket: Duplex, io: Stdio): Promise<void> {
  if (io.stdin) {
    io.stdin.on('error', () => socket.destroy());
    // The end of stdin half-closes the connection: Docker then closes the process's stdin.
    io.stdin.pipe(socket);
  }
  return new Promise((resolve) => {
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      io.stdin?.unpipe(socket);
      resolve();
    };
    socket.on('error', finish);
    if (io.tty) {
      // A terminal's output is one raw stream.
      socket.pipe(io.stdout ?? discard(), { end: false });
      socket.on('end', finish);
      socket.on('close', finish);
      return;
    }
    const demux = new DockerStreamDemux(io.stdout, io.stderr);
    socket.pipe(demux);
    demux.on('finish', finish);
    socket.on('close', () => {
      if (!demux.writableEnded) demux.end();
    });
  });
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _enc, done) => done() });
}

/** Resizes one after another: Docker applies concurrent ones in any order, and the last must win. */
function inOrder(resize: (size: TerminalSize) => Promise<unknown>): (size: TerminalSize) => void {
  let last: Promise<unknown> = Promise.resolve();
  return (size) => {
    last = last.then(() => resize(size)).catch(() => undefined);
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs cmd in a running container with the client's streams attached. */
export async function execInteractive(docker: Docker, id: string, cmd: string[], io: Stdio): Promise<InteractiveProcess> {
  const exec = await docker.getContainer(id).exec({
    Cmd: cmd,
    AttachStdin: !!io.stdin,
    AttachStdout: !!io.stdout,
    AttachStderr: !io.tty && !!io.stderr,
    Tty: io.tty,
    // Docker 23 (API 1.42) starts the terminal at this size; older daemons need the resize below.
    ...(io.tty && io.size ? { ConsoleSize: [io.size.height, io.size.width] } : {}),
  });
  const socket = (await exec.start({ hijack: true, stdin: !!io.stdin, Tty: io.tty })) as Duplex;
  const done = relay(socket, io).then(async () => {
    // The stream can close a moment before Docker records the exit code.
    let info = await exec.inspect();
    for (let i = 0; info.Running && i < 100; i++) {
      await delay(20);
      info = await exec.inspect();
    }
    return info.ExitCode ?? null;
  });
  const resize = inOrder((size) => exec.resize({ h: size.height, w: size.width }));
  if (io.tty && io.size) resize(io.size);
  return {
    resize,
    done,
    close: () => socket.destroy(),
  };
}

/** Attaches the client's streams to a running container's own stdio. */
export async function attachInteractive(docker: Docker, id: string, io: Stdio): Promise<InteractiveProcess> {
  const container = docker.getContainer(id);
  const socket = (await container.attach({
    stream: true,
    hijack: true,
    stdin: !!io.stdin,
    stdout: !!io.stdout,
    stderr: !io.tty && !!io.stderr,
  })) as Duplex;
  const done = relay(socket, io).then(() => null);
  const resize = inOrder((size) => container.resize({ h: size.height, w: size.width }));
  if (io.tty && io.size) resize(io.size);
  return {
    resize,
    done,
    close: () => socket.destroy(),
  };
}
