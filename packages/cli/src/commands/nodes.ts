// peactl cordon | uncordon | drain NODE

import type { Node, Pod } from '@peapod/api';
import { findResource } from '@peapod/api';
import { isConflict, isNotFound } from '@peapod/client';
import type { Context } from '../context';
import { CliError, reportError } from '../errors';
import type { ResourceType } from '../resources';
import { isGone, timeoutMessage, waitFor } from '../wait';
import type { WaitTarget } from '../wait';

const podType = findResource('pods') as ResourceType;

async function setUnschedulable(ctx: Context, name: string, unschedulable: boolean): Promise<string> {
  const node = await ctx.client.get<Node>('nodes', name);
  const verb = unschedulable ? 'cordoned' : 'uncordoned';
  if ((node.spec?.unschedulable ?? false) === unschedulable) return `node/${name} already ${verb}`;
  await ctx.client.patch('nodes', name, { spec: { unschedulable: unschedulable ? true : null } }, 'merge');
  return `node/${name} ${verb}`;
}

export async function cordon(ctx: Context, names: string[], unschedulable: boolean): Promise<void> {
  for (const name of names) {
    try {
      process.stdout.write((await setUnschedulable(ctx, name, unschedulable)) + '\n');
    } catch (err) {
      reportError(err);
    }
  }
}

export interface DrainFlags {
  gracePeriod: number;
  timeoutMs: number;
}

/**
 * Cordons the node, evicts its pods through the eviction API (each deleted gracefully with
 * its own grace period unless --grace-period), and waits until they are gone.
 */
export async function drain(ctx: Context, name: string, flags: DrainFlags): Promise<void> {
  process.stdout.write((await setUnschedulable(ctx, name, true)) + '\n');
  const pods = await ctx.client.listAll<Pod>('pods', { fieldSelector: `spec.nodeName=${name}` });
  const deadline = flags.timeoutMs > 0 ? Date.now() + flags.timeoutMs : 0;
  const evicting: WaitTarget[] = [];
  for (const pod of pods.items) {
    const ns = pod.metadata.namespace ?? 'default';
    const podName = pod.metadata.name ?? '';
    process.stdout.write(`evicting pod ${ns}/${podName}\n`);
    try {
      await ctx.client.evict(ns, podName, {
        gracePeriodSeconds: flags.gracePeriod >= 0 ? flags.gracePeriod : undefined,
        preconditions: { uid: pod.metadata.uid },
      });
      evicting.push({ type: podType, name: podName, namespace: ns, uid: pod.metadata.uid });
    } catch (err) {
      // Gone already (or replaced): nothing left to evict.
      if (!(isNotFound(err) || isConflict(err))) throw err;
    }
  }
  for (const target of evicting) {
    const timeoutMs = deadline > 0 ? Math.max(1, deadline - Date.now()) : 0;
    const gone = await waitFor(ctx, target, isGone, { timeoutMs, progress: process.stderr.isTTY === true, what: 'deleted' });
    if (!gone) throw new CliError(`drain did not complete within ${Math.round(flags.timeoutMs / 1000)}s: ${timeoutMessage(target)}`);
    process.stdout.write(`pod/${target.name} evicted\n`);
  }
  process.stdout.write(`node/${name} drained\n`);
}
