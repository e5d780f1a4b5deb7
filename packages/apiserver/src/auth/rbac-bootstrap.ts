// The default RBAC policy, written on every start as Kubernetes' RBAC bootstrap writes it:
// cluster-admin for system:masters; admin, edit and view aggregated from the
// system:aggregate-to-* roles (the controller manager fills their rules); what every
// authenticated user may do (ask about itself, read discovery and health); and the roles of
// the components, bound to the users they authenticate as. Objects are labelled
// kubernetes.io/bootstrapping=rbac-defaults and annotated autoupdate=true: a missing one is
// created, an existing one gets what it lacks (rules, subjects, selectors) and keeps what was
// added, and one whose annotation says "false" is left as it is.

import type { ClusterRole, KubeObject, PolicyRule, RoleBinding, Subject } from '@peapod/api';
import { rbacGroup } from '@peapod/api';
import type { Logger } from '@peapod/client';
import type { Registry } from '../registry/registry';
import { StatusError } from '../errors';
import { covers } from './rbac-rules';
import { mastersGroup } from './authorizer';

export const autoupdateAnnotation = 'rbac.authorization.kubernetes.io/autoupdate';
const bootstrapLabels = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const aggregateTo = (role: 'admin' | 'edit' | 'view') => `rbac.authorization.k8s.io/aggregate-to-${role}`;

const read = ['get', 'list', 'watch'];
const write = ['create', 'delete', 'deletecollection', 'patch', 'update'];

function rule(verbs: string[], apiGroups: string[], resources: string[]): PolicyRule {
  return { verbs, apiGroups, resources };
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

type BootstrapObject = { resource: 'clusterroles' | 'roles' | 'clusterrolebindings' | 'rolebindings'; object: KubeObject };

function meta(name: string, namespace?: string, labels: Record<string, string> = {}): KubeObject['metadata'] {
  return { name, ...(namespace ? { namespace } : {}), labels: { ...bootstrapLabels, ...labels }, annotations: { [autoupdateAnnotation]: 'true' } };
}

function clusterRole(name: string, rules: PolicyRule[], labels?: Record<string, string>): BootstrapObject {
  return { resource: 'clusterroles', object: { apiVersion: `${rbacGroup}/v1`, kind: 'ClusterRole', metadata: meta(name, undefined, labels), rules } as KubeObject };
}

function role(name: string, namespace: string, rules: PolicyRule[]): BootstrapObject {
  return { resource: 'roles', object: { apiVersion: `${rbacGroup}/v1`, kind: 'Role', metadata: meta(name, namespace), rules } as KubeObject };
}

function aggregatedRole(name: 'admin' | 'edit' | 'view', labels?: Record<string, string>): BootstrapObject {
  const object = {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRole',
    metadata: meta(name, undefined, labels),
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [aggregateTo(name)]: 'true' } }] },
    rules: [],
  };
  return { resource: 'clusterroles', object: object as KubeObject };
}

const user = (name: string): Subject => ({ kind: 'User', apiGroup: rbacGroup, name });
const group = (name: string): Subject => ({ kind: 'Group', apiGroup: rbacGroup, name });

function binding(resource: 'clusterrolebindings' | 'rolebindings', name: string, role: string, subjects: Subject[], namespace?: string): BootstrapObject {
  const kind = resource === 'clusterrolebindings' ? 'ClusterRoleBinding' : 'RoleBinding';
  const roleKind = resource === 'clusterrolebindings' ? 'ClusterRole' : 'Role';
  const object = { apiVersion: `${rbacGroup}/v1`, kind, metadata: meta(name, namespace), roleRef: { apiGroup: rbacGroup, kind: roleKind, name: role }, subjects };
  return { resource, object: object as KubeObject };
}

const podReads = ['pods', 'pods/log', 'pods/status'];
const workloads = ['replicationcontrollers', 'replicationcontrollers/scale', 'replicationcontrollers/status'];

