// peactl describe pod|node NAME...

import type { Event, KubeObject, Node, Pod } from '@peapod/api';
import type { Context } from '../context';
import { describeNode, describePod } from '../describe';
import { CliError, reportError } from '../errors';
import { resolveType, splitTypeAndNames } from '../resources';

async function eventsFor(ctx: Context, obj: KubeObject, kind: string): Promise<Event[]> {
  const m = obj.metadata;
  const fields = [`involvedObject.name=${m.name ?? ''}`, `involvedObject.kind=${kind}`];
  if (m.namespace) fields.push(`involvedObject.namespace=${m.namespace}`);
  if (m.uid) fields.push(`involvedObject.uid=${m.uid}`);
  const list = await ctx.client.list<Event>('events', { namespace: m.namespace || undefined, fieldSelector: fields.join(',') });
  return list.items;
}

export async function describe(ctx: Context, args: string[], flags: { selector?: string }): Promise<void> {
  const outputs: string[] = [];
  for (const group of splitTypeAndNames(args)) {
    const type = await resolveType(ctx.client, group.type);
    if (type.kind !== 'Pod' && type.kind !== 'Node') throw new CliError(`describe supports pods and nodes, not ${type.name}`);
    const namespace = type.namespaced ? ctx.namespace : undefined;
    let objects: KubeObject[] = [];
    if (group.names.length > 0) {
      for (const name of group.names) {
        try {
          objects.push(await ctx.client.get(type.name, name, { namespace }));
        } catch (err) {
          reportError(err);
        }
      }
    } else {
      objects = (await ctx.client.list(type.name, { namespace, labelSelector: flags.selector })).items;
      if (objects.length === 0) process.stderr.write(namespace !== undefined ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n');
    }
    for (const obj of objects) {
      const events = await eventsFor(ctx, obj, type.kind);
      if (type.kind === 'Pod') {
        outputs.push(describePod(obj as Pod, events));
      } else {
        const pods = await ctx.client.list<Pod>('pods', { fieldSelector: `spec.nodeName=${obj.metadata.name ?? ''}` });
        outputs.push(describeNode(obj as Node, pods.items, events));
      }
    }
  }
  if (outputs.length > 0) process.stdout.write(outputs.join('\n\n'));
}
