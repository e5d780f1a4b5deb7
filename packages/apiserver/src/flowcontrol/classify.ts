import type { UserInfo } from '../auth/tokens';
import { flowSchemas, type FlowSchema, type ResourceRule, type Subject } from './bootstrap';

/** What a request is, for matching flow schemas' rules. */
export interface RequestDigest {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  /** absent for cluster-scoped resources and lists across namespaces */
  namespace?: string;
}

export interface Classification {
  schema: FlowSchema;
  /** the flow within the schema: requests of one flow share a hand of queues */
  flow: string;
}

/** Without authentication every request is the anonymous user's, as Kubernetes names it. */
export const anonymous: UserInfo = { name: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] };

const serviceAccountPrefix = 'system:serviceaccount:';

function subjectMatches(s: Subject, user: UserInfo): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === '*' || s.name === user.name;
    case 'Group':
      return s.name === '*' || user.groups.includes(s.name);
    case 'ServiceAccount': {
      const prefix = `${serviceAccountPrefix}${s.namespace}:`;
      return s.name === '*' ? user.name.startsWith(prefix) : user.name === prefix + s.name;
    }
  }
}

const listed = (list: string[], value: string) => list.includes('*') || list.includes(value);

function ruleMatches(rule: ResourceRule, r: RequestDigest): boolean {
  if (!listed(rule.verbs, r.verb) || !listed(rule.apiGroups, r.apiGroup)) return false;
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  if (!listed(rule.resources, resource)) return false;
  return r.namespace === undefined ? rule.clusterScope : listed(rule.namespaces, r.namespace);
}

const byPrecedence = [...flowSchemas].sort((a, b) => a.precedence - b.precedence);

// Loops rather than `some` with an arrow: a request passes a dozen schemas before global-default,
// and each arrow was an object made per schema per request.
function anySubject(subjects: Subject[], user: UserInfo): boolean {
  for (let i = 0; i < subjects.length; i++) if (subjectMatches(subjects[i], user)) return true;
  return false;
}

function anyRule(rules: ResourceRule[], r: RequestDigest): boolean {
  for (let i = 0; i < rules.length; i++) if (ruleMatches(rules[i], r)) return true;
  return false;
}

/** The flow schema that takes the request (the matching one of lowest precedence) and its flow. */
export function classify(user: UserInfo | undefined, r: RequestDigest, schemas: readonly FlowSchema[] = byPrecedence): Classification {
  const who = user ?? anonymous;
  for (const schema of schemas) {
    if (!anySubject(schema.subjects, who) || !anyRule(schema.rules, r)) continue;
    const flow = schema.distinguisher === 'ByUser' ? who.name : schema.distinguisher === 'ByNamespace' ? (r.namespace ?? '') : '';
    return { schema, flow };
  }
  // The catch-all takes every authenticated and unauthenticated user; a user in neither group
  // (only a hand-made identity) goes there too.
  const catchAll = schemas[schemas.length - 1];
  return { schema: catchAll, flow: who.name };
}