/** The roles and bindings Peapod starts with. */
export function bootstrapPolicy(): BootstrapObject[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    binding('clusterrolebindings', 'cluster-admin', 'cluster-admin', [group(mastersGroup)]),

    // admin ⊇ edit ⊇ view: edit is aggregated into admin and view into edit.
    aggregatedRole('admin'),
    aggregatedRole('edit', { [aggregateTo('admin')]: 'true' }),
    aggregatedRole('view', { [aggregateTo('edit')]: 'true' }),
    clusterRole(
      'system:aggregate-to-view',
      [
        rule(read, [''], [...podReads, ...workloads, 'services', 'services/status', 'endpoints', 'configmaps', 'serviceaccounts', 'events', 'namespaces', 'namespaces/status']),
        rule(read, ['discovery.k8s.io'], ['endpointslices']),
      ],
      { [aggregateTo('view')]: 'true' },
    ),
    clusterRole(
      'system:aggregate-to-edit',
      [
        rule([...read, ...write], [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/ephemeralcontainers', 'replicationcontrollers', 'replicationcontrollers/scale', 'services', 'endpoints', 'configmaps', 'secrets', 'serviceaccounts']),
        rule(['create'], [''], ['pods/eviction', 'serviceaccounts/token']),
        rule(['impersonate'], [''], ['serviceaccounts']),
        rule([...read, ...write], ['discovery.k8s.io'], ['endpointslices']),
      ],
      { [aggregateTo('edit')]: 'true' },
    ),
    clusterRole('system:aggregate-to-admin', [rule([...read, ...write], [rbacGroup], ['roles', 'rolebindings'])], { [aggregateTo('admin')]: 'true' }),

    // Every authenticated user asks about itself and reads discovery; anyone reads health and version.
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    binding('clusterrolebindings', 'system:basic-user', 'system:basic-user', [group('system:authenticated')]),
    clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    binding('clusterrolebindings', 'system:discovery', 'system:discovery', [group('system:authenticated')]),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    binding('clusterrolebindings', 'system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    // Single health checks give their reasons, so they are not public.
    clusterRole('system:monitoring', [urls(['get'], ['/metrics', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*'])]),
    binding('clusterrolebindings', 'system:monitoring', 'system:monitoring', [group('system:monitoring')]),

    clusterRole('system:kube-scheduler', [
      rule(read, [''], ['pods', 'nodes', 'namespaces', 'replicationcontrollers']),
      rule(['create'], [''], ['pods/binding', 'bindings']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    ]),
    binding('clusterrolebindings', 'system:kube-scheduler', 'system:kube-scheduler', [user('system:kube-scheduler')]),
    clusterRole('system:kube-controller-manager', [
      rule([...read, ...write], [''], ['pods']),
      rule(['patch', 'update'], [''], ['pods/status', 'nodes/status']),
      rule([...read, 'patch', 'update'], [''], ['replicationcontrollers', 'nodes']),
      rule(['get', 'patch', 'update'], [''], ['replicationcontrollers/status', 'replicationcontrollers/scale']),
      rule(read, [''], ['namespaces', 'services']),
      rule(['create', 'patch', 'update'], [''], ['events']),
      rule([...read, 'create', 'delete', 'patch', 'update'], [''], ['endpoints']),
      rule([...read, 'create', 'delete', 'patch', 'update'], ['discovery.k8s.io'], ['endpointslices']),
      // The garbage collector, as Kubernetes' generic-garbage-collector role: any resource it
      // finds owned (the node lifecycle controller's reads of node leases among them).
      rule([...read, 'patch', 'update', 'delete'], ['*'], ['*']),
      // every namespace's `default` service account and kube-root-ca.crt
      rule([...read, 'create'], [''], ['serviceaccounts']),
      rule([...read, 'create', 'update'], [''], ['configmaps']),
      // the clusterrole-aggregation controller writes aggregated roles' rules: it may grant
      // what it does not hold itself
      rule(['escalate', 'get', 'list', 'watch', 'update', 'patch'], [rbacGroup], ['clusterroles']),
    ]),
    binding('clusterrolebindings', 'system:kube-controller-manager', 'system:kube-controller-manager', [user('system:kube-controller-manager')]),
    // The service proxy on each node.
    clusterRole('system:node-proxier', [
      rule(read, [''], ['services', 'endpoints', 'nodes']),
      rule(read, ['discovery.k8s.io'], ['endpointslices']),
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    ]),
    binding('clusterrolebindings', 'system:node-proxier', 'system:node-proxier', [user('system:kube-proxy')]),
    // The cluster DNS reads what it answers for, and keeps its own service and endpoints in kube-system.
    clusterRole('system:kube-dns', [rule(read, [''], ['services', 'endpoints', 'namespaces']), rule(read, ['discovery.k8s.io'], ['endpointslices'])]),
    binding('clusterrolebindings', 'system:kube-dns', 'system:kube-dns', [user('system:kube-dns')]),
    role('system:kube-dns', 'kube-system', [
      rule(['create', 'delete', 'patch', 'update'], [''], ['services', 'endpoints']),
      rule(['create', 'delete', 'patch', 'update'], ['discovery.k8s.io'], ['endpointslices']),
    ]),
    binding('rolebindings', 'system:kube-dns', 'system:kube-dns', [user('system:kube-dns')], 'kube-system'),
    // The leader election leases of the scheduler and the controller manager, in kube-system only
    // (Kubernetes' system::leader-locking-* roles).
    ...['kube-scheduler', 'kube-controller-manager'].flatMap((component) => [
      role(`system::leader-locking-${component}`, 'kube-system', [rule(['get', 'create', 'update'], ['coordination.k8s.io'], ['leases'])]),
      binding('rolebindings', `system::leader-locking-${component}`, `system::leader-locking-${component}`, [user(`system:${component}`)], 'kube-system'),
    ]),
  ];
}

function union<T>(have: T[] | undefined, want: T[] | undefined, same: (a: T, b: T) => boolean): T[] | undefined {
  const out = [...(have ?? [])];
  for (const w of want ?? []) if (!out.some((h) => same(h, w))) out.push(w);
  return out.length === (have ?? []).length ? undefined : out;
}

/**
 * What an existing object lacks of its bootstrap version, applied to a copy; undefined when
 * nothing is missing.
 */
function reconciled(existing: KubeObject, wanted: KubeObject, resource: BootstrapObject['resource']): KubeObject | undefined {
  const out = JSON.parse(JSON.stringify(existing)) as KubeObject & Record<string, unknown>;
  let changed = false;
  for (const field of ['labels', 'annotations'] as const) {
    const missing = Object.entries(wanted.metadata[field] ?? {}).filter(([k]) => out.metadata[field]?.[k] === undefined);
    if (missing.length) {
      out.metadata[field] = { ...out.metadata[field], ...Object.fromEntries(missing) };
      changed = true;
    }
  }
  if (resource === 'clusterroles' || resource === 'roles') {
    const want = wanted as ClusterRole;
    const have = out as unknown as ClusterRole;
    if (want.aggregationRule) {
      const selectors = union(have.aggregationRule?.clusterRoleSelectors, want.aggregationRule.clusterRoleSelectors, (a, b) => JSON.stringify(a) === JSON.stringify(b));
      if (selectors) {
        have.aggregationRule = { clusterRoleSelectors: selectors };
        changed = true;
      }
    } else {
      const rules = have.rules ?? [];
      const missing = (want.rules ?? []).filter((r) => !covers(rules, r));
      if (missing.length) {
        have.rules = [...rules, ...missing];
        changed = true;
      }
    }
  } else {
    const subjects = union((out as unknown as RoleBinding).subjects, (wanted as RoleBinding).subjects, (a, b) => a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? ''));
    if (subjects) {
      (out as unknown as RoleBinding).subjects = subjects;
      changed = true;
    }
  }
  return changed ? out : undefined;
}

function sameRoleRef(a: KubeObject, b: KubeObject): boolean {
  const x = (a as RoleBinding).roleRef;
  const y = (b as RoleBinding).roleRef;
  return x?.kind === y?.kind && x?.name === y?.name && x?.apiGroup === y?.apiGroup;
}

/** Writes the bootstrap policy: creates what is missing, adds to what lacks something, leaves objects whose autoupdate is "false". */
export async function reconcileBootstrapPolicy(registry: Registry, log: Logger): Promise<void> {
  for (const { resource, object } of bootstrapPolicy()) {
    const name = object.metadata.name!;
    const namespace = object.metadata.namespace;
    const stored = (await registry.store.get(registry.key(registry.strategy(resource).resource, namespace, name)))?.object;
    try {
      if (!stored) {
        await registry.create(resource, namespace, object, 'Strict');
        continue;
      }
      if (stored.metadata.annotations?.[autoupdateAnnotation] === 'false') continue;
      if ((resource === 'clusterrolebindings' || resource === 'rolebindings') && !sameRoleRef(stored, object)) {
        // A roleRef cannot change: the binding is made again, as Kubernetes' reconciliation does.
        await registry.delete(resource, namespace, name, {});
        await registry.create(resource, namespace, object, 'Strict');
        continue;
      }
      const update = reconciled(stored, object, resource);
      if (update) await registry.update(resource, namespace, name, update, 'Strict');
    } catch (err) {
      // Another API server starting beside this one wrote it first.
      if (err instanceof StatusError && err.code === 409) continue;
      // Not fatal: the server serves, and the next start tries again.
      log.error('could not reconcile the default RBAC policy', { resource, name, error: (err as Error).message });
    }
  }
}
