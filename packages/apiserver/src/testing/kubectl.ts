import { spawn, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { removeDir, startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';

export const kubectlPath = process.env.KUBECTL ?? '/usr/bin/kubectl';

export function hasKubectl(): boolean {
  return fs.existsSync(kubectlPath);
}

/** A kubectl runner with its own empty home and cache, pointed only at --server. */
export function kubectlFor(server: string) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-kubectl-'));
  const env = { ...process.env, HOME: home, KUBECONFIG: path.join(home, 'none') };
  const base = ['--server', server, '--cache-dir', path.join(home, 'cache')];
  return {
    home,
    run(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
      const r = spawnSync(kubectlPath, [...base, ...args], { env, input, encoding: 'utf8', timeout: 30_000 });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    /** run without blocking the event loop, for kubectl talking to a server in this process */
    runAsync(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
      return new Promise((resolve) => {
        const proc = spawn(kubectlPath, [...base, ...args], { env, timeout: 60_000 });
        let stdout = '';
        let stderr = '';
        proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        proc.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        proc.stdin.end(input);
      });
    },
    /** starts a long-running kubectl (get -w) and collects its stdout */
    start(args: string[]) {
      const proc = spawn(kubectlPath, [...base, ...args], { env });
      let out = '';
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
      return {
        output: () => out,
        stop: () => proc.kill('SIGKILL'),
      };
    },
    cleanup: () => fs.rmSync(home, { recursive: true, force: true }),
  };
}

export type Kubectl = ReturnType<typeof kubectlFor>;

/**
 * An API server process and a kubectl pointed at it, for the tests of one file: started
 * before them, stopped and removed after them (fields filled in by then).
 */
export function serverWithKubectl(): { server: RunningApiServer; kubectl: Kubectl } {
  const env = {} as { server: RunningApiServer; kubectl: Kubectl };
  beforeAll(async () => {
    env.server = await startApiServer();
    env.kubectl = kubectlFor(env.server.url);
  });
  afterAll(async () => {
    if (env.server) {
      await env.server.kill();
      removeDir(env.server.dataDir);
    }
    env.kubectl?.cleanup();
  });
  return env;
}
