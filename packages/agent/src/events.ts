import type { Pod } from '@peapod/api';
import type { Client, Logger } from '@peapod/client';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Records an event about the pod without waiting for the API (events are best effort). */
  record(pod: Pod, type: EventType, reason: string, message: string): void;
}

export const AGENT_COMPONENT = 'peapod-agent';

export function apiEventRecorder(client: Client, nodeName: string, log: Logger): EventRecorder {
  return {
    record(pod, type, reason, message) {
      const involved: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata, spec: pod.spec };
      client.recordEvent(involved, type, reason, message, { component: AGENT_COMPONENT, host: nodeName }).catch((err: unknown) => {
        log.debug('event not recorded', { reason, pod: pod.metadata.name, error: err });
      });
    },
  };
}
