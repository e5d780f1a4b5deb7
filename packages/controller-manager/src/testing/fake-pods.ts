// Pods as a node agent would leave them, written through the API without a runtime: bound to a
// node, Running with an IP, Ready or not (the pods/status subresource, as an agent writes it).
// The endpoints benchmark and the integration tests run on them.

import { rfc3339 } from '@peapod/api';
import type { ContainerPort, Pod } from '@peapod/api';
import { isConflict } from '@peapod/client';
import type { Client } from '@peapod/client';

export interface RunningPodSpec {
  name: string;
  labels: Record<string, string>;
  node: string;
  ip: string;
  ready?: boolean;
  ports?: ContainerPort[];
  namespace?: string;
}

function readyConditions(ready: boolean): NonNullable<Pod['status']>['conditions'] {
  const now = rfc3339(new Date());
  return ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
    type,
    status: type === 'PodScheduled' || type === 'Initialized' || ready ? ('True' as const) : ('False' as const),
    lastTransitionTime: now,
  }));
}

/** Creates the pod on its node and reports it Running at its IP. */
export async function runPod(client: Client, spec: RunningPodSpec): Promise<Pod> {
  const namespace = spec.namespace ?? 'default';
  const pod = await client.create<Pod>(
    'pods',
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: spec.name, labels: spec.labels },
      spec: {
        nodeName: spec.node,
        terminationGracePeriodSeconds: 300,
        containers: [{ name: 'app', image: 'peapod/busybox:latest', ports: spec.ports }],
      },
    },
    { namespace },
  );
  pod.status = { ...pod.status, phase: 'Running', podIP: spec.ip, podIPs: [{ ip: spec.ip }], hostIP: '127.0.0.1', conditions: readyConditions(spec.ready ?? true) };
  return client.updateStatus<Pod>('pods', pod);
}

/** Flips the pod's Ready condition, retrying on conflicts with other writers. */
export async function setPodReady(client: Client, name: string, ready: boolean, namespace = 'default'): Promise<Pod> {
  for (;;) {
    const pod = await client.get<Pod>('pods', name, { namespace });
    pod.status = { ...pod.status, conditions: readyConditions(ready) };
    try {
      return await client.updateStatus<Pod>('pods', pod);
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
}
