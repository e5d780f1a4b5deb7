// peactl delete TYPE NAME... | TYPE/NAME... | -f FILE | -l SELECTOR | --all, graceful by
// default; --wait (default) waits until every deleted object is gone, printing the object's
// events as they arrive (a pod's termination step by step); --cascade says what becomes of
// the object's dependents (sent as the propagationPolicy).

import { immediateDeletionWarning } from '@peapod/api';
import type { KubeObject, Status } from '@peapod/api';
import type { Context } from '../context';
import { isNotFound } from '@peapod/client';
import { CliError, reportError } from '../errors';
import { followEvents } from '../event-follow';
import { readManifests } from '../manifests';
import { namespaceFor, typeForObject } from '../objects';
import { resolveType, splitTypeAndNames } from '../resources';
import { isGone, timeoutMessage, waitFor } from '../wait';
import type { WaitTarget } from '../wait';

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

/** kubectl's --cascade values, including the deprecated booleans (true: background, false: orphan). */
export function parseCascade(value: string): PropagationPolicy {
  switch (value) {
    case 'background':
      return 'Background';
    case 'foreground':
      return 'Foreground';
    case 'orphan':
      return 'Orphan';
    case 'true':
    case 'false': {
      const replacement = value === 'true' ? 'background' : 'orphan';
      process.stderr.write(`warning: --cascade=${value} is deprecated (boolean value) and can be replaced with --cascade=${replacement}.\n`);
      return value === 'true' ? 'Background' : 'Orphan';
    }
    default:
      throw new CliError(`invalid cascade value (${value}). Must be "background", "foreground", or "orphan"`);
  }
}

export interface DeleteFlags {
  propagationPolicy: PropagationPolicy;
  filename?: string[];
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  gracePeriod: number;
  force: boolean;
  now: boolean;
  wait: boolean;
  timeoutMs: number;
  ignoreNotFound: boolean;
}

/** The grace period to send, as kubectl derives it from --grace-period, --now and --force; undefined: the object's own. */
export function effectiveGracePeriod(flags: Pick<DeleteFlags, 'gracePeriod' | 'force' | 'now'>): number | undefined {
  if (flags.now) {
    if (flags.gracePeriod >= 0) throw new CliError('--now and --grace-period cannot be specified together');
    return 1;
  }
  if (flags.force && flags.gracePeriod < 0) return 0;
  // Without --force, 0 would remove the object before its node stops it: kubectl sends 1 instead.
  if (flags.gracePeriod === 0 && !flags.force) return 1;
  return flags.gracePeriod >= 0 ? flags.gracePeriod : undefined;
}

async function targetsFromArgs(ctx: Context, args: string[], flags: DeleteFlags): Promise<WaitTarget[]> {
  const targets: WaitTarget[] = [];
  for (const group of splitTypeAndNames(args)) {
    const type = await resolveType(ctx.client, group.type);
    const ns = type.namespaced ? ctx.namespace : undefined;
    if (group.names.length > 0) {
      if (flags.selector || flags.all) throw new CliError('name cannot be provided when a selector is specified');
      for (const name of group.names) targets.push({ type, name, namespace: ns });
      continue;
    }
    if (!flags.selector && !flags.all) {
      throw new CliError(`resource(s) were provided, but no name was specified`);
    }
    const namespace = type.namespaced && !flags.allNamespaces ? ctx.namespace : undefined;
    const list = await ctx.client.listAll(type.name, { namespace, labelSelector: flags.selector });
    for (const item of list.items) {
      targets.push({ type, name: item.metadata.name ?? '', namespace: type.namespaced ? item.metadata.namespace : undefined, uid: item.metadata.uid });
    }
  }
  return targets;
}

async function targetsFromFiles(ctx: Context, filenames: string[]): Promise<WaitTarget[]> {
  const targets: WaitTarget[] = [];
  for (const { object } of readManifests(filenames, 'delete')) {
    const type = await typeForObject(ctx.client, object);
    targets.push({ type, name: object.metadata?.name ?? '', namespace: namespaceFor(type, object, ctx.namespace) });
  }
  return targets;
}

function isObject(x: KubeObject | Status): x is KubeObject {
  return x.kind !== 'Status';
}

/**
 * A deleted object; when its deletion is graceful (something, like a pod's node, works on
 * it before it goes), the resourceVersion of the delete: its events after that tell how it went.
 */
interface Deleted {
  target: WaitTarget;
  gracefulSince?: string;
}

async function deleteOne(ctx: Context, target: WaitTarget, grace: number | undefined, flags: DeleteFlags): Promise<Deleted | undefined> {
  try {
    const result = await ctx.client.delete(target.type.name, target.name, {
      namespace: target.namespace,
      gracePeriodSeconds: grace,
      propagationPolicy: flags.propagationPolicy,
      ...(target.uid !== undefined ? { preconditions: { uid: target.uid } } : {}),
    });
    const forced = flags.force && grace === 0;
    process.stdout.write(`${target.type.singularName} "${target.name}" ${forced ? 'force deleted' : 'deleted'}\n`);
    const uid = isObject(result) ? result.metadata?.uid : (result.details?.uid ?? undefined);
    const meta = isObject(result) ? result.metadata : undefined;
    const graceful = meta?.deletionTimestamp && (meta.deletionGracePeriodSeconds ?? 0) > 0 && meta.resourceVersion !== undefined;
    return { target: { ...target, uid: uid ?? target.uid }, ...(graceful ? { gracefulSince: meta.resourceVersion } : {}) };
  } catch (err) {
    if (!(flags.ignoreNotFound && isNotFound(err))) reportError(err);
    return undefined;
  }
}

export async function deleteCommand(ctx: Context, args: string[], flags: DeleteFlags): Promise<void> {
  const grace = effectiveGracePeriod(flags);
  const fromFiles = flags.filename !== undefined && flags.filename.length > 0;
  if (fromFiles && args.length > 0) throw new CliError('Unexpected args: ' + args.join(' '));
  if (!fromFiles && args.length === 0) throw new CliError('You must provide one or more resources by argument or filename.');
  const targets = fromFiles ? await targetsFromFiles(ctx, flags.filename as string[]) : await targetsFromArgs(ctx, args, flags);
  if (targets.length === 0) {
    process.stderr.write('No resources found\n');
    return;
  }
  if (flags.force && grace === 0) process.stderr.write(immediateDeletionWarning + '\n');
  const deleted: Deleted[] = [];
  for (const target of targets) {
    const d = await deleteOne(ctx, target, grace, flags);
    if (d !== undefined) deleted.push(d);
  }
  if (!flags.wait) return;
  const deadline = flags.timeoutMs > 0 ? Date.now() + flags.timeoutMs : 0;
  for (const { target, gracefulSince } of deleted) {
    const timeoutMs = deadline > 0 ? Math.max(1, deadline - Date.now()) : 0;
    const follow = gracefulSince !== undefined ? followEvents(ctx, target, gracefulSince) : undefined;
    const gone = await waitFor(ctx, target, isGone, { timeoutMs, progress: process.stderr.isTTY === true, what: 'deleted', ...(follow ? { follow } : {}) });
    if (!gone) throw new CliError(timeoutMessage(target));
  }
}
