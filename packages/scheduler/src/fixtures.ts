// Node and pod objects built in memory, for tests and the benchmark.

import type { Container, Node, Pod, PodSpec, Taint } from '@peapod/api';

export interface NodeShape {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  ready?: boolean;
}

export function makeNode(name: string, shape: NodeShape = {}): Node {
  const allocatable = { cpu: shape.cpu ?? '4', memory: shape.memory ?? '8Gi', pods: shape.pods ?? '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `node-uid-${name}`, labels: { 'kubernetes.io/hostname': name, ...shape.labels } },
    spec: { unschedulable: shape.unschedulable, taints: shape.taints },
    status: {
      capacity: allocatable,
      allocatable,
      conditions: [{ type: 'Ready', status: shape.ready === false ? 'False' : 'True' }],
    },
  };
}

export interface PodShape {
  namespace?: string;
  uid?: string;
  cpu?: string;
  memory?: string;
  ownerUid?: string;
  hostPort?: number;
  spec?: Partial<PodSpec>;
}

let podCounter = 0;

export function makePod(name: string, shape: PodShape = {}): Pod {
  const requests: Record<string, string> = {};
  if (shape.cpu !== undefined) requests.cpu = shape.cpu;
  if (shape.memory !== undefined) requests.memory = shape.memory;
  const container: Container = { name: 'main', image: 'busybox' };
  if (shape.cpu !== undefined || shape.memory !== undefined) container.resources = { requests };
  if (shape.hostPort !== undefined) container.ports = [{ containerPort: 80, hostPort: shape.hostPort }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: shape.namespace ?? 'default',
      uid: shape.uid ?? `pod-uid-${name}-${++podCounter}`,
      ownerReferences: shape.ownerUid
        ? [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'rc', uid: shape.ownerUid, controller: true }]
        : undefined,
    },
    spec: { containers: [container], ...shape.spec },
    status: { phase: 'Pending' },
  };
}
