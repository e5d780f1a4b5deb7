// peactl dashboard: serves the web dashboard (@peapod/dashboard) on this machine, speaking to
// the API server with this command's credentials, until Ctrl-C.

import { Client, createLogger, stopOnSignals } from '@peapod/client';
import type { Context } from '../context';

export interface DashboardFlags {
  port: number;
  address: string;
}

const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export async function dashboard(ctx: Context, flags: DashboardFlags): Promise<void> {
  const { startDashboard } = await import('@peapod/dashboard');
  const log = createLogger('peactl-dashboard');
  // Its own client: the page shows the API's warnings itself, so none go to this terminal.
  const client = new Client({ ...ctx.options, onWarning: undefined });
  const running = await startDashboard({ client, port: flags.port, address: flags.address, log });
  if (!loopback.test(flags.address)) {
    process.stderr.write(`Warning: serving on ${flags.address}, not loopback: whoever reaches it with the link acts as you, over plain HTTP.\n`);
  }
  process.stdout.write(`Serving the dashboard of ${client.server} on ${running.origin}\nOpen ${running.url}\nCtrl-C stops it.\n`);
  await new Promise<never>(() =>
    stopOnSignals({
      log,
      stop: async () => {
        await running.close();
        client.close();
      },
    }),
  );
}
