// peactl logs POD [CONTAINER] [-c C] [-f] [--tail N] [--previous] [--timestamps]

import type { Context } from '../context';
import { CliError } from '../errors';

export interface LogsFlags {
  container?: string;
  follow?: boolean;
  tail?: number;
  previous?: boolean;
  timestamps?: boolean;
}

export async function logs(ctx: Context, args: string[], flags: LogsFlags): Promise<void> {
  if (args.length === 0 || args.length > 2) throw new CliError('expected POD_NAME [CONTAINER_NAME]');
  let pod = args[0];
  if (pod.includes('/')) {
    const [type, name] = pod.split('/', 2);
    if (!['pod', 'pods', 'po'].includes(type.toLowerCase())) throw new CliError(`cannot get the logs from ${type}`);
    pod = name;
  }
  const container = flags.container ?? args[1];
  const stream = ctx.client.logs(ctx.namespace, pod, {
    container,
    follow: flags.follow,
    tailLines: flags.tail !== undefined && flags.tail >= 0 ? flags.tail : undefined,
    previous: flags.previous,
    timestamps: flags.timestamps,
  });
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
}
