// API Priority and Fairness' built-in configuration: Kubernetes' mandatory and suggested
// priority levels and flow schemas, with the same names, shares, queues and precedences, so a
// cluster's components land where they would on Kubernetes (nodes' heartbeats on node-high,
// the controller manager and scheduler on workload-high, users on global-default).

import { mastersGroup } from '../auth/authorizer';

/** How a limited level's requests wait when its seats are taken; absent: they are rejected. */
export interface Queuing {
  queues: number;
  handSize: number;
  queueLengthLimit: number;
}

export interface PriorityLevel {
  name: string;
  /** exempt requests are never queued or limited */
  exempt: boolean;
  /** nominal concurrency shares: the level's part of the server's seats */
  shares: number;
  queuing?: Queuing;
}

export type Subject = { kind: 'User'; name: string } | { kind: 'Group'; name: string } | { kind: 'ServiceAccount'; namespace: string; name: string };

/** '*' in any list matches everything. */
export interface ResourceRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  /** namespaces the rule covers; '*' every namespace. Cluster-scoped requests match only with clusterScope. */
  namespaces: string[];
  clusterScope: boolean;
}

export interface FlowSchema {
  name: string;
  /** the lowest matching precedence wins */
  precedence: number;
  priorityLevel: string;
  /** what tells one flow from another within the schema; absent: all its requests are one flow */
  distinguisher?: 'ByUser' | 'ByNamespace';
  subjects: Subject[];
  rules: ResourceRule[];
}

const queuing = (queues: number, handSize: number): Queuing => ({ queues, handSize, queueLengthLimit: 50 });

export const priorityLevels: readonly PriorityLevel[] = [
  { name: 'exempt', exempt: true, shares: 0 },
  { name: 'system', exempt: false, shares: 30, queuing: queuing(64, 6) },
  { name: 'node-high', exempt: false, shares: 40, queuing: queuing(64, 6) },
  { name: 'leader-election', exempt: false, shares: 10, queuing: queuing(16, 4) },
  { name: 'workload-high', exempt: false, shares: 40, queuing: queuing(128, 6) },
  { name: 'workload-low', exempt: false, shares: 100, queuing: queuing(128, 6) },
  { name: 'global-default', exempt: false, shares: 20, queuing: queuing(128, 6) },
  // Rejects at once when full: only requests no other schema takes land here.
  { name: 'catch-all', exempt: false, shares: 5 },
];

const all = ['*'];
const everything: ResourceRule = { verbs: all, apiGroups: all, resources: all, namespaces: all, clusterScope: true };
const user = (name: string): Subject => ({ kind: 'User', name });
const group = (name: string): Subject => ({ kind: 'Group', name });
const kubeSystemServiceAccounts: Subject = { kind: 'ServiceAccount', namespace: 'kube-system', name: '*' };
const everyone = [group('system:unauthenticated'), group('system:authenticated')];
const leaderElectionRules: ResourceRule[] = [
  { verbs: ['get', 'create', 'update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: all, clusterScope: false },
  { verbs: ['get', 'create', 'update'], apiGroups: [''], resources: ['endpoints', 'configmaps'], namespaces: ['kube-system'], clusterScope: false },
];

export const flowSchemas: readonly FlowSchema[] = [
  { name: 'exempt', precedence: 1, priorityLevel: 'exempt', subjects: [group(mastersGroup)], rules: [everything] },
  {
    name: 'system-leader-election',
    precedence: 100,
    priorityLevel: 'leader-election',
    distinguisher: 'ByUser',
    subjects: [user('system:kube-controller-manager'), user('system:kube-scheduler'), kubeSystemServiceAccounts],
    rules: leaderElectionRules,
  },
  {
    name: 'endpoint-controller',
    precedence: 150,
    priorityLevel: 'workload-high',
    distinguisher: 'ByUser',
    subjects: [user('system:kube-controller-manager'), { kind: 'ServiceAccount', namespace: 'kube-system', name: 'endpoint-controller' }],
    rules: [{ verbs: ['get', 'create', 'update'], apiGroups: [''], resources: ['endpoints'], namespaces: all, clusterScope: false }],
  },
  {
    name: 'system-node-high',
    precedence: 400,
    priorityLevel: 'node-high',
    distinguisher: 'ByUser',
    subjects: [group('system:nodes')],
    rules: [
      { verbs: all, apiGroups: [''], resources: ['nodes', 'nodes/status'], namespaces: all, clusterScope: true },
      { verbs: all, apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: all, clusterScope: false },
    ],
  },
  { name: 'system-nodes', precedence: 500, priorityLevel: 'system', distinguisher: 'ByUser', subjects: [group('system:nodes')], rules: [everything] },
  { name: 'kube-controller-manager', precedence: 800, priorityLevel: 'workload-high', distinguisher: 'ByNamespace', subjects: [user('system:kube-controller-manager')], rules: [everything] },
  { name: 'kube-scheduler', precedence: 800, priorityLevel: 'workload-high', distinguisher: 'ByNamespace', subjects: [user('system:kube-scheduler')], rules: [everything] },
  { name: 'kube-system-service-accounts', precedence: 900, priorityLevel: 'workload-high', distinguisher: 'ByNamespace', subjects: [kubeSystemServiceAccounts], rules: [everything] },
  { name: 'service-accounts', precedence: 9000, priorityLevel: 'workload-low', distinguisher: 'ByUser', subjects: [group('system:serviceaccounts')], rules: [everything] },
  { name: 'global-default', precedence: 9900, priorityLevel: 'global-default', distinguisher: 'ByUser', subjects: everyone, rules: [everything] },
  { name: 'catch-all', precedence: 10000, priorityLevel: 'catch-all', distinguisher: 'ByUser', subjects: everyone, rules: [everything] },
];

/**
 * Each limited level's seats: its shares' part of the server's (the two in-flight limits
 * summed, as Kubernetes does), rounded up so that no level has none.
 */
export function nominalSeats(serverSeats: number, levels: readonly PriorityLevel[] = priorityLevels): Map<string, number> {
  const limited = levels.filter((l) => !l.exempt);
  const total = limited.reduce((sum, l) => sum + l.shares, 0);
  return new Map(limited.map((l) => [l.name, Math.ceil((serverSeats * l.shares) / total)]));
}
