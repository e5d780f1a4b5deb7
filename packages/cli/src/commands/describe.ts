// peactl describe pod|node|rc|service|endpoints|endpointslice NAME...

import { serviceNameLabel } from '@peapod/api';
import type { EndpointSlice, Endpoints, Event, KubeObject, Node, Pod, ReplicationController, Service } from '@peapod/api';
import type { Context } from '../context';
import {
  countPodPhases,
  describeEndpointSlice,
  describeEndpoints,
  describeNode,
  describePod,
  describeReplicationController,
  describeService,
} from '../describe';
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

const describedKinds = ['Pod', 'Node', 'ReplicationController', 'Service', 'Endpoints', 'EndpointSlice'];

async function describeController(ctx: Context, rc: ReplicationController, events: Event[]): Promise<string> {
  const selector = Object.entries(rc.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await ctx.client.list<Pod>('pods', { namespace: rc.metadata.namespace, labelSelector: selector });
  return describeReplicationController(rc, countPodPhases(pods.items, rc.metadata.uid), events);
}

export async function describe(ctx: Context, args: string[], flags: { selector?: string }): Promise<void> {
  const outputs: string[] = [];
  for (const group of splitTypeAndNames(args)) {
    const type = await resolveType(ctx.client, group.type);
    if (!describedKinds.includes(type.kind)) {
      throw new CliError(`describe supports pods, nodes, replicationcontrollers, services, endpoints and endpointslices, not ${type.name}`);
    }
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
      } else if (type.kind === 'ReplicationController') {
        outputs.push(await describeController(ctx, obj as ReplicationController, events));
      } else if (type.kind === 'Service') {
        const slices = await ctx.client.list<EndpointSlice>('endpointslices', { namespace: obj.metadata.namespace, labelSelector: `${serviceNameLabel}=${obj.metadata.name ?? ''}` });
        outputs.push(describeService(obj as Service, slices.items, events));
      } else if (type.kind === 'Endpoints') {
        outputs.push(describeEndpoints(obj as Endpoints, events));
      } else if (type.kind === 'EndpointSlice') {
        outputs.push(describeEndpointSlice(obj as EndpointSlice, events));
      } else {
        const pods = await ctx.client.list<Pod>('pods', { fieldSelector: `spec.nodeName=${obj.metadata.name ?? ''}` });
        outputs.push(describeNode(obj as Node, pods.items, events));
      }
    }
  }
  if (outputs.length > 0) process.stdout.write(outputs.join('\n\n'));
}
