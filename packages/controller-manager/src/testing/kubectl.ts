// The real kubectl pointed only at --server, with an empty home and its own cache directory.

import { spawn, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

export const kubectlPath = process.env.KUBECTL ?? '/usr/bin/kubectl';

export function kubectlFor(server: string) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-cm-kubectl-'));
  const env = { ...process.env, HOME: home, KUBECONFIG: '/nonexistent' };
  const base = ['--server', server, '--cache-dir', path.join(home, 'cache')];
  return {
    run(args: string[]): { code: number; stdout: string; stderr: string } {
      const r = spawnSync(kubectlPath, [...base, ...args], { env, encoding: 'utf8', timeout: 30_000 });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    /** The same without blocking, for a command that waits (delete --cascade=foreground) while the test watches. */
    runAsync(args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
      return new Promise((resolve) => {
        const proc = spawn(kubectlPath, [...base, ...args], { env, timeout: timeoutMs });
        let stdout = '';
        let stderr = '';
        proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        proc.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });
    },
    cleanup: () => fs.rmSync(home, { recursive: true, force: true }),
  };
}
