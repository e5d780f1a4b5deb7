// exec: the command runs in the container; exit 0 passes. A command still running at the
// timeout fails the probe (the kubelet's behaviour since exec probe timeouts are enforced).
import type { ExecAction } from '@peapod/api';
import type { ProbeHandler } from '../types';

export const execProbe: ProbeHandler<ExecAction> = async (action, target, timeoutMs) => {
  const cmd = action.command ?? [];
  const run = await target.exec(target.containerId, cmd, timeoutMs);
  if (run.timedOut) return { result: 'failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
  return { result: run.exitCode === 0 ? 'success' : 'failure', output: run.output };
};
