import type { ClusterRole } from '@peapod/api';
import { createLogger } from '@peapod/client';
import { FakeCache } from '../testing/fake-cache';
import { aggregatedRules, ClusterRoleAggregationController } from './controller';

const quiet = createLogger('test', { level: 'error' });

function role(name: string, labels: Record<string, string>, verbs: string[][]): ClusterRole {
  return { metadata: { name, labels }, rules: verbs.map((v) => ({ verbs: v, apiGroups: [''], resources: ['pods'] })) };
}

const view: ClusterRole = { metadata: { name: 'view' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }] }, rules: [] };

test('the union of the matching roles, in name order, without repeats or the role itself', () => {
  const b = role('b', { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }, [['get'], ['list']]);
  const a = role('a', { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }, [['watch'], ['get']]);
  const other = role('c', {}, [['delete']]);
  expect(aggregatedRules(view, [b, other, a, view]).map((r) => r.verbs[0])).toEqual(['watch', 'get', 'list']);
  const bad: ClusterRole = { metadata: { name: 'bad' }, aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'x', operator: 'Nope' }] }] } };
  expect(aggregatedRules(bad, [a, b])).toEqual([]);
});

test('writes the rules of an aggregated role when they differ, follows changes, leaves others alone', async () => {
  const roles = new FakeCache<ClusterRole>();
  const updates: ClusterRole[] = [];
  const c = new ClusterRoleAggregationController(roles, { update: async (r) => void updates.push(r) }, { logger: quiet });
  roles.set(view);
  roles.set(role('pods-reader', { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }, [['get']]));
  await c.sync('view');
  expect(updates.map((u) => [u.metadata.name, u.rules])).toEqual([['view', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]]]);
  roles.set(updates[0]);
  await c.sync('view');
  expect(updates).toHaveLength(1);
  await c.sync('pods-reader');
  expect(updates).toHaveLength(1);
});
