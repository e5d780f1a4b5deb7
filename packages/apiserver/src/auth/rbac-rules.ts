// How one RBAC rule applies to a request, and whether a set of rules covers another (the
// privilege-escalation check), with Kubernetes' semantics of "*": every verb, group or
// resource; "*/sub" a subresource of every resource; a trailing "*" in a non-resource URL a
// prefix; resourceNames limiting a rule to named objects.

import type { PolicyRule } from '@peapod/api';

/** The attributes a rule is matched against. */
export interface ResourceRequest {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  name?: string;
}

function has(list: string[] | undefined, value: string): boolean {
  return !!list && (list.includes('*') || list.includes(value));
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const resources = rule.resources;
  if (!resources) return false;
  if (resources.includes('*')) return true;
  if (!subresource) return resources.includes(resource);
  return resources.includes(`${resource}/${subresource}`) || resources.includes(`*/${subresource}`);
}

export function ruleAllows(rule: PolicyRule, r: ResourceRequest): boolean {
  if (!has(rule.verbs, r.verb) || !has(rule.apiGroups, r.group) || !resourceMatches(rule, r.resource, r.subresource)) return false;
  const names = rule.resourceNames;
  return !names || names.length === 0 || (r.name !== undefined && names.includes(r.name));
}

function urlMatches(pattern: string, path: string): boolean {
  if (pattern === '*' || pattern === path) return true;
  return pattern.endsWith('*') && path.startsWith(pattern.slice(0, -1));
}

export function ruleAllowsNonResource(rule: PolicyRule, verb: string, path: string): boolean {
  return has(rule.verbs, verb) && !!rule.nonResourceURLs?.some((u) => urlMatches(u, path));
}

/**
 * Whether `owner` grants everything `rule` does. The rule is split into its single grants (one
 * verb, group, resource, name or URL each) and each must be granted by some owner rule; a "*"
 * in the rule is covered only by a "*" (or a wider pattern) of the owner.
 */
export function covers(owner: PolicyRule[], rule: PolicyRule): boolean {
  const verbs = rule.verbs ?? [];
  if (rule.nonResourceURLs?.length) {
    return verbs.every((verb) => rule.nonResourceURLs!.every((url) => owner.some((o) => has(o.verbs, verb) && !!o.nonResourceURLs?.some((p) => urlMatches(p, url)))));
  }
  const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
  for (const verb of verbs) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        for (const name of names) {
          const granted = owner.some(
            (o) =>
              has(o.verbs, verb) &&
              has(o.apiGroups, group) &&
              ownerCoversResource(o.resources ?? [], resource) &&
              (!o.resourceNames?.length || (name !== undefined && o.resourceNames.includes(name))),
          );
          if (!granted) return false;
        }
      }
    }
  }
  return true;
}

function ownerCoversResource(ownerResources: string[], resource: string): boolean {
  if (ownerResources.includes('*') || ownerResources.includes(resource)) return true;
  const slash = resource.indexOf('/');
  return slash > 0 && ownerResources.includes(`*${resource.slice(slash)}`);
}
