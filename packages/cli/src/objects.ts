// Where an object from a manifest lives: its resource type and namespace.

import { resourceForKind } from '@peapod/api';
import type { KubeObject } from '@peapod/api';
import type { Client } from '@peapod/client';
import { CliError } from './errors';
import { discoverResources } from './resources';
import type { ResourceType } from './resources';

export async function typeForObject(client: Client, obj: KubeObject): Promise<ResourceType> {
  const kind = obj.kind ?? '';
  const known = resourceForKind(kind);
  if (known !== undefined) return known;
  const found = (await discoverResources(client)).find((r) => r.kind === kind);
  if (found === undefined) throw new CliError(`resource mapping not found for name: "${obj.metadata?.name ?? ''}" kind: "${kind}": no matches for kind "${kind}" in version "${obj.apiVersion ?? ''}"`);
  return { name: found.name, singularName: found.singularName || kind.toLowerCase(), kind, namespaced: found.namespaced, shortNames: found.shortNames ?? [] };
}

/** The object's namespace if it names one, else the current one; undefined for cluster-scoped types. */
export function namespaceFor(type: ResourceType, obj: KubeObject, current: string): string | undefined {
  if (!type.namespaced) return undefined;
  const ns = obj.metadata?.namespace;
  return ns !== undefined && ns !== '' ? ns : current;
}

/** `pod/web`, as create, apply, run and drain print it. */
export function refOf(type: ResourceType, name: string): string {
  return `${type.singularName}/${name}`;
}
