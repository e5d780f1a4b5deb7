// Test helpers: the built peactl (and the real kubectl) run as processes against a real
// peapod-apiserver (started with @peapod/client's testing processes).

import { spawn, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { rfc3339 } from '@peapod/api';
import { mainJs } from '@peapod/client/testing';

export const peactlMain = mainJs('cli');
export const kubectlPath = process.env.KUBECTL ?? '/usr/bin/kubectl';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** An environment with no kubeconfig to find, so only the flags given count. */
export function isolatedEnv(home: string): NodeJS.ProcessEnv {
  return { ...process.env, HOME: home, KUBECONFIG: path.join(home, 'no-kubeconfig') };
}

// peactl only reads its home (for a kubeconfig), so a home that does not exist is empty enough
// and leaves nothing behind.
const emptyHome = path.join(os.tmpdir(), `peactl-no-home-${process.pid}`);

/** Runs peactl to completion (args after the binary; pass -s URL yourself or use peactlFor). */
export function peactl(args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Result {
  const r = spawnSync(process.execPath, [peactlMain, ...args], {
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    env: opts.env ?? isolatedEnv(emptyHome),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** peactl against one server. */
export function peactlFor(url: string) {
  return (args: string[], opts: { input?: string; timeoutMs?: number } = {}): Result => peactl(['--server', url, ...args], opts);
}

/** peactl against url as one shell-quoted command line (for script(1) and the like). */
export function peactlCommand(url: string, args: string[]): string[] {
  return [process.execPath, peactlMain, '--server', url, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`);
}

/** Runs peactl under a pseudo-terminal (util-linux `script`), so it behaves as on a terminal. */
export function peactlOnTerminal(url: string, args: string[], timeoutMs = 30_000): Result {
  const quoted = peactlCommand(url, args).join(' ');
  const r = spawnSync('script', ['-qec', quoted, '/dev/null'], { encoding: 'utf8', timeout: timeoutMs, env: isolatedEnv(emptyHome) });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function hasScript(): boolean {
  return spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** The real kubectl with an empty home and its own cache, pointed only at `url`. */
export function kubectlFor(url: string) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'peactl-kubectl-'));
  return {
    run(args: string[]): Result {
      const r = spawnSync(kubectlPath, ['--server', url, '--cache-dir', path.join(home, 'cache'), ...args], {
        encoding: 'utf8',
        timeout: 30_000,
        env: isolatedEnv(home),
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    cleanup: () => fs.rmSync(home, { recursive: true, force: true }),
  };
}

/**
 * peactl's and kubectl's output for the same arguments. Ages are printed to the second, so a
 * pair that straddles a second boundary is taken again.
 */
export function sideBySide(peactlRun: (args: string[]) => Result, kubectl: { run(args: string[]): Result }, args: string[]): { peactl: Result; kubectl: Result } {
  let pair = { peactl: peactlRun(args), kubectl: kubectl.run(args) };
  for (let i = 0; i < 3 && pair.peactl.stdout !== pair.kubectl.stdout; i++) pair = { peactl: peactlRun(args), kubectl: kubectl.run(args) };
  return pair;
}

export function hasKubectl(): boolean {
  return fs.existsSync(kubectlPath);
}

/** POSTs JSON to the server (binding pods to nodes that have no agent, in tests). */
export async function postJson(url: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

export function bindPod(url: string, namespace: string, pod: string, node: string): Promise<number> {
  return postJson(url, `/api/v1/namespaces/${namespace}/pods/${pod}/binding`, {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: pod, namespace },
    target: { apiVersion: 'v1', kind: 'Node', name: node },
  });
}

export function nodeObject(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: rfc3339(new Date()), lastTransitionTime: rfc3339(new Date()) }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    },
  };
}

export interface Running {
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches, rejects after timeoutMs. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number>;
  kill(): void;
}

/** Starts peactl without waiting for it (get -w, drain), with no kubeconfig to find. */
export function startPeactl(url: string, args: string[]): Running {
  const proc = spawn(process.execPath, [peactlMain, '--server', url, ...args], { env: isolatedEnv(emptyHome), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners: (() => void)[] = [];
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => proc.on('exit', (code) => resolve(code ?? -1)));
  return {
    stdout: () => out,
    stderr: () => err,
    waitForOutput: (re, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(out)) return resolve();
        const timer = setTimeout(() => reject(new Error(`no ${re} in output: ${out} ${err}`)), timeoutMs);
        listeners.push(() => {
          if (re.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
      }),
    exited,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

/** Sends a request with a JSON body and returns the status (the agent's part, in tests). */
export async function sendJson(url: string, method: string, path: string, body: unknown, contentType = 'application/json'): Promise<number> {
  const res = await fetch(url + path, { method, headers: { 'Content-Type': contentType }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}
