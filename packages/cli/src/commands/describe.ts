// peactl describe pod|node|rc|service|endpoints|endpointslice|configmap|secret|serviceaccount|role|clusterrole|rolebinding|clusterrolebinding NAME...

import { nodeLeaseNamespace, serviceNameLabel } from '@peapod/api';
import type { ClusterRole, ConfigMap, EndpointSlice, Endpoints, Event, KubeObject, Lease, Node, Pod, ReplicationController, RoleBinding, Secret, Service, ServiceAccount } from '@peapod/api';
import type { Context } from '../context';
import {
  countPodPhases,
  describeConfigMap,
  describeEndpointSlice,
  describeEndpoints,
  describeNode,
  describePod,
  describeReplicationController,
  describeRole,
  describeRoleBinding,
  describeSecret,
  describeService,
  describeServiceAccount,
} from '../describe';
import { CliError, reportError } from '../errors';
import { resolveType, splitTypeAndNames } from '../resources';

async function eventsFor(ctx: Context, obj: KubeObject, kind: string): Promise<Event[]> {
  const m = obj.metadata;
  const fields = [`involvedObject.name=${m.name ?? ''}`, `involvedObject.kind=${kind}`];
  if (m.namespace) fields.push(`involvedObject.namespace=${m.namespace}`);
  if (m.uid) fields.push(`involvedObject.uid=${m.uid}`);
  const list = await ctx.client.listAll<Event>('events', { namespace: m.namespace || undefined, fieldSelector: fields.join(',') });
  return list.items;
}

const describedKinds = ['Pod', 'Node', 'ReplicationController', 'Service', 'Endpoints', 'EndpointSlice', 'ConfigMap', 'Secret', 'ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'];
/** Kinds kubectl describes without events. */
const withoutEvents = ['Secret', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'];

/** The account's token secrets (as kubectl finds them: by the account's name and uid) and the secrets it names that are missing. */
async function describeAccount(ctx: Context, sa: ServiceAccount, events: Event[]): Promise<string> {
  const secrets = (await ctx.client.listAll<Secret>('secrets', { namespace: sa.metadata.namespace })).items;
  const tokens = secrets
    .filter((s) => s.type === 'kubernetes.io/service-account-token')
    .filter((s) => s.metadata.annotations?.['kubernetes.io/service-account.name'] === sa.metadata.name && s.metadata.annotations?.['kubernetes.io/service-account.uid'] === sa.metadata.uid)
    .map((s) => s.metadata.name ?? '');
  const existing = new Set(secrets.map((s) => s.metadata.name));
  const named = [...(sa.secrets ?? []), ...(sa.imagePullSecrets ?? [])].map((s) => s.name ?? '');
  return describeServiceAccount(sa, tokens, new Set(named.filter((n) => !existing.has(n))), events);
}

async function describeController(ctx: Context, rc: ReplicationController, events: Event[]): Promise<string> {
  const selector = Object.entries(rc.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await ctx.client.listAll<Pod>('pods', { namespace: rc.metadata.namespace, labelSelector: selector });
  return describeReplicationController(rc, countPodPhases(pods.items, rc.metadata.uid), events);
}

export async function describe(ctx: Context, args: string[], flags: { selector?: string }): Promise<void> {
  const outputs: string[] = [];
  for (const group of splitTypeAndNames(args)) {
    const type = await resolveType(ctx.client, group.type);
    if (!describedKinds.includes(type.kind)) {
      throw new CliError(`describe supports pods, nodes, replicationcontrollers, services, endpoints, endpointslices, configmaps, secrets, serviceaccounts, roles, clusterroles, rolebindings and clusterrolebindings, not ${type.name}`);
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
      objects = (await ctx.client.listAll(type.name, { namespace, labelSelector: flags.selector })).items;
      if (objects.length === 0) process.stderr.write(namespace !== undefined ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n');
    }
    for (const obj of objects) {
      const events = withoutEvents.includes(type.kind) ? [] : await eventsFor(ctx, obj, type.kind);
      if (type.kind === 'Pod') {
        outputs.push(describePod(obj as Pod, events));
      } else if (type.kind === 'ReplicationController') {
        outputs.push(await describeController(ctx, obj as ReplicationController, events));
      } else if (type.kind === 'Service') {
        const slices = await ctx.client.listAll<EndpointSlice>('endpointslices', { namespace: obj.metadata.namespace, labelSelector: `${serviceNameLabel}=${obj.metadata.name ?? ''}` });
        outputs.push(describeService(obj as Service, slices.items, events));
      } else if (type.kind === 'Endpoints') {
        outputs.push(describeEndpoints(obj as Endpoints, events));
      } else if (type.kind === 'EndpointSlice') {
        outputs.push(describeEndpointSlice(obj as EndpointSlice, events));
      } else if (type.kind === 'ConfigMap') {
        outputs.push(describeConfigMap(obj as ConfigMap, events));
      } else if (type.kind === 'Secret') {
        outputs.push(describeSecret(obj as Secret));
      } else if (type.kind === 'ServiceAccount') {
        outputs.push(await describeAccount(ctx, obj as ServiceAccount, events));
      } else if (type.kind === 'Role' || type.kind === 'ClusterRole') {
        outputs.push(describeRole(obj as ClusterRole));
      } else if (type.kind === 'RoleBinding' || type.kind === 'ClusterRoleBinding') {
        outputs.push(describeRoleBinding(obj as RoleBinding));
      } else {
        const name = obj.metadata.name ?? '';
        const pods = await ctx.client.listAll<Pod>('pods', { fieldSelector: `spec.nodeName=${name}` });
        const lease = await ctx.client.get<Lease>('leases', name, { namespace: nodeLeaseNamespace }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
        outputs.push(describeNode(obj as Node, pods.items, events, lease));
      }
    }
  }
  if (outputs.length > 0) process.stdout.write(outputs.join('\n\n'));
}
