// peactl get TYPE [NAME...] | TYPE/NAME...: tables from the server's Table rendering,
// objects for -o json|yaml|name|jsonpath, and -w to follow changes.

import { ApiError, defaultChunkSize, readPages } from '@peapod/client';
import type { KubeObject, WatchEvent } from '@peapod/api';
import type { Context } from '../context';
import { CliError, reportError } from '../errors';
import { formatObjects, objectPieces, parseOutputFormat, toJson, nameOf, writePieces } from '../printers/objects';
import type { OutputFormat } from '../printers/objects';
import { isTable, TablePrinter, tableAccept } from '../printers/table';
import type { ServerTable } from '../printers/table';
import { resolveType, splitTypeAndNames } from '../resources';
import type { ResourceType } from '../resources';
import { watchTable } from '../tablewatch';

export interface GetFlags {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  allNamespaces?: boolean;
  showLabels?: boolean;
  /** keep metadata.managedFields in JSON and YAML */
  showManagedFields?: boolean;
  watch?: boolean;
  noHeaders?: boolean;
  /** objects per list request (kubectl's --chunk-size); 0: all in one */
  chunkSize?: number;
}

interface Target {
  type: ResourceType;
  names: string[];
  /** undefined: every namespace (or a cluster-scoped type). */
  namespace: string | undefined;
}

function noResourcesMessage(target: Target): string {
  return target.namespace !== undefined ? `No resources found in ${target.namespace} namespace.\n` : 'No resources found\n';
}

async function getTable(ctx: Context, target: Target, flags: GetFlags, name?: string): Promise<ServerTable> {
  const needObject = flags.showLabels === true || (target.namespace === undefined && target.type.namespaced);
  const chunkSize = flags.chunkSize ?? defaultChunkSize;
  const query: Record<string, string | undefined> = { includeObject: needObject ? 'Metadata' : 'None' };
  if (name === undefined) {
    query.labelSelector = flags.selector;
    query.fieldSelector = flags.fieldSelector;
    if (chunkSize > 0) query.limit = String(chunkSize);
  }
  const path = ctx.client.path(target.type.name, { namespace: target.namespace ?? (name !== undefined ? ctx.namespace : undefined), name });
  return readPages(
    (token) => tablePage(ctx, target, path, { ...query, continue: token }),
    (table, page) => {
      for (const row of page.rows) table.rows.push(row);
    },
  );
}

async function tablePage(ctx: Context, target: Target, path: string, query: Record<string, string | undefined>): Promise<ServerTable> {
  const qs = Object.entries(query)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  const res = await ctx.client.request<unknown>('GET', `${path}?${qs}`, undefined, { Accept: tableAccept });
  if (res.status >= 400) throw ApiError.fromResponse(res.status, res.body);
  if (!isTable(res.body)) throw new CliError(`the server did not answer with a Table for ${target.type.name}`);
  return res.body;
}

async function printTables(ctx: Context, target: Target, flags: GetFlags, format: OutputFormat): Promise<{ printer: TablePrinter; resourceVersion?: string }> {
  const printer = new TablePrinter({
    wide: format.kind === 'wide',
    withNamespace: target.namespace === undefined && target.type.namespaced,
    showLabels: flags.showLabels === true,
    noHeaders: flags.noHeaders === true,
  });
  if (target.names.length === 0) {
    const table = await getTable(ctx, target, flags);
    if (table.rows.length === 0) {
      if (!flags.watch) process.stderr.write(noResourcesMessage(target));
      return { printer, resourceVersion: table.metadata?.resourceVersion };
    }
    process.stdout.write(printer.print(table));
    return { printer, resourceVersion: table.metadata?.resourceVersion };
  }
  let merged: ServerTable | undefined;
  for (const name of target.names) {
    try {
      const table = await getTable(ctx, target, flags, name);
      if (merged === undefined) merged = table;
      else merged.rows.push(...table.rows);
    } catch (err) {
      reportError(err);
    }
  }
  if (merged !== undefined) process.stdout.write(printer.print(merged));
  return { printer, resourceVersion: merged?.metadata?.resourceVersion };
}

