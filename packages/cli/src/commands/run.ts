// peactl run NAME --image=IMG [--restart=Never] [-- COMMAND ARGS]: one pod, quickly.

import type { Container, EnvVar, Pod } from '@peapod/api';
import type { Context } from '../context';
import { CliError } from '../errors';
import { formatObjects, parseOutputFormat } from '../printers/objects';

export interface RunFlags {
  image?: string;
  restart?: string;
  command?: boolean;
  labels?: string;
  env?: string[];
  port?: string;
  dryRun?: string;
  output?: string;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid label spec: ${part}`);
    labels[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return labels;
}

export function podForRun(name: string, namespace: string, rest: string[], flags: RunFlags): Pod {
  if (!flags.image) throw new CliError('--image is required');
  const restart = flags.restart ?? 'Always';
  if (restart !== 'Always' && restart !== 'OnFailure' && restart !== 'Never') throw new CliError(`invalid restart policy: ${restart}`);
  const container: Container = { name, image: flags.image };
  if (rest.length > 0) {
    if (flags.command) container.command = rest;
    else container.args = rest;
  }
  if (flags.env?.length) {
    container.env = flags.env.map((e): EnvVar => {
      const eq = e.indexOf('=');
      if (eq <= 0) throw new CliError(`invalid env: ${e}`);
      return { name: e.slice(0, eq), value: e.slice(eq + 1) };
    });
  }
  if (flags.port !== undefined) {
    if (!/^\d+$/.test(flags.port)) throw new CliError(`invalid port: ${flags.port}`);
    container.ports = [{ containerPort: Number(flags.port) }];
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: flags.labels ? parseLabels(flags.labels) : { run: name } },
    spec: { containers: [container], restartPolicy: restart },
  };
}

export async function run(ctx: Context, name: string, rest: string[], flags: RunFlags): Promise<void> {
  const pod = podForRun(name, ctx.namespace, rest, flags);
  const dryRun = flags.dryRun === 'client' || flags.dryRun === 'server';
  if (flags.dryRun !== undefined && flags.dryRun !== 'none' && !dryRun) throw new CliError(`Invalid dry-run value (${flags.dryRun}). Must be "none", "server", or "client".`);
  const result = flags.dryRun === 'client' ? pod : await ctx.client.create('pods', pod, { namespace: ctx.namespace, dryRun: flags.dryRun === 'server' });
  if (flags.output) {
    process.stdout.write(formatObjects([{ ...result, kind: 'Pod', apiVersion: 'v1' }], parseOutputFormat(flags.output), true, 'Pod'));
    return;
  }
  process.stdout.write(`pod/${result.metadata.name ?? name} created${dryRun ? ` (${flags.dryRun} dry run)` : ''}\n`);
}
