// Leader-elected components as processes (several schedulers, several controller managers on
// one API server): which of them leads, told by their logs, and the lease they compete for.

import { execFile } from 'child_process';
import { promisify } from 'util';
import type { Lease } from '@peapod/api';
import type { Client } from '../rest';
import { startComponent } from './processes';
import type { RunningProcess } from './processes';
import { waitFor } from './wait';

/** A candidate for the component's lease against `server`, logging at level info (where its election shows). */
export function startCandidate(component: 'scheduler' | 'controller-manager', server: string): RunningProcess {
  return startComponent(component, ['--server', server, '--log-level', 'info']);
}

/** The line a candidate logs (at level info) when it takes the lease. */
export const acquiredLeaseLine = /"msg":"successfully acquired lease"/;

/** The one live candidate that has taken the lease; waits for one to (a lease left by a dead leader runs out first). */
export function leaderAmong(candidates: RunningProcess[], timeoutMs = 40_000): Promise<RunningProcess> {
  return waitFor('a leader', () => candidates.find((c) => !c.hasExited() && acquiredLeaseLine.test(c.logs())), timeoutMs, 50);
}

/** The holder the lease `kube-system/NAME` names ('' when released). */
export async function leaseHolder(client: Client, name: string): Promise<string> {
  const lease = await client.get<Lease>('leases', name, { namespace: 'kube-system' });
  return lease.spec?.holderIdentity ?? '';
}

/** What the real kubectl prints for `get lease -n kube-system`. */
export async function kubectlGetLeases(server: string): Promise<string> {
  const { stdout } = await promisify(execFile)('kubectl', ['--server', server, 'get', 'lease', '-n', 'kube-system'], { env: { ...process.env, KUBECONFIG: '/dev/null' } });
  return stdout;
}

/**
 * Ends `leader` with `signal` and waits for one of `others` to take the lease; prints how long
 * that took (after `what`) and returns it with the new leader. On SIGTERM the leader must exit cleanly.
 */
export async function handOver(what: string, leader: RunningProcess, signal: 'SIGKILL' | 'SIGTERM', others: RunningProcess[]): Promise<{ next: RunningProcess; ms: number }> {
  const at = Date.now();
  const exit = await leader.kill(signal);
  if (signal === 'SIGTERM' && exit.code !== 0) throw new Error(`${what}: the leader exited with ${JSON.stringify(exit)} on SIGTERM`);
  const next = await leaderAmong(others);
  const ms = Date.now() - at;
  process.stderr.write(`${what}: ${ms} ms\n`);
  return { next, ms };
}
