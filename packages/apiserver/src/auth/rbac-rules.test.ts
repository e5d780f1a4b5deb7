import type { PolicyRule, RoleBinding } from '@peapod/api';
import { covers, ruleAllows, ruleAllowsNonResource } from './rbac-rules';
import { RbacPolicy } from './rbac-policy';

const rule = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule => ({ verbs, apiGroups, resources, ...(resourceNames ? { resourceNames } : {}) });

test('rules: verbs, groups, subresources, "*/sub", resource names', () => {
  const get = (resource: string, subresource?: string, name?: string, group = '') => ({ verb: 'get', group, resource, subresource, name });
  expect(ruleAllows(rule(['get'], [''], ['pods']), get('pods'))).toBe(true);
  expect(ruleAllows(rule(['get'], [''], ['pods']), get('pods', 'log'))).toBe(false);
  expect(ruleAllows(rule(['get'], [''], ['pods/log']), get('pods', 'log'))).toBe(true);
  expect(ruleAllows(rule(['get'], [''], ['*/scale']), get('replicationcontrollers', 'scale'))).toBe(true);
  expect(ruleAllows(rule(['get'], [''], ['*']), get('pods', 'exec'))).toBe(true);
  expect(ruleAllows(rule(['get'], ['apps'], ['pods']), get('pods'))).toBe(false);
  expect(ruleAllows(rule(['*'], ['*'], ['pods']), get('pods', undefined, undefined, 'x.io'))).toBe(true);
  expect(ruleAllows(rule(['get'], [''], ['pods'], ['web']), get('pods', undefined, 'web'))).toBe(true);
  expect(ruleAllows(rule(['get'], [''], ['pods'], ['web']), get('pods', undefined, 'db'))).toBe(false);
  expect(ruleAllows(rule(['list'], [''], ['pods'], ['web']), { verb: 'list', group: '', resource: 'pods' })).toBe(false);
  expect(ruleAllowsNonResource({ verbs: ['get'], nonResourceURLs: ['/logs/*'] }, 'get', '/logs/a/b')).toBe(true);
  expect(ruleAllowsNonResource({ verbs: ['get'], nonResourceURLs: ['/logs'] }, 'get', '/logs/a')).toBe(false);
  expect(ruleAllowsNonResource({ verbs: ['get'], nonResourceURLs: ['*'] }, 'post', '/x')).toBe(false);
});

test('covers: every single grant of a rule held by some owner rule; "*" only by "*"', () => {
  const owner = [rule(['get', 'list'], [''], ['pods', 'pods/log']), rule(['get'], [''], ['*/status']), rule(['delete'], [''], ['pods'], ['web'])];
  expect(covers(owner, rule(['get'], [''], ['pods', 'pods/log']))).toBe(true);
  expect(covers(owner, rule(['get'], [''], ['nodes/status']))).toBe(true);
  expect(covers(owner, rule(['delete'], [''], ['pods'], ['web']))).toBe(true);
  expect(covers(owner, rule(['delete'], [''], ['pods']))).toBe(false);
  expect(covers(owner, rule(['*'], [''], ['pods']))).toBe(false);
  expect(covers(owner, rule(['get'], ['*'], ['pods']))).toBe(false);
  expect(covers([rule(['*'], ['*'], ['*'])], rule(['escalate'], ['rbac.authorization.k8s.io'], ['roles']))).toBe(true);
  expect(covers([{ verbs: ['get'], nonResourceURLs: ['/api/*'] }], { verbs: ['get'], nonResourceURLs: ['/api/v1'] })).toBe(true);
  expect(covers([{ verbs: ['get'], nonResourceURLs: ['/api/*'] }], { verbs: ['get'], nonResourceURLs: ['/apis'] })).toBe(false);
});

describe('the policy index', () => {
  const bot = { name: 'system:serviceaccount:team:bot', uid: '1', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] };
  const binding = (name: string, namespace: string | undefined, roleKind: string, role: string, subjects: RoleBinding['subjects']): RoleBinding => ({
    metadata: { name, ...(namespace ? { namespace } : {}) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role },
    subjects,
  });

  test("a role binding grants a cluster role's rules in its namespace only; service accounts default to the binding's namespace", () => {
    const p = new RbacPolicy();
    p.set('clusterroles', { metadata: { name: 'reader' }, rules: [rule(['list'], [''], ['pods'])] } as never);
    p.set('rolebindings', binding('b', 'team', 'ClusterRole', 'reader', [{ kind: 'ServiceAccount', name: 'bot' }]));
    const list = { verb: 'list', group: '', resource: 'pods' };
    expect(p.allows(bot, 'team', list)).toBe(true);
    expect(p.allows(bot, 'default', list)).toBe(false);
    expect(p.allows(bot, undefined, list)).toBe(false);
  });

  test('changes are seen at once: role rules, binding subjects, removals', () => {
    const p = new RbacPolicy();
    const list = { verb: 'list', group: '', resource: 'pods' };
    p.set('roles', { metadata: { name: 'r', namespace: 'team' }, rules: [rule(['get'], [''], ['pods'])] } as never);
    p.set('rolebindings', binding('b', 'team', 'Role', 'r', [{ kind: 'Group', name: 'system:serviceaccounts:team' }]));
    expect(p.allows(bot, 'team', list)).toBe(false);
    p.set('roles', { metadata: { name: 'r', namespace: 'team' }, rules: [rule(['get', 'list'], [''], ['pods'])] } as never);
    expect(p.allows(bot, 'team', list)).toBe(true);
    p.set('rolebindings', binding('b', 'team', 'Role', 'r', [{ kind: 'User', name: 'someone' }]));
    expect(p.allows(bot, 'team', list)).toBe(false);
    p.set('clusterrolebindings', binding('c', undefined, 'ClusterRole', 'all', [{ kind: 'ServiceAccount', name: 'bot', namespace: 'team' }]));
    p.set('clusterroles', { metadata: { name: 'all' }, rules: [rule(['*'], ['*'], ['*'])] } as never);
    expect(p.allows(bot, 'default', list)).toBe(true);
    p.remove('clusterrolebindings', { metadata: { name: 'c' } });
    expect(p.allows(bot, 'default', list)).toBe(false);
  });
});
