// Privilege-escalation prevention, as Kubernetes' RBAC storage does it: a user may write a
// role only with rules it holds itself (or with the `escalate` verb on roles), and bind a
// role only if it holds the role's rules where the binding applies (or has the `bind` verb
// on that role). An aggregation rule needs `escalate`: it grants whatever later matches.

import { rbacGroup, type ClusterRole, type PolicyRule, type RoleBinding } from '@peapod/api';
import { forbidden } from '../errors';
import type { Authorizer } from './authorizer';
import { covers } from './rbac-rules';
import type { UserInfo } from './tokens';

function ruleText(r: PolicyRule): string {
  const parts: string[] = [];
  const list = (name: string, v: string[] | undefined) => {
    if (v?.length) parts.push(`${name}:[${v.map((x) => JSON.stringify(x)).join(', ')}]`);
  };
  list('APIGroups', r.apiGroups);
  list('Resources', r.resources);
  list('ResourceNames', r.resourceNames);
  list('NonResourceURLs', r.nonResourceURLs);
  list('Verbs', r.verbs);
  return `{${parts.join(', ')}}`;
}

function userText(user: UserInfo): string {
  return `user "${user.name}" (groups=[${user.groups.map((g) => JSON.stringify(g)).join(' ')}])`;
}

export class EscalationGuard {
  constructor(private readonly authorizer: () => Authorizer | undefined) {}

  /**
   * The writer and the authorizer, when the write is a request to check: `user` is the one the
   * request is served for (undefined for the server's own writes), and authorization is on.
   */
  private writer(user: UserInfo | undefined): { user: UserInfo; authz: Authorizer } | undefined {
    const authz = this.authorizer();
    return user && authz ? { user, authz } : undefined;
  }

  /** Refuses a role or cluster role that grants what its writer does not hold. */
  checkRole(resource: 'roles' | 'clusterroles', role: ClusterRole, requester: UserInfo | undefined): void {
    const writer = this.writer(requester);
    if (!writer) return;
    const { user, authz } = writer;
    const name = role.metadata.name ?? '';
    const namespace = resource === 'roles' ? role.metadata.namespace : undefined;
    if (authz.authorize(user, { verb: 'escalate', group: rbacGroup, resource, namespace, name }).allowed) return;
    const ref = { name: resource, group: rbacGroup };
    if (role.aggregationRule) throw forbidden(ref, name, `${userText(user)} must have the escalate verb on ${resource} to use the aggregationRule`);
    this.checkCovered(user, authz, ref, name, namespace, Array.isArray(role.rules) ? role.rules : []);
  }

  /** Refuses a binding to a role whose rules its writer neither holds nor may bind. */
  checkBinding(resource: 'rolebindings' | 'clusterrolebindings', b: RoleBinding, requester: UserInfo | undefined): void {
    const writer = this.writer(requester);
    if (!writer) return;
    const { user, authz } = writer;
    const name = b.metadata.name ?? '';
    const namespace = resource === 'rolebindings' ? b.metadata.namespace : undefined;
    const roleResource = b.roleRef?.kind === 'Role' ? 'roles' : 'clusterroles';
    const bind = { verb: 'bind', group: rbacGroup, resource: roleResource, namespace, name: b.roleRef?.name };
    if (authz.authorize(user, bind).allowed) return;
    const ref = { name: resource, group: rbacGroup };
    const rules = b.roleRef ? authz.rbac.roleRules(b.roleRef, namespace) : undefined;
    if (!rules) throw forbidden(ref, name, `${userText(user)} cannot bind ${b.roleRef?.kind} "${b.roleRef?.name}": it does not exist and the user may not bind it`);
    this.checkCovered(user, authz, ref, name, namespace, rules);
  }

  private checkCovered(user: UserInfo, authz: Authorizer, ref: { name: string; group: string }, name: string, namespace: string | undefined, rules: PolicyRule[]): void {
    const held = authz.rbac.rulesFor(user, namespace);
    const missing = rules.filter((r) => !covers(held, r));
    if (missing.length === 0) return;
    throw forbidden(ref, name, `${userText(user)} is attempting to grant RBAC permissions not currently held:\n${missing.map(ruleText).join('\n')}`);
  }
}
