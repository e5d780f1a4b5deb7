// The built peactl as a process against one server, without blocking this one.

import { execFile } from 'child_process';
import { mainJs } from '@peapod/client/testing';

export function runPeactl(server: string, args: string[], timeoutMs = 150_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [mainJs('cli'), '--server', server, ...args], { timeout: timeoutMs }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}
