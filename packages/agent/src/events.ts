// Events about pods, written to the API without holding up the pod workers. A repeat of an
// event (same pod, type, reason and message, e.g. a probe failing every period) raises the
// count of the event already written instead of adding another, as the kubelet's event
// correlator does.
import type { Pod } from '@peapod/api';
import { rfc3339 } from '@peapod/api';
import { isNotFound } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /**
   * Records an event about the pod; `at` says when it happened when that is not now. The
   * caller need not wait: the promise settles once the event is written or given up (events
   * are best effort) and never rejects.
   */
  record(pod: Pod, type: EventType, reason: string, message: string, at?: Date): Promise<void>;
}

export const AGENT_COMPONENT = 'peapod-agent';

/** How many distinct events are remembered for counting repeats (the kubelet keeps 4096). */
const REMEMBERED_EVENTS = 4096;

interface Written {
  name: string;
  namespace: string;
  count: number;
}

export function apiEventRecorder(client: Client, nodeName: string, log: Logger): EventRecorder {
  const source = { component: AGENT_COMPONENT, host: nodeName };
  // Per distinct event, the write of its latest occurrence: a repeat waits for it, so counts never race.
  const written = new Map<string, Promise<Written | undefined>>();

  async function create(pod: Pod, type: EventType, reason: string, message: string, at: Date | undefined): Promise<Written | undefined> {
    const involved: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata, spec: pod.spec };
    try {
      const event = await client.recordEvent(involved, type, reason, message, source, at);
      return { name: event.metadata.name ?? '', namespace: event.metadata.namespace ?? '', count: 1 };
    } catch (err) {
      log.debug('event not recorded', { reason, pod: pod.metadata.name, error: err });
      return undefined;
    }
  }

  async function repeat(previous: Written, at: Date | undefined): Promise<Written | 'gone'> {
    const count = previous.count + 1;
    try {
      await client.patch('events', previous.name, { count, lastTimestamp: rfc3339(at ?? new Date()) }, 'merge', { namespace: previous.namespace });
      return { ...previous, count };
    } catch (err) {
      // Expired (events live an hour): write it afresh.
      if (isNotFound(err)) return 'gone';
      log.debug('event count not raised', { event: previous.name, error: err });
      return previous;
    }
  }

  return {
    record(pod, type, reason, message, at) {
      const key = [pod.metadata.uid ?? pod.metadata.name, type, reason, message].join('\u0000');
      const before = written.get(key);
      const next = (async (): Promise<Written | undefined> => {
        const previous = before === undefined ? undefined : await before;
        if (previous !== undefined) {
          const counted = await repeat(previous, at);
          if (counted !== 'gone') return counted;
        }
        return create(pod, type, reason, message, at);
      })();
      // Kept in least-recently-recorded order, so the oldest is the one forgotten.
      written.delete(key);
      written.set(key, next);
      if (written.size > REMEMBERED_EVENTS) written.delete(written.keys().next().value as string);
      return next.then(() => undefined);
    },
  };
}
