// Resource type names as users type them ("po", "pod", "pods", "Pod"), resolved from the
// shared table first and from the server's discovery for types the table does not know
// yet (replicationcontrollers, when the server serves them).

import { findResource } from '@peapod/api';
import type { Client } from '@peapod/client';
import { CliError } from './errors';

export interface ResourceType {
  /** plural, as in URLs: "pods" */
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
}

export interface APIResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  shortNames?: string[];
}

export interface APIResourceList {
  groupVersion?: string;
  resources?: APIResource[];
}

export async function discoverResources(client: Client): Promise<APIResource[]> {
  const res = await client.request<APIResourceList>('GET', '/api/v1');
  if (res.status >= 400 || typeof res.body !== 'object' || res.body === null) return [];
  return (res.body.resources ?? []).filter((r) => !r.name.includes('/'));
}

export async function resolveType(client: Client, typed: string): Promise<ResourceType> {
  const known = findResource(typed);
  if (known !== undefined) return known;
  const wanted = typed.toLowerCase();
  for (const r of await discoverResources(client)) {
    const names = [r.name, r.singularName ?? '', r.kind.toLowerCase(), ...(r.shortNames ?? [])];
    if (names.includes(wanted)) {
      return { name: r.name, singularName: r.singularName || r.kind.toLowerCase(), kind: r.kind, namespaced: r.namespaced, shortNames: r.shortNames ?? [] };
    }
  }
  throw new CliError(`the server doesn't have a resource type "${typed}"`);
}

/** A type and names from `TYPE NAME...` or `TYPE/NAME...` arguments. */
export interface TypedNames {
  type: string;
  names: string[];
}

export function splitTypeAndNames(args: string[]): TypedNames[] {
  if (args.length === 0) throw new CliError('you must specify the type of resource');
  if (args[0].includes('/')) {
    const groups: TypedNames[] = [];
    for (const arg of args) {
      const slash = arg.indexOf('/');
      if (slash <= 0 || slash === arg.length - 1) {
        throw new CliError(`there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'peactl get resource/<resource_name>' instead of 'peactl get resource resource/<resource_name>'`);
      }
      const type = arg.slice(0, slash);
      const last = groups[groups.length - 1];
      if (last !== undefined && last.type === type) last.names.push(arg.slice(slash + 1));
      else groups.push({ type, names: [arg.slice(slash + 1)] });
    }
    return groups;
  }
  const [type, ...names] = args;
  if (names.some((n) => n.includes('/'))) {
    throw new CliError(`there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'peactl get resource/<resource_name>' instead of 'peactl get resource resource/<resource_name>'`);
  }
  return [{ type, names }];
}