async function printObjects(ctx: Context, target: Target, flags: GetFlags, format: OutputFormat): Promise<string | undefined> {
  const { client } = ctx;
  if (target.names.length === 0) {
    const list = await client.listAll(target.type.name, { namespace: target.namespace, labelSelector: flags.selector, fieldSelector: flags.fieldSelector }, flags.chunkSize);
    if (list.items.length === 0 && format.kind === 'name') {
      if (!flags.watch) process.stderr.write(noResourcesMessage(target));
    } else {
      await writePieces(process.stdout, objectPieces(list.items, format, false, target.type.kind, flags.showManagedFields));
    }
    return list.metadata?.resourceVersion;
  }
  const found: KubeObject[] = [];
  for (const name of target.names) {
    try {
      const obj = await client.get(target.type.name, name, { namespace: target.namespace ?? ctx.namespace });
      if (obj.kind === undefined) obj.kind = target.type.kind;
      found.push(obj);
    } catch (err) {
      reportError(err);
    }
  }
  if (found.length > 0) await writePieces(process.stdout, objectPieces(found, format, target.names.length === 1, target.type.kind, flags.showManagedFields));
  return found[found.length - 1]?.metadata.resourceVersion;
}

async function follow(ctx: Context, target: Target, flags: GetFlags, format: OutputFormat, printer: TablePrinter | undefined, resourceVersion: string | undefined): Promise<void> {
  if (target.names.length > 1) throw new CliError('watch is only supported on individual resources and resource collections, but 2 resources were found');
  const fieldSelector = target.names.length === 1 ? `metadata.name=${target.names[0]}` : flags.fieldSelector;
  const namespace = target.names.length === 1 ? (target.namespace ?? ctx.namespace) : target.namespace;
  if (printer !== undefined) {
    const path = ctx.client.path(target.type.name, { namespace });
    const needObject = flags.showLabels === true || (target.namespace === undefined && target.type.namespaced);
    await watchTable(
      ctx.client,
      path,
      { resourceVersion, labelSelector: target.names.length === 1 ? undefined : flags.selector, fieldSelector, includeObject: needObject ? 'Metadata' : 'None' },
      (_type, table) => {
        process.stdout.write(printer.print(table));
      },
    );
    return;
  }
  const watch = ctx.client.watch(
    target.type.name,
    { namespace, resourceVersion, labelSelector: target.names.length === 1 ? undefined : flags.selector, fieldSelector },
    (event: WatchEvent<KubeObject>) => {
      const obj = event.object;
      if (format.kind === 'name') process.stdout.write(nameOf(obj, target.type.kind) + '\n');
      else if (format.kind === 'json') process.stdout.write(toJson(obj));
      else process.stdout.write(formatObjects([obj], format, true, target.type.kind, flags.showManagedFields));
    },
  );
  await watch.done;
}

export async function get(ctx: Context, args: string[], flags: GetFlags): Promise<void> {
  const format = parseOutputFormat(flags.output);
  const groups = splitTypeAndNames(args);
  if (flags.watch && groups.length > 1) throw new CliError('you may only specify a single resource type');
  for (const group of groups) {
    const type = await resolveType(ctx.client, group.type);
    if (group.names.length > 0 && flags.selector) throw new CliError('name cannot be provided when a selector is specified');
    const namespace = !type.namespaced || flags.allNamespaces ? undefined : ctx.namespace;
    const target: Target = { type, names: group.names, namespace };
    if (format.kind === 'table' || format.kind === 'wide') {
      const { printer, resourceVersion } = await printTables(ctx, target, flags, format);
      if (flags.watch) await follow(ctx, target, flags, format, printer, resourceVersion);
    } else {
      const resourceVersion = await printObjects(ctx, target, flags, format);
      if (flags.watch) await follow(ctx, target, flags, format, undefined, resourceVersion);
    }
  }
}
