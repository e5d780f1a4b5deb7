// peactl scale TYPE NAME... | TYPE/NAME... | -f FILE | -l SELECTOR | --all --replicas=N:
// sets spec.replicas through the object's scale subresource, as kubectl does.

import { ApiError } from '@peapod/client';
import type { Scale } from '@peapod/api';
import type { Context } from '../context';
import { CliError, reportError } from '../errors';
import { readManifests } from '../manifests';
import { namespaceFor, refOf, typeForObject } from '../objects';
import { resolveType, splitTypeAndNames } from '../resources';
import type { ResourceType } from '../resources';

export interface ScaleFlags {
  replicas: number;
  /** -1: no precondition. */
  currentReplicas: number;
  resourceVersion?: string;
  filename?: string[];
  selector?: string;
  all?: boolean;
}

interface ScaleTarget {
  type: ResourceType;
  name: string;
  namespace: string | undefined;
}

/** The mismatch kubectl reports when a precondition (--current-replicas, --resource-version) does not hold. */
export function preconditionFailure(scale: Scale, flags: Pick<ScaleFlags, 'currentReplicas' | 'resourceVersion'>): string | undefined {
  const replicas = scale.spec.replicas ?? 0;
  if (flags.currentReplicas >= 0 && replicas !== flags.currentReplicas) return `Expected replicas to be ${flags.currentReplicas}, was ${replicas}`;
  const rv = scale.metadata.resourceVersion ?? '';
  if (flags.resourceVersion && rv !== flags.resourceVersion) return `Expected resource version to be ${flags.resourceVersion}, was ${rv}`;
  return undefined;
}

/**
 * The objects to scale, each read from the server first as kubectl does; objects that
 * cannot be read are reported as errors (the others are still scaled).
 */
async function findTargets(ctx: Context, args: string[], flags: ScaleFlags): Promise<{ targets: ScaleTarget[]; errors: unknown[] }> {
  const wanted: ScaleTarget[] = [];
  const errors: unknown[] = [];
  const fromFiles = flags.filename !== undefined && flags.filename.length > 0;
  if (fromFiles) {
    if (args.length > 0) throw new CliError('Unexpected args: ' + args.join(' '));
    for (const { object } of readManifests(flags.filename as string[], 'scale')) {
      const type = await typeForObject(ctx.client, object);
      wanted.push({ type, name: object.metadata?.name ?? '', namespace: namespaceFor(type, object, ctx.namespace) });
    }
  } else {
    if (args.length === 0) throw new CliError('You must provide one or more resources by argument or filename.');
    for (const group of splitTypeAndNames(args)) {
      const type = await resolveType(ctx.client, group.type);
      const namespace = type.namespaced ? ctx.namespace : undefined;
      if (group.names.length > 0) {
        if (flags.selector || flags.all) throw new CliError('name cannot be provided when a selector is specified');
        for (const name of group.names) wanted.push({ type, name, namespace });
        continue;
      }
      if (!flags.selector && !flags.all) throw new CliError('resource(s) were provided, but no name was specified');
      const list = await ctx.client.listAll(type.name, { namespace, labelSelector: flags.selector });
      for (const item of list.items) wanted.push({ type, name: item.metadata.name ?? '', namespace });
    }
  }
  const targets: ScaleTarget[] = [];
  for (const target of wanted) {
    try {
      await ctx.client.get(target.type.name, target.name, { namespace: target.namespace });
      targets.push(target);
    } catch (err) {
      errors.push(err);
    }
  }
  return { targets, errors };
}

async function scaleOne(ctx: Context, target: ScaleTarget, flags: ScaleFlags): Promise<void> {
  if (flags.currentReplicas < 0 && !flags.resourceVersion) {
    await ctx.client.patch(target.type.name, target.name, { spec: { replicas: flags.replicas } }, 'merge', { namespace: target.namespace, subresource: 'scale' });
    return;
  }
  // With a precondition, kubectl reads the Scale, checks it, and writes it back whole
  // (its resourceVersion makes a concurrent change a conflict rather than a lost update).
  const res = await ctx.client.request<Scale>('GET', ctx.client.path(target.type.name, { namespace: target.namespace, name: target.name, subresource: 'scale' }));
  if (res.status >= 400) throw ApiError.fromResponse(res.status, res.body);
  const scale = res.body;
  const failure = preconditionFailure(scale, flags);
  if (failure !== undefined) throw new CliError(failure);
  scale.spec = { ...scale.spec, replicas: flags.replicas };
  await ctx.client.update<Scale>(target.type.name, scale, { namespace: target.namespace, subresource: 'scale' });
}

export async function scale(ctx: Context, args: string[], flags: ScaleFlags): Promise<void> {
  if (flags.replicas < 0) throw new CliError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
  const { targets, errors } = await findTargets(ctx, args, flags);
  if (flags.resourceVersion && targets.length > 1) throw new CliError('cannot use --resource-version with multiple resources');
  if (targets.length === 0) {
    const first = errors[0];
    const detail = first instanceof ApiError ? ` ${first.status.message ?? first.message}` : '';
    throw new CliError(`no objects passed to scale${detail}`);
  }
  for (const target of targets) {
    await scaleOne(ctx, target, flags);
    process.stdout.write(`${refOf(target.type, target.name)} scaled\n`);
  }
  for (const err of errors) reportError(err);
}
