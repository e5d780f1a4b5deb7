import type { Pod } from '@peapod/api';
import type { Client } from '@peapod/client';
import { clientApi } from './client-api';

test('binds and patches through the client, and writes events through the events client (each its own rate limit)', async () => {
  const calls: string[] = [];
  const fake = (name: string) =>
    ({
      bind: async () => void calls.push(`${name} bind`),
      patch: async () => void calls.push(`${name} patch`),
      recordEvent: async () => void calls.push(`${name} event`),
    }) as unknown as Client;
  const api = clientApi(fake('binds'), 'default-scheduler', fake('events'));
  const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u', resourceVersion: '1' }, spec: { containers: [] } } as unknown as Pod;
  await api.bind(pod, 'n1');
  await api.setPodConditions(pod, []);
  await api.recordEvent(pod, 'Normal', 'Scheduled', 'Successfully assigned default/p to n1');
  expect(calls).toEqual(['binds bind', 'binds patch', 'events event']);
});
