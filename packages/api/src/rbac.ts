// rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding. Their
// types, Kubernetes' defaults (the API group of a binding's roleRef and subjects) and the
// rules validation adds to the schema: names are path segments (roles are named
// "system:controller:..."), every rule has verbs and either resources in API groups or, in
// cluster roles only, non-resource URLs; a binding names a role of a kind it may bind.

import { asArray, asObject, asString, invalid, notSupported, required, validateMeta, type ValidationCause } from './field-rules';
import type { LabelSelectorObject } from './labels';
import type { KubeObject } from './types';

export const rbacGroup = 'rbac.authorization.k8s.io';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface AggregationRule {
  clusterRoleSelectors?: LabelSelectorObject[];
}

export interface Role extends KubeObject {
  rules?: PolicyRule[] | null;
}

export interface ClusterRole extends Role {
  aggregationRule?: AggregationRule;
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount' | string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole' | string;
  name: string;
}

export interface RoleBinding extends KubeObject {
  subjects?: Subject[];
  roleRef: RoleRef;
}

export type ClusterRoleBinding = RoleBinding;

/** Kubernetes' defaults: a roleRef and User/Group subjects in the RBAC group, service accounts in the core group. */
export function defaultBinding(b: RoleBinding): void {
  const ref = asObject(b.roleRef);
  if (ref && (ref.apiGroup === undefined || ref.apiGroup === '')) ref.apiGroup = rbacGroup;
  for (const s of asArray(b.subjects)) {
    const subject = asObject(s);
    if (!subject || (subject.apiGroup !== undefined && subject.apiGroup !== '')) continue;
    if (subject.kind === 'User' || subject.kind === 'Group') subject.apiGroup = rbacGroup;
  }
}

/** path.IsValidPathSegmentName: what a name must be to be one segment of a URL. */
export function isPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const bad = ['/', '%'].filter((c) => name.includes(c));
  return bad.length ? [`may not contain '${bad[0]}'`] : [];
}

const pathSegmentName = { nameRule: isPathSegmentName, requireName: true };

function validateRules(rules: unknown, clusterScoped: boolean, out: ValidationCause[]): void {
  asArray(rules).forEach((raw, i) => {
    const rule = asObject(raw);
    if (!rule) return;
    const field = `rules[${i}]`;
    const verbs = asArray(rule.verbs);
    const nonResourceURLs = asArray(rule.nonResourceURLs);
    if (verbs.length === 0) out.push(required(`${field}.verbs`, 'verbs must contain at least one value'));
    if (nonResourceURLs.length > 0) {
      if (!clusterScoped) {
        out.push(invalid(`${field}.nonResourceURLs`, nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
      } else if (asArray(rule.apiGroups).length > 0 || asArray(rule.resources).length > 0) {
        out.push(invalid(`${field}.nonResourceURLs`, nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
      }
      return;
    }
    if (asArray(rule.apiGroups).length === 0) out.push(required(`${field}.apiGroups`, 'resource rules must supply at least one api group'));
    if (asArray(rule.resources).length === 0) out.push(required(`${field}.resources`, 'resource rules must supply at least one resource'));
  });
}

export function validateRole(obj: Record<string, unknown>, out: ValidationCause[]): void {
  validateMeta(obj.metadata, pathSegmentName, out);
  validateRules(obj.rules, false, out);
}

export function validateClusterRole(obj: Record<string, unknown>, out: ValidationCause[]): void {
  validateMeta(obj.metadata, pathSegmentName, out);
  validateRules(obj.rules, true, out);
  const aggregation = asObject(obj.aggregationRule);
  if (aggregation && asArray(aggregation.clusterRoleSelectors).length === 0) {
    out.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
  }
}

function validateBinding(obj: Record<string, unknown>, clusterScoped: boolean, out: ValidationCause[]): void {
  validateMeta(obj.metadata, pathSegmentName, out);
  const ref = asObject(obj.roleRef) ?? {};
  if (ref.apiGroup !== rbacGroup) out.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [rbacGroup]));
  const kinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!kinds.includes(asString(ref.kind) ?? '')) out.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  const refName = asString(ref.name);
  if (!refName) out.push(required('roleRef.name'));
  else for (const msg of isPathSegmentName(refName)) out.push(invalid('roleRef.name', refName, msg));
  asArray(obj.subjects).forEach((raw, i) => {
    const s = asObject(raw);
    if (!s) return;
    const field = `subjects[${i}]`;
    const name = asString(s.name);
    if (!name) out.push(required(`${field}.name`));
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.apiGroup !== undefined && s.apiGroup !== '') out.push(notSupported(`${field}.apiGroup`, s.apiGroup, ['']));
        if (clusterScoped && !asString(s.namespace)) out.push(required(`${field}.namespace`));
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== rbacGroup) out.push(notSupported(`${field}.apiGroup`, s.apiGroup ?? '', [rbacGroup]));
        break;
      default:
        out.push(notSupported(`${field}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
}

export function validateRoleBinding(obj: Record<string, unknown>, out: ValidationCause[]): void {
  validateBinding(obj, false, out);
}

export function validateClusterRoleBinding(obj: Record<string, unknown>, out: ValidationCause[]): void {
  validateBinding(obj, true, out);
}

/** A binding's roleRef cannot change (delete and recreate the binding instead). */
export function validateBindingUpdate(obj: RoleBinding, old: RoleBinding): ValidationCause[] {
  const a = obj.roleRef ?? ({} as RoleRef);
  const b = old.roleRef ?? ({} as RoleRef);
  if (a.apiGroup === b.apiGroup && a.kind === b.kind && a.name === b.name) return [];
  return [invalid('roleRef', a, 'cannot change roleRef')];
}
