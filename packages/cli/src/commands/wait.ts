// peactl wait (TYPE NAME | TYPE/NAME | TYPE -l SEL | TYPE --all) --for=delete|condition=C[=V] --timeout=30s

import type { Context } from '../context';
import { isNotFound } from '@peapod/client';
import { CliError, reportError } from '../errors';
import { resolveType, splitTypeAndNames } from '../resources';
import { hasCondition, isGone, timeoutMessage, waitFor } from '../wait';
import type { Done, WaitTarget } from '../wait';

export interface WaitFlags {
  for?: string;
  timeoutMs: number;
  selector?: string;
  all?: boolean;
}

function condition(spec: string): { done: Done; what: string } {
  if (spec === 'delete') return { done: isGone, what: 'deleted' };
  const m = /^condition=([^=]+)(?:=(.*))?$/.exec(spec);
  if (m) return { done: hasCondition(m[1], m[2] ?? 'True'), what: `${m[1]}${m[2] !== undefined ? `=${m[2]}` : ''}` };
  throw new CliError(`unrecognized condition: "${spec}"`);
}

export async function waitCommand(ctx: Context, args: string[], flags: WaitFlags): Promise<void> {
  if (!flags.for) throw new CliError('--for must be specified');
  const { done, what } = condition(flags.for);
  const targets: WaitTarget[] = [];
  for (const group of splitTypeAndNames(args)) {
    const type = await resolveType(ctx.client, group.type);
    const namespace = type.namespaced ? ctx.namespace : undefined;
    if (group.names.length > 0) {
      for (const name of group.names) targets.push({ type, name, namespace });
    } else if (flags.selector || flags.all) {
      const list = await ctx.client.listAll(type.name, { namespace, labelSelector: flags.selector });
      for (const item of list.items) targets.push({ type, name: item.metadata.name ?? '', namespace, uid: item.metadata.uid });
    } else {
      throw new CliError('resource(s) were provided, but no name was specified');
    }
  }
  if (targets.length === 0) throw new CliError('no matching resources found');
  const deadline = Date.now() + flags.timeoutMs;
  for (const target of targets) {
    try {
      await ctx.client.get(target.type.name, target.name, { namespace: target.namespace });
    } catch (err) {
      // Waiting for the deletion of what does not exist is over before it starts, silently (as kubectl).
      if (!(done === isGone && isNotFound(err))) reportError(err);
      continue;
    }
    const met = await waitFor(ctx, target, done, { timeoutMs: Math.max(1, deadline - Date.now()), progress: process.stderr.isTTY === true, what });
    if (!met) throw new CliError(timeoutMessage(target));
    process.stdout.write(`${target.type.singularName}/${target.name} condition met\n`);
  }
}
