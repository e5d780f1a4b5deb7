import type { Event, Pod } from '@peapod/api';
import { describePod } from './describe';
import { eventLine, eventMoment } from './event-follow';
import type { ResourceType } from './resources';

function event(reason: string, eventTime: string | undefined, lastTimestamp: string, count = 1): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `web.${reason}`, namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web' },
    reason,
    message: `${reason} happened\n`,
    type: 'Normal',
    source: { component: 'peapod-agent', host: 'n1' },
    firstTimestamp: lastTimestamp,
    lastTimestamp,
    ...(eventTime ? { eventTime } : {}),
    count,
  };
}

describe('event times and lines', () => {
  it('orders by the precise time when there is one, by the later of a repeat otherwise', () => {
    expect(eventMoment(event('A', '2030-01-01T00:00:01.250000Z', '2030-01-01T00:00:01Z'))).toBe(Date.parse('2030-01-01T00:00:01.250Z'));
    expect(eventMoment(event('B', undefined, '2030-01-01T00:00:02Z'))).toBe(Date.parse('2030-01-01T00:00:02Z'));
    expect(eventMoment(event('C', '2030-01-01T00:00:01.250000Z', '2030-01-01T00:00:09Z', 2))).toBe(Date.parse('2030-01-01T00:00:09Z'));
  });

  it('prints one line per event: object, local time to the millisecond, reason, message, repeats', () => {
    const pods = { singularName: 'pod', kind: 'Pod' } as ResourceType;
    const e = event('Killing', '2030-01-01T00:00:01.250000Z', '2030-01-01T00:00:01Z', 3);
    const d = new Date('2030-01-01T00:00:01.250Z');
    const hh = String(d.getHours()).padStart(2, '0');
    const mm = String(d.getMinutes()).padStart(2, '0');
    expect(eventLine({ type: pods, name: 'web' }, e)).toBe(`pod/web  ${hh}:${mm}:01.250  Killing  Killing happened (x3)`);
  });

  it('describe lists a termination in the order it happened, though every step fell in the same second', () => {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [] } };
    const second = '2030-01-01T00:00:01Z';
    const events = [
      event('ContainersGone', '2030-01-01T00:00:01.900000Z', second),
      event('Killing', '2030-01-01T00:00:01.100000Z', second),
      event('SentStopSignal', '2030-01-01T00:00:01.500000Z', second),
      event('PreStopHookStarted', '2030-01-01T00:00:01.110000Z', second),
    ];
    const out = describePod(pod, events, Date.parse('2030-01-01T00:00:05Z'));
    const reasons = out
      .slice(out.indexOf('Events:'))
      .split('\n')
      .slice(3)
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/)[1]);
    expect(reasons).toEqual(['Killing', 'PreStopHookStarted', 'SentStopSignal', 'ContainersGone']);
  });
});
