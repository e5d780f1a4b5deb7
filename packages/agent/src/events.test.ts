import type { Event, Pod } from '@peapod/api';
import { ApiError, type Client } from '@peapod/client';
import { failureStatus } from '@peapod/api';
import { apiEventRecorder } from './events';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };

/** Records what the recorder asks of the API; the n-th created event is named web.n. */
function fakeClient() {
  const calls: string[] = [];
  let created = 0;
  let expired = false;
  const client = {
    async recordEvent(_o: unknown, type: string, reason: string, message: string, _s: unknown, at?: Date): Promise<Event> {
      await new Promise((resolve) => setTimeout(resolve, 5));
      created++;
      calls.push(`create web.${created} ${type} ${reason} ${message}${at ? ` at ${at.toISOString()}` : ''}`);
      return { involvedObject: {}, metadata: { name: `web.${created}`, namespace: 'default' } };
    },
    async patch(_r: string, name: string, body: { count: number }): Promise<unknown> {
      if (expired) throw new ApiError(failureStatus(404, 'not found'));
      calls.push(`count ${name} ${body.count}`);
      return {};
    },
  };
  return { client: client as unknown as Client, calls, expire: () => (expired = true) };
}

describe('the agent event recorder', () => {
  it('writes a repeat as a higher count on the first event, in order, even when recorded at once; other events go their own way', async () => {
    const { client, calls } = fakeClient();
    const events = apiEventRecorder(client, 'n1', quiet);
    await Promise.all([
      events.record(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: '),
      events.record(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: '),
      events.record(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: '),
      events.record(pod, 'Normal', 'Killing', 'Stopping container app', new Date('2030-01-01T00:00:00.123Z')),
    ]);
    expect(calls.filter((c) => c.includes('Unhealthy') || c.startsWith('count'))).toEqual([
      'create web.1 Warning Unhealthy Readiness probe failed: ',
      'count web.1 2',
      'count web.1 3',
    ]);
    expect(calls).toContain('create web.2 Normal Killing Stopping container app at 2030-01-01T00:00:00.123Z');
  });

  it('writes an event afresh once the one it counted on has expired', async () => {
    const { client, calls, expire } = fakeClient();
    const events = apiEventRecorder(client, 'n1', quiet);
    await events.record(pod, 'Warning', 'BackOff', 'Back-off');
    expire();
    await events.record(pod, 'Warning', 'BackOff', 'Back-off');
    expect(calls).toEqual(['create web.1 Warning BackOff Back-off', 'create web.2 Warning BackOff Back-off']);
  });
});
