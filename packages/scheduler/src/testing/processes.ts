// The real peapod-apiserver and peapod-scheduler as child processes on loopback, for the
// integration tests and the end-to-end benchmark. Each is started on a free port (the
// server picks it) and killed when the test process exits, even after a failure.

import { spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// src/testing and dist/testing sit at the same depth, so these hold for tests and builds.
export const apiserverMainJs = path.resolve(__dirname, '../../../apiserver/dist/main.js');
export const schedulerMainJs = path.resolve(__dirname, '../../dist/main.js');

const live = new Set<ChildProcess>();
let killOnExit = false;

function track(child: ChildProcess): void {
  if (!killOnExit) {
    killOnExit = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildHandle {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** stderr so far (the last megabyte). */
  logs(): string;
  /** Resolves with the first match of `pattern` in stderr; rejects on timeout or exit. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` (default SIGTERM), then SIGKILL if it is still running after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

const maxLogChars = 1 << 20;

function spawnNode(script: string, args: string[], opts: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; cwd?: string }): ChildHandle {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
  });
  track(proc);
  let stderr = '';
  const waiters = new Set<() => void>();
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > maxLogChars) stderr = stderr.slice(stderr.length - maxLogChars / 2);
    for (const w of waiters) w();
  });
  const exited = new Promise<Exit>((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
      for (const w of waiters) w();
    });
  });
  const hasExited = (): boolean => proc.exitCode !== null || proc.signalCode !== null;

  return {
    proc,
    pid: proc.pid ?? -1,
    exited,
    logs: () => stderr,
    waitForLog(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = pattern.exec(stderr);
          if (m) finish(() => resolve(m));
          else if (hasExited()) finish(() => reject(new Error(`${path.basename(script)} exited before logging ${pattern}: ${stderr}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${path.basename(script)} did not log ${pattern} within ${timeoutMs} ms: ${stderr}`))),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (hasExited()) return exited;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}

export interface ApiServerProcess extends ChildHandle {
  readonly url: string;
  readonly dataDir: string;
  /** Stops the server and removes its data directory. */
  close(): Promise<void>;
}

/** Starts peapod-apiserver on a free loopback port with a fresh data directory. */
export async function startApiServer(opts: { args?: string[]; nodeArgs?: string[] } = {}): Promise<ApiServerProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-sched-api-'));
  const child = spawnNode(apiserverMainJs, ['--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, ...(opts.args ?? [])], {
    nodeArgs: opts.nodeArgs,
    cwd: dataDir,
  });
  const close = async (): Promise<void> => {
    await child.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const m = await child.waitForLog(/"address":"(http:\/\/127\.0\.0\.1:\d+)"/);
    return { ...child, url: m[1], dataDir, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Starts peapod-scheduler against `server` and waits until it has synced and is scheduling
 * (its "started" line, so it runs at log level info unless `args` say otherwise).
 */
export async function startScheduler(
  server: string,
  opts: { args?: string[]; nodeArgs?: string[]; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ChildHandle> {
  const child = spawnNode(schedulerMainJs, ['--server', server, '--log-level', 'info', ...(opts.args ?? [])], opts);
  try {
    await child.waitForLog(/"msg":"started"/);
    return child;
  } catch (err) {
    await child.stop('SIGKILL');
    throw err;
  }
}
