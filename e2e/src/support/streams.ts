// Getting inside a pod as a user does, through the API server: kubectl exec (with the
// command's exit code) and kubectl port-forward, and peactl exec.
import { spawn } from 'child_process';
import { againWhileKubectlDropped, getBody } from '@peapod/client/testing';
import { freePort, kubectlPath, peactlRun } from './cluster';
import { run } from './process';
import { waitFor } from './wait';

export interface StreamsCheck {
  /** what `kubectl exec POD -- cat FILE` printed */
  catOutput: string;
  /** exit code of `kubectl exec POD -- sh -c 'exit 3'` */
  kubectlExitCode: number | null;
  /** exit code of `peactl exec POD -- sh -c 'exit 3'` */
  peactlExitCode: number | null;
  /** what GET PATH answered through `kubectl port-forward POD LOCAL:PORT` */
  forwarded: string;
}

/** Runs exec and port-forward against a pod serving HTTP on port. */
export async function checkStreams(kubeconfig: string, pod: string, file: string, port: number, path: string): Promise<StreamsCheck> {
  const cat = await againWhileKubectlDropped(() => run(kubectlPath, ['--kubeconfig', kubeconfig, 'exec', pod, '--', 'cat', file]));
  if (cat.code !== 0) throw new Error(`kubectl exec ${pod} -- cat ${file} exited ${cat.code}: ${cat.stderr.trim()}`);
  const kubectlExit = await run(kubectlPath, ['--kubeconfig', kubeconfig, 'exec', pod, '--', 'sh', '-c', 'exit 3']);
  const peactlExit = await peactlRun(kubeconfig, ['exec', pod, '--', 'sh', '-c', 'exit 3']);
  const local = await freePort();
  const forward = spawn(kubectlPath, ['--kubeconfig', kubeconfig, 'port-forward', `pod/${pod}`, `${local}:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  forward.stdout.on('data', (d: Buffer) => (out += d.toString()));
  forward.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await waitFor('kubectl port-forward listening', 30_000, async () => out.includes(`127.0.0.1:${local}`), 200);
    const forwarded = (await getBody(local, path)).toString();
    return { catOutput: cat.stdout, kubectlExitCode: kubectlExit.code, peactlExitCode: peactlExit.code, forwarded };
  } finally {
    forward.kill('SIGKILL');
  }
}
