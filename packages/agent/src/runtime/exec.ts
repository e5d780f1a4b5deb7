import type { Duplex } from 'stream';
import type Docker from 'dockerode';
import { DockerFrameDemuxer } from './logs';
import type { ExecResult } from './types';

/** Hook output is for messages and events: keep its head, bounded. */
const MAX_OUTPUT_BYTES = 16 * 1024;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs cmd in a running container and collects its output. On timeout we stop waiting and
 * report timedOut; Docker has no API to kill an exec'd process, so it keeps running until it
 * ends or its container stops (which, for preStop, follows right after).
 */
export async function execInContainer(docker: Docker, id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
  const start = Date.now();
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  const chunks: Buffer[] = [];
  let size = 0;
  const demux = new DockerFrameDemuxer();
  demux.on('data', (chunk: Buffer) => {
    if (size >= MAX_OUTPUT_BYTES) return;
    const part = chunk.subarray(0, MAX_OUTPUT_BYTES - size);
    chunks.push(part);
    size += part.length;
  });
  const finished = new Promise<boolean>((resolve) => {
    demux.on('end', () => resolve(true));
    demux.on('error', () => resolve(true));
    stream.on('error', () => resolve(true));
  });
  stream.pipe(demux);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
  });
  const completed = await Promise.race([finished, timedOut]);
  clearTimeout(timer);
  const output = () => Buffer.concat(chunks).toString('utf8');
  if (!completed) {
    stream.destroy();
    return { exitCode: null, timedOut: true, output: output(), durationMs: Date.now() - start };
  }
  // The stream can close a moment before Docker records the exit code.
  let info = await exec.inspect();
  for (let i = 0; info.Running && i < 50; i++) {
    await delay(20);
    info = await exec.inspect();
  }
  return { exitCode: info.ExitCode ?? null, timedOut: false, output: output(), durationMs: Date.now() - start };
}
