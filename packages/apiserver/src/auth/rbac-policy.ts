// The RBAC authorizer's view of the stored roles and bindings, kept in memory and indexed
// by subject: a request looks up only the bindings that name its user or one of its groups,
// never scans them all. The rules a user holds in a namespace are resolved once and cached
// until any role or binding changes (the store's watch feeds every change in).

import type { ClusterRole, KubeObject, PolicyRule, RoleBinding, RoleRef, Subject } from '@peapod/api';
import type { Store, StoreEvent } from '../storage/types';
import { ruleAllows, ruleAllowsNonResource, type ResourceRequest } from './rbac-rules';
import { serviceAccountUsername } from './service-account-tokens';
import type { UserInfo } from './tokens';

export const rbacResources = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'] as const;
export type RbacResource = (typeof rbacResources)[number];

/** Resolved rule sets kept at most; a cluster with more users times namespaces recomputes some. */
const maxCachedRuleSets = 10_000;

function userKey(name: string): string {
  return `u:${name}`;
}

function groupKey(name: string): string {
  return `g:${name}`;
}

/** The index key of a subject: service accounts are the users they authenticate as (in the binding's namespace when unset). */
function subjectKey(s: Subject, bindingNamespace: string | undefined): string | undefined {
  if (typeof s?.name !== 'string' || !s.name) return undefined;
  switch (s.kind) {
    case 'User':
      return userKey(s.name);
    case 'Group':
      return groupKey(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return ns ? userKey(serviceAccountUsername(ns, s.name)) : undefined;
    }
    default:
      return undefined;
  }
}

function nsKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class RbacPolicy {
  private readonly roles = new Map<string, PolicyRule[]>();
  private readonly clusterRoles = new Map<string, PolicyRule[]>();
  /** binding key ("ns/name", or name for cluster bindings) to the binding */
  private readonly bindings = { rolebindings: new Map<string, RoleBinding>(), clusterrolebindings: new Map<string, RoleBinding>() };
  /** subject key to the cluster bindings naming it */
  private readonly clusterBySubject = new Map<string, Set<RoleBinding>>();
  /** "namespace\0subject key" to the role bindings of that namespace naming it */
  private readonly namespacedBySubject = new Map<string, Set<RoleBinding>>();
  private readonly cache = new Map<string, PolicyRule[]>();

  /** Takes in a stored object, new or changed. */
  set(resource: RbacResource, obj: KubeObject): void {
    this.cache.clear();
    const name = obj.metadata.name ?? '';
    const namespace = obj.metadata.namespace ?? '';
    switch (resource) {
      case 'roles':
        this.roles.set(nsKey(namespace, name), rulesOf(obj));
        return;
      case 'clusterroles':
        this.clusterRoles.set(name, rulesOf(obj));
        return;
      default: {
        this.remove(resource, obj);
        const binding = obj as RoleBinding;
        const key = resource === 'rolebindings' ? nsKey(namespace, name) : name;
        this.bindings[resource].set(key, binding);
        for (const k of this.subjectKeys(resource, binding)) {
          const index = resource === 'rolebindings' ? this.namespacedBySubject : this.clusterBySubject;
          let set = index.get(k);
          if (!set) index.set(k, (set = new Set()));
          set.add(binding);
        }
      }
    }
  }

  /** Forgets a deleted object. */
  remove(resource: RbacResource, obj: KubeObject): void {
    this.cache.clear();
    const name = obj.metadata.name ?? '';
    const namespace = obj.metadata.namespace ?? '';
    if (resource === 'roles') this.roles.delete(nsKey(namespace, name));
    else if (resource === 'clusterroles') this.clusterRoles.delete(name);
    else {
      const key = resource === 'rolebindings' ? nsKey(namespace, name) : name;
      const old = this.bindings[resource].get(key);
      if (!old) return;
      this.bindings[resource].delete(key);
      const index = resource === 'rolebindings' ? this.namespacedBySubject : this.clusterBySubject;
      for (const k of this.subjectKeys(resource, old)) {
        const set = index.get(k);
        set?.delete(old);
        if (set?.size === 0) index.delete(k);
      }
    }
  }

  private subjectKeys(resource: 'rolebindings' | 'clusterrolebindings', b: RoleBinding): string[] {
    const namespace = resource === 'rolebindings' ? b.metadata.namespace : undefined;
    const keys = new Set<string>();
    for (const s of Array.isArray(b.subjects) ? b.subjects : []) {
      const k = subjectKey(s, namespace);
      if (k) keys.add(resource === 'rolebindings' ? `${namespace}\0${k}` : k);
    }
    return [...keys];
  }

  /** The rules of the role a binding (in `namespace`, or a cluster binding) refers to; undefined when it does not exist. */
  roleRules(ref: RoleRef, namespace: string | undefined): PolicyRule[] | undefined {
    if (ref.kind === 'ClusterRole') return this.clusterRoles.get(ref.name);
    if (ref.kind === 'Role' && namespace !== undefined) return this.roles.get(nsKey(namespace, ref.name));
    return undefined;
  }

  /**
   * Every rule the user holds in `namespace` (cluster bindings, and the namespace's role
   * bindings), or at the cluster scope when namespace is undefined.
   */
  rulesFor(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    const cacheKey = `${user.name}\0${user.groups.join('\0')}\0\0${namespace ?? ''}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const keys = [userKey(user.name), ...user.groups.map(groupKey)];
    const rules: PolicyRule[] = [];
    const seen = new Set<PolicyRule[]>();
    const add = (binding: RoleBinding, bindingNamespace: string | undefined) => {
      const found = this.roleRules(binding.roleRef, bindingNamespace);
      if (found && !seen.has(found)) {
        seen.add(found);
        rules.push(...found);
      }
    };
    for (const k of keys) for (const b of this.clusterBySubject.get(k) ?? []) add(b, undefined);
    if (namespace !== undefined) {
      for (const k of keys) for (const b of this.namespacedBySubject.get(`${namespace}\0${k}`) ?? []) add(b, namespace);
    }
    if (this.cache.size >= maxCachedRuleSets) this.cache.clear();
    this.cache.set(cacheKey, rules);
    return rules;
  }

  allows(user: UserInfo, namespace: string | undefined, r: ResourceRequest): boolean {
    return this.rulesFor(user, namespace).some((rule) => ruleAllows(rule, r));
  }

  allowsNonResource(user: UserInfo, verb: string, path: string): boolean {
    return this.rulesFor(user, undefined).some((rule) => ruleAllowsNonResource(rule, verb, path));
  }
}

function rulesOf(obj: KubeObject): PolicyRule[] {
  const rules = (obj as ClusterRole).rules;
  return Array.isArray(rules) ? rules : [];
}

/** Loads the stored roles and bindings into the policy and keeps it up to date; resolves with the function that stops following. */
export async function followStore(policy: RbacPolicy, store: Store): Promise<() => void> {
  const watches = await Promise.all(
    rbacResources.map(async (resource) => {
      // Events go to the policy only once the list is in it: the watch starts at the list's revision.
      const pending: StoreEvent[] = [];
      let listed = false;
      const apply = (event: StoreEvent): void => (event.type === 'DELETED' ? policy.remove(resource, event.object) : policy.set(resource, event.object));
      const { list, watch } = await store.listAndWatch(`/${resource}/`, undefined, {
        send: (event) => (listed ? apply(event) : pending.push(event)),
      });
      for (const e of list.items) policy.set(resource, e.object);
      listed = true;
      pending.forEach(apply);
      return watch;
    }),
  );
  return () => watches.forEach((w) => w.stop());
}
