// The real kubectl as a child process against a test cluster, with a home of its own so no
// kubeconfig on the machine counts, and asynchronous so the test process stays responsive.
import { spawn } from 'child_process';
import type { ChildProcessWithoutNullStreams } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { againWhileKubectlDropped } from '@peapod/client/testing';

export const kubectlPath = process.env.KUBECTL ?? '/usr/bin/kubectl';

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** written to stdin, which is then closed; undefined leaves stdin empty */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export interface Kubectl {
  /** kubectl's own environment (HOME, KUBECONFIG) */
  readonly env: NodeJS.ProcessEnv;
  /** the arguments every invocation starts with (--server, cache dir) */
  readonly baseArgs: string[];
  /**
   * Runs kubectl to its end. An exec or cp whose output kubectl itself dropped runs again
   * (see againWhileKubectlDropped).
   */
  run(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  start(args: string[], env?: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams;
  cleanup(): void;
}

export function kubectlFor(server: string, extraArgs: string[] = []): Kubectl {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-kubectl-'));
  const env = { ...process.env, HOME: home, KUBECONFIG: path.join(home, 'none') };
  const baseArgs = ['--server', server, '--cache-dir', path.join(home, 'cache'), ...extraArgs];
  const start = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams =>
    spawn(kubectlPath, [...baseArgs, ...args], { env: { ...env, ...extraEnv } });
  const runOnce = (args: string[], opts: KubectlOptions): Promise<KubectlResult> =>
    new Promise((resolve, reject) => {
      const proc = start(args, opts.env);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      proc.stdout.on('data', (d: Buffer) => out.push(d));
      proc.stderr.on('data', (d: Buffer) => err.push(d));
      const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      proc.on('error', reject);
      proc.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
      });
      proc.stdin.on('error', () => undefined);
      proc.stdin.end(opts.input);
    });
  return {
    env,
    baseArgs,
    start,
    run(args, opts = {}) {
      const once = (): Promise<KubectlResult> => runOnce(args, opts);
      return args[0] === 'exec' || args[0] === 'cp' ? againWhileKubectlDropped(once) : once();
    },
    cleanup: () => fs.rmSync(home, { recursive: true, force: true }),
  };
}
