// Strategies of rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding and
// ClusterRoleBinding. Validation is @peapod/api's (rules well-formed, roleRef kinds and
// subjects); a binding's roleRef cannot change; every write is checked against its writer's
// own permissions (privilege escalation) before it is stored.

import { defaultBinding, validateBindingUpdate } from '@peapod/api';
import type { ClusterRole, KubeObject, RoleBinding, StatusCause } from '@peapod/api';
import type { EscalationGuard } from '../auth/rbac-escalation';
import type { UserInfo } from '../auth/tokens';
import { BaseStrategy } from './strategies';
import type { Strategy, StrategyOptions } from './strategy';

class RoleStrategy extends BaseStrategy {
  constructor(
    resource: 'roles' | 'clusterroles',
    opts: StrategyOptions,
    private readonly guard: EscalationGuard,
  ) {
    super(resource, opts);
  }

  admit(obj: KubeObject, writer?: UserInfo): void {
    this.guard.checkRole(this.resource.name as 'roles' | 'clusterroles', obj as ClusterRole, writer);
  }

  override validateUpdate(obj: KubeObject, _old: KubeObject, writer?: UserInfo): StatusCause[] {
    this.guard.checkRole(this.resource.name as 'roles' | 'clusterroles', obj as ClusterRole, writer);
    return this.validate(obj);
  }
}

class BindingStrategy extends BaseStrategy {
  constructor(
    resource: 'rolebindings' | 'clusterrolebindings',
    opts: StrategyOptions,
    private readonly guard: EscalationGuard,
  ) {
    super(resource, opts);
  }

  override applyDefaults(obj: KubeObject): void {
    defaultBinding(obj as RoleBinding);
  }

  admit(obj: KubeObject, writer?: UserInfo): void {
    this.guard.checkBinding(this.resource.name as 'rolebindings' | 'clusterrolebindings', obj as RoleBinding, writer);
  }

  override validateUpdate(obj: KubeObject, old: KubeObject, writer?: UserInfo): StatusCause[] {
    const causes = validateBindingUpdate(obj as RoleBinding, old as RoleBinding);
    if (causes.length) return causes;
    this.guard.checkBinding(this.resource.name as 'rolebindings' | 'clusterrolebindings', obj as RoleBinding, writer);
    return this.validate(obj);
  }
}

export function rbacStrategies(opts: StrategyOptions, guard: EscalationGuard): Map<string, Strategy> {
  const list: Strategy[] = [
    new RoleStrategy('roles', opts, guard),
    new RoleStrategy('clusterroles', opts, guard),
    new BindingStrategy('rolebindings', opts, guard),
    new BindingStrategy('clusterrolebindings', opts, guard),
  ];
  return new Map(list.map((s) => [s.resource.name, s]));
}
