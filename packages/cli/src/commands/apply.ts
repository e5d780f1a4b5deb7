// peactl create -f / apply -f. apply keeps kubectl's last-applied-configuration annotation
// and sends the three-way strategic merge patch computed in patchdiff.ts; apply
// --server-side sends the configuration itself and lets the server merge it and track
// who owns which field.

import type { KubeObject } from '@peapod/api';
import type { Context } from '../context';
import { isNotFound } from '@peapod/client';
import { apiErrorMessage, isApiError } from '../errors';
import { readManifests } from '../manifests';
import { namespaceFor, refOf, typeForObject } from '../objects';
import { threeWayPatch } from '../patchdiff';

import { lastAppliedAnnotation } from '../annotations';

function failure(err: unknown, context: string): string {
  if (err instanceof Error && err.name === 'ApiError') return apiErrorMessage(err as Parameters<typeof apiErrorMessage>[0], context);
  if (err instanceof Error && err.name === 'ConnectionError') return err.message;
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

export async function create(ctx: Context, filenames: string[], saveConfig: boolean): Promise<void> {
  const manifests = readManifests(filenames, 'create');
  for (const { source, object } of manifests) {
    try {
      const type = await typeForObject(ctx.client, object);
      const body = saveConfig ? withAnnotation(object, recordedConfig(object)) : object;
      const created = await ctx.client.create(type.name, body, { namespace: namespaceFor(type, object, ctx.namespace) });
      process.stdout.write(`${refOf(type, created.metadata.name ?? '')} created\n`);
    } catch (err) {
      process.stderr.write(failure(err, `error when creating "${source}"`) + '\n');
      process.exitCode = 1;
    }
  }
}

/** The configuration as recorded in the annotation: the manifest without the annotation itself. */
function recordedConfig(object: KubeObject): string {
  const copy = JSON.parse(JSON.stringify(object)) as KubeObject;
  const annotations = copy.metadata?.annotations;
  if (annotations !== undefined) {
    delete annotations[lastAppliedAnnotation];
    if (Object.keys(annotations).length === 0) delete copy.metadata.annotations;
  }
  return JSON.stringify(copy) + '\n';
}

function withAnnotation(object: KubeObject, recorded: string): KubeObject {
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata?.annotations, [lastAppliedAnnotation]: recorded } } };
}

async function applyOne(ctx: Context, object: KubeObject): Promise<string> {
  const type = await typeForObject(ctx.client, object);
  const namespace = namespaceFor(type, object, ctx.namespace);
  const name = object.metadata?.name ?? '';
  const recorded = recordedConfig(object);
  const config = withAnnotation(object, recorded);
  let live: KubeObject;
  try {
    live = await ctx.client.get(type.name, name, { namespace });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await ctx.client.create(type.name, config, { namespace });
    return `${refOf(type, name)} created`;
  }
  const previous = live.metadata.annotations?.[lastAppliedAnnotation];
  if (previous === undefined) {
    process.stderr.write(
      `Warning: resource ${type.name}/${name} is missing the ${lastAppliedAnnotation} annotation which is required by peactl apply. ` +
        `peactl apply should only be used on resources created declaratively by either peactl create --save-config or peactl apply. ` +
        `The missing annotation will be patched automatically.\n`,
    );
  }
  let lastApplied: unknown;
  try {
    lastApplied = previous !== undefined ? JSON.parse(previous) : undefined;
  } catch {
    lastApplied = undefined;
  }
  const patch = threeWayPatch(type.kind, lastApplied, config, live);
  if (Object.keys(patch).length === 0) return `${refOf(type, name)} unchanged`;
  await ctx.client.patch(type.name, name, patch, 'strategic', { namespace });
  return `${refOf(type, name)} configured`;
}

export async function apply(ctx: Context, filenames: string[]): Promise<void> {
  const manifests = readManifests(filenames, 'apply');
  for (const { source, object } of manifests) {
    try {
      process.stdout.write((await applyOne(ctx, object)) + '\n');
    } catch (err) {
      process.stderr.write(failure(err, `error when applying "${source}"`) + '\n');
      process.exitCode = 1;
    }
  }
}

export interface ServerSideApplyOptions {
  fieldManager: string;
  forceConflicts: boolean;
}

/** What kubectl adds to a conflict, so that the same words lead to the same fix. */
const conflictAdvice = `Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the \`--force-conflicts\` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).`;

export async function applyServerSide(ctx: Context, filenames: string[], opts: ServerSideApplyOptions): Promise<void> {
  const manifests = readManifests(filenames, 'apply');
  for (const { source, object } of manifests) {
    try {
      const type = await typeForObject(ctx.client, object);
      const namespace = namespaceFor(type, object, ctx.namespace);
      await ctx.client.apply(type.name, object, { namespace, fieldManager: opts.fieldManager, force: opts.forceConflicts });
      process.stdout.write(`${refOf(type, object.metadata?.name ?? '')} serverside-applied\n`);
    } catch (err) {
      if (isApiError(err) && err.code === 409 && err.reason === 'Conflict' && err.status.details?.causes?.some((c) => c.reason === 'FieldManagerConflict')) {
        process.stderr.write(`error: ${err.status.message}\n${conflictAdvice}\n`);
      } else {
        process.stderr.write(failure(err, `error when applying "${source}"`) + '\n');
      }
      process.exitCode = 1;
    }
  }
}
