// Objects for unit tests.

import { failureStatus } from '@peapod/api';
import type { Node, Pod, PodPhase, ReplicationController } from '@peapod/api';
import { ApiError } from '@peapod/client';

export function makeRc(name: string, replicas: number, extra: { uid?: string; minReadySeconds?: number; generation?: number } = {}): ReplicationController {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name, namespace: 'default', uid: extra.uid ?? `uid-${name}`, generation: extra.generation ?? 1 },
    spec: {
      replicas,
      minReadySeconds: extra.minReadySeconds ?? 0,
      selector: { app: name },
      template: {
        metadata: { labels: { app: name, tier: 'web' } },
        spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }] },
      },
    },
    status: { replicas: 0 },
  };
}

export interface PodFixture {
  labels?: Record<string, string>;
  owner?: ReplicationController;
  nodeName?: string;
  phase?: PodPhase;
  ready?: boolean;
  readySince?: string;
  created?: string;
  restarts?: number;
  terminating?: boolean;
}

export function makePod(name: string, f: PodFixture = {}): Pod {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: f.labels ?? (f.owner ? { ...f.owner.spec?.template?.metadata?.labels } : {}),
      creationTimestamp: f.created ?? '2024-01-01T00:00:00Z',
    },
    spec: { containers: [{ name: 'c', image: 'x' }], nodeName: f.nodeName },
    status: {
      phase: f.phase ?? (f.nodeName ? 'Running' : 'Pending'),
      conditions: f.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: f.readySince ?? '2024-01-01T00:00:00Z' }] : [],
      containerStatuses: f.restarts !== undefined ? [{ name: 'c', ready: !!f.ready, restartCount: f.restarts, image: 'x', imageID: '' }] : undefined,
    },
  };
  if (f.owner) {
    pod.metadata.ownerReferences = [
      { apiVersion: 'v1', kind: 'ReplicationController', name: f.owner.metadata.name!, uid: f.owner.metadata.uid!, controller: true, blockOwnerDeletion: true },
    ];
  }
  if (f.terminating) pod.metadata.deletionTimestamp = '2024-01-01T00:01:00Z';
  return pod;
}

export function makeNode(name: string, heartbeat: string, ready: 'True' | 'False' | 'Unknown' = 'True'): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-${name}`, creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: {},
    status: { conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: heartbeat, lastTransitionTime: heartbeat, reason: 'KubeletReady' }] },
  };
}

export function apiError(code: number, message = 'failed'): ApiError {
  return new ApiError(failureStatus(code, message));
}
