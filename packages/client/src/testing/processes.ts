// The built Peapod programs as child processes on loopback, for every package's integration
// tests and benches. Components are found by path from the monorepo (never imported, so no
// package depends on another component's code); every process started here is killed when
// the test process exits, even after a failure.

import { spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export type ComponentName = 'apiserver' | 'scheduler' | 'controller-manager' | 'agent' | 'hollow' | 'cli' | 'proxy' | 'dns';

// src/testing and dist/testing sit at the same depth, so this holds for ts-jest and builds.
const packagesDir = path.resolve(__dirname, '../../..');

/** The built entry point of a component (run `npx tsc -b` first). */
export function mainJs(component: ComponentName): string {
  return path.join(packagesDir, component, 'dist', 'main.js');
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc (Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}

// USER_HZ: 100 on every Linux architecture Node runs on.
const clockTicksPerSecond = 100;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  hasExited(): boolean;
  /** What the process wrote to the watched stream so far (stderr unless told otherwise; the last few MiB). */
  logs(): string;
  /** Resolves with the first match of `pattern` in the logs; rejects on timeout (15 s by default) or exit. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** waitForLine for a start-up line: when it does not come, the process is killed (SIGKILL) before the rejection. */
  ready(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` (default SIGTERM) and waits for the exit, sending SIGKILL after `graceMs`. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

export interface SpawnOptions {
  /** Flags for node itself, e.g. ['--cpu-prof']. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The stream logs() and waitForLine read; the other is ignored. */
  output?: 'stderr' | 'stdout';
  /** Started through nice(1), this much nicer than the caller, every thread of it (a load generator, below the processes it measures). */
  niceness?: number;
}

const defaultTimeoutMs = 15_000;
const maxLogChars = 4 << 20;
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

/** Runs `node script args` without waiting for anything. */
export function spawnNode(script: string, args: string[], opts: SpawnOptions = {}): RunningProcess {
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: build first (npx tsc -b)`);
  const output = opts.output ?? 'stderr';
  const command = [process.execPath, ...(opts.nodeArgs ?? []), script, ...args];
  // nice(1) execs node in its own place: the pid is node's.
  const [file, ...argv] = opts.niceness === undefined ? command : ['nice', '-n', String(opts.niceness), ...command];
  const proc = spawn(file, argv, {
    stdio: ['ignore', output === 'stdout' ? 'pipe' : 'ignore', output === 'stderr' ? 'pipe' : 'ignore'],
    env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
    cwd: opts.cwd,
  });
  track(proc);
  const name = path.relative(packagesDir, script);
  let text = '';
  const waiters = new Set<() => void>();
  const stream = output === 'stdout' ? proc.stdout : proc.stderr;
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    text += chunk;
    if (text.length > maxLogChars) text = text.slice(text.length - maxLogChars / 2);
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

  const child: RunningProcess = {
    proc,
    pid: proc.pid ?? -1,
    exited,
    hasExited,
    logs: () => text,
    waitForLine(pattern, timeoutMs = defaultTimeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = pattern.exec(text);
          if (m) finish(() => resolve(m));
          else if (hasExited()) finish(() => reject(new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before logging ${pattern}: ${text}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`${name} did not log ${pattern} within ${timeoutMs} ms: ${text}`))), timeoutMs);
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async ready(pattern, timeoutMs) {
      try {
        return await child.waitForLine(pattern, timeoutMs);
      } catch (err) {
        await child.kill('SIGKILL');
        throw err;
      }
    },
    async kill(signal = 'SIGTERM', graceMs = 10_000) {
      if (hasExited()) return exited;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
  return child;
}

/** Flags that lift a component's client rate limit (--kube-api-qps 0), for benches that measure its code rather than the limit. */
export const unlimitedRate = ['--kube-api-qps', '0'];

/** Runs a component's built main.js with `args`, as spawnNode does. */
export function startComponent(component: ComponentName, args: string[], opts: SpawnOptions = {}): RunningProcess {
  return spawnNode(mainJs(component), args, opts);
}

export interface RunningApiServer extends RunningProcess {
  /** http(s)://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Kills the server (SIGTERM by default) and removes its data directory. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ApiServerOptions extends Omit<SpawnOptions, 'output'> {
  /** Where the server keeps its data; a fresh temporary directory by default. */
  dataDir?: string;
  /** 0 (the default) lets the server pick a free port. */
  port?: number;
  /** More flags, e.g. TLS or authentication files. */
  args?: string[];
  timeoutMs?: number;
}

/** Node flags that let a test collect a process's garbage with SIGUSR2 (see gc-on-signal.ts). */
export const gcOnSignal = ['--expose-gc', '-r', path.join(__dirname, 'gc-on-signal.js')];

/** The address line the server logs once it listens, with or without TLS. */
const addressLine = /"address":"(https?:\/\/\d+\.\d+\.\d+\.\d+:(\d+))"/;

/**
 * The storage flags of a server under test: none (SQLite in its data directory), or with
 * PEAPOD_TEST_STORAGE=etcd a prefix of its own in the test etcd at PEAPOD_TEST_ETCD_ENDPOINTS,
 * named after its data directory, so that a server restarted on the same directory finds
 * what it stored.
 */
function testStorageArgs(dataDir: string): string[] {
  const endpoints = process.env.PEAPOD_TEST_ETCD_ENDPOINTS;
  if (process.env.PEAPOD_TEST_STORAGE !== 'etcd' || !endpoints) return [];
  return ['--storage-backend', 'etcd3', '--etcd-servers', endpoints, '--etcd-prefix', `/peapod-test/${path.basename(dataDir)}`];
}

/** Starts peapod-apiserver on loopback and waits until it listens. */
export async function startApiServer(opts: ApiServerOptions = {}): Promise<RunningApiServer> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-apiserver-'));
  const args = ['--port', String(opts.port ?? 0), '--bind', '127.0.0.1', '--data-dir', dataDir, ...testStorageArgs(dataDir), ...(opts.args ?? [])];
  let match: RegExpExecArray;
  let server: RunningProcess;
  try {
    server = startComponent('apiserver', args, opts);
    match = await server.ready(addressLine, opts.timeoutMs);
  } catch (err) {
    if (opts.dataDir === undefined) removeDir(dataDir);
    throw err;
  }
  return {
    ...server,
    url: match[1],
    port: Number(match[2]),
    dataDir,
    async stop(signal = 'SIGTERM') {
      await server.kill(signal);
      removeDir(dataDir);
    },
  };
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
