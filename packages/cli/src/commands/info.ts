// peactl cluster-info | api-resources

import type { Context } from '../context';
import { CliError } from '../errors';
import { serverVersion } from './version';
import { GrowingTable } from '../printers/tabwriter';
import { discoverResources } from '../resources';
import type { APIResource, APIResourceList } from '../resources';

export async function clusterInfo(ctx: Context): Promise<void> {
  await serverVersion(ctx);
  process.stdout.write(`Kubernetes control plane is running at ${ctx.client.server}\n`);
}

interface APIGroupList {
  groups?: { name: string; preferredVersion?: { groupVersion: string } }[];
}

/** Every served type with its group version: the core group first, then each API group by name, as kubectl lists them. */
async function allResources(ctx: Context): Promise<{ groupVersion: string; resource: APIResource }[]> {
  const byName = (a: APIResource, b: APIResource): number => a.name.localeCompare(b.name);
  const out = (await discoverResources(ctx.client)).sort(byName).map((resource) => ({ groupVersion: 'v1', resource }));
  const groups = await ctx.client.request<APIGroupList>('GET', '/apis');
  if (groups.status >= 400 || typeof groups.body !== 'object' || groups.body === null) return out;
  const sorted = [...(groups.body.groups ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  for (const group of sorted) {
    const gv = group.preferredVersion?.groupVersion;
    if (gv === undefined) continue;
    const res = await ctx.client.request<APIResourceList>('GET', `/apis/${gv}`);
    if (res.status >= 400 || typeof res.body !== 'object' || res.body === null) continue;
    const list = (res.body.resources ?? []).filter((r) => !r.name.includes('/')).sort(byName);
    for (const resource of list) out.push({ groupVersion: gv, resource });
  }
  return out;
}

export async function apiResources(ctx: Context, flags: { output?: string; namespaced?: string }): Promise<void> {
  const all = await allResources(ctx);
  const shown = flags.namespaced === undefined ? all : all.filter((r) => String(r.resource.namespaced) === flags.namespaced);
  if (flags.output === 'name') {
    process.stdout.write(shown.map(({ groupVersion, resource }) => (groupVersion === 'v1' ? resource.name : `${resource.name}.${groupVersion.split('/')[0]}`) + '\n').join(''));
    return;
  }
  const rows = [['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']];
  for (const { groupVersion, resource: r } of shown) rows.push([r.name, (r.shortNames ?? []).join(','), groupVersion, String(r.namespaced), r.kind]);
  process.stdout.write(new GrowingTable().format(rows));
}
