// The scheduler's Binder and Reporter, made of @peapod/client calls.

import type { Pod, PodCondition } from '@peapod/api';
import type { Client } from '@peapod/client';
import type { Binder, Reporter } from './scheduler';

/** Binds and status patches through `client`; events through `events` (by default the same client). */
export function clientApi(client: Client, component: string, events: Client = client): Binder & Reporter {
  return {
    async bind(pod: Pod, nodeName: string): Promise<void> {
      // The uid makes the server refuse a binding meant for an earlier pod of the same name.
      await client.bind(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '', nodeName, pod.metadata.uid);
    },
    async setPodConditions(pod: Pod, conditions: PodCondition[]): Promise<void> {
      // The resourceVersion makes the patch conditional: a pod bound meanwhile keeps PodScheduled=True.
      const patch = { metadata: { resourceVersion: pod.metadata.resourceVersion }, status: { conditions } };
      await client.patch('pods', pod.metadata.name ?? '', patch, 'merge', {
        namespace: pod.metadata.namespace ?? 'default',
        subresource: 'status',
      });
    },
    async recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
      // Objects from a list carry no kind; the event's involvedObject needs it.
      await events.recordEvent({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message, { component });
    },
  };
}
