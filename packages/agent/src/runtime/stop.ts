import type Docker from 'dockerode';
import { dockerStatusCode, isNotFound } from './errors';
import type { StopOptions, StopResult } from './types';

const DOCKER_ZERO_TIME = '0001-01-01T00:00:00Z';

/** Docker timestamps as RFC 3339 (millisecond precision); Docker's zero time as absent. */
export function dockerTime(value: string | undefined): string | undefined {
  if (!value || value === DOCKER_ZERO_TIME) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export type WaitOutcome = 'settled' | 'timed-out' | 'aborted';

/**
 * Waits for the promise to settle, for at most ms (Infinity: no limit) and no longer than
 * the signal stays unaborted; says which came first.
 */
export async function awaitWithin(promise: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<WaitOutcome> {
  if (signal?.aborted) return 'aborted';
  let timer: NodeJS.Timeout | undefined;
  let onAbort = (): void => undefined;
  const racers: Promise<WaitOutcome>[] = [
    promise.then(
      () => 'settled',
      () => 'settled',
    ),
  ];
  if (ms !== Infinity) racers.push(new Promise((resolve) => (timer = setTimeout(() => resolve('timed-out'), Math.max(0, ms)))));
  if (signal) {
    racers.push(
      new Promise((resolve) => {
        onAbort = () => resolve('aborted');
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    );
  }
  try {
    return await Promise.race(racers);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** A kill that found the container already stopped (409) or gone (404) is not an error here. */
async function signal(container: Docker.Container, name: string): Promise<boolean> {
  try {
    await container.kill({ signal: name });
    return true;
  } catch (err) {
    const code = dockerStatusCode(err);
    if (code === 409 || code === 404) return false;
    throw err;
  }
}

async function inspectOrUndefined(container: Docker.Container): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await container.inspect();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function ended(info: Docker.ContainerInspectInfo | undefined): { exitCode?: number; finishedAt?: string } {
  if (!info) return {};
  const result: { exitCode?: number; finishedAt?: string } = { exitCode: info.State.ExitCode };
  const finishedAt = dockerTime(info.State.FinishedAt);
  if (finishedAt) result.finishedAt = finishedAt;
  return result;
}

/**
 * Sends the container's stop signal (the image's STOPSIGNAL, else SIGTERM) now, unless it
 * went already, and SIGKILL at killAtMs (epoch ms) if it still runs, then waits for it to be
 * gone. With no time left (killAtMs already past) SIGKILL goes at once, without the stop
 * signal. An abort ends the wait with the container as it is (ended: interrupted).
 */
export async function terminateContainer(docker: Docker, id: string, killAtMs: number, opts: StopOptions = {}): Promise<StopResult> {
  const container = docker.getContainer(id);
  const before = await inspectOrUndefined(container);
  if (!before || !before.State.Running) return { ended: 'not-running', ...ended(before), durationMs: 0 };
  const stopSignal = (before.Config as { StopSignal?: string }).StopSignal || 'SIGTERM';
  const start = opts.stopSignalSentAt ?? Date.now();
  // Registered before signalling; condition not-running also answers at once if it already ended.
  const exited: Promise<unknown> = container.wait({ condition: 'not-running' });
  exited.catch(() => undefined);
  let killed = false;
  // A signal's moment is when it was sent: the process may be gone before Docker answers.
  if (killAtMs > start && opts.stopSignalSentAt === undefined) {
    const at = Date.now();
    if (await signal(container, stopSignal)) opts.onSignal?.(stopSignal, at);
  }
  const waited = await awaitWithin(exited, killAtMs - Date.now(), opts.signal);
  if (waited === 'aborted') return { ended: 'interrupted', signal: stopSignal, durationMs: Date.now() - start };
  if (waited === 'timed-out') {
    const at = Date.now();
    killed = await signal(container, 'SIGKILL');
    if (killed) opts.onSignal?.('SIGKILL', at);
    await exited.catch(() => undefined);
  }
  const after = await inspectOrUndefined(container);
  return { ended: killed ? 'killed' : 'exited', signal: killed && killAtMs <= start ? 'SIGKILL' : stopSignal, ...ended(after), durationMs: Date.now() - start };
}
