// The real peapod-scheduler as a child process, for the integration tests and the
// end-to-end benchmark (the API server comes from @peapod/client's testing processes).

import { startComponent } from '@peapod/client/testing';
import type { RunningProcess, SpawnOptions } from '@peapod/client/testing';

/**
 * Starts peapod-scheduler against `server` and waits until it has synced and is scheduling
 * (its "started" line, so it runs at log level info unless `args` say otherwise).
 */
export async function startScheduler(server: string, opts: SpawnOptions & { args?: string[] } = {}): Promise<RunningProcess> {
  const scheduler = startComponent('scheduler', ['--server', server, '--log-level', 'info', ...(opts.args ?? [])], opts);
  await scheduler.ready(/"msg":"started"/);
  return scheduler;
}
