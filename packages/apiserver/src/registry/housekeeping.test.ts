// Event expiry through the housekeeping's queue: what expires and when, events from before
// start-up, updates and deletes, and that a pass looks only at the events due.
import type { Event } from '@peapod/api';
import { StatusError } from '../errors';
import { serverPerTest } from '../testing/server';
import { Housekeeping } from './housekeeping';
import { ExpiryQueue } from './housekeeping-events';

// The server's own housekeeping keeps every event; the one under test has its own clock and a TTL of an hour.
const t = serverPerTest({ endpointReconcilerType: 'none', eventTtlSeconds: 10 * 365 * 86400 });
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const hour = 3600_000;
const start = Math.floor(Date.now() / 1000) * 1000;

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function event(name: string, at: number): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
    reason: 'Started',
    message: 'Started container app',
    type: 'Normal',
    lastTimestamp: stamp(at),
  } as Event;
}

async function create(name: string, at: number): Promise<void> {
  await t.api.registry.create('events', 'default', event(name, at), 'Strict');
}

async function names(): Promise<string[]> {
  return (await t.api.registry.list('events', 'default', {})).items.map((e) => e.object.metadata.name!);
}

/** A housekeeping whose clock the test moves. */
function housekeeping(): { hk: Housekeeping; clock: { now: number } } {
  const clock = { now: start };
  const hk = new Housekeeping(t.api.registry, t.api.registry.store, quiet, { eventTtlSeconds: 3600, now: () => clock.now });
  return { hk, clock };
}

test('events stored before start-up expire, exactly those older than the TTL', async () => {
  const expected = { old: [] as string[], fresh: [] as string[] };
  // More than a chunk of the pass, old and fresh events interleaved in key order.
  for (let i = 0; i < 2300; i++) {
    const age = i % 3 === 0 ? 'old' : 'fresh';
    const name = `ev-${String(i).padStart(5, '0')}`;
    expected[age].push(name);
    await create(name, age === 'old' ? start - 2 * hour : start);
  }
  const { hk } = housekeeping();
  expect(await hk.expireEvents()).toBe(expected.old.length);
  expect(await names()).toEqual(expected.fresh);
  hk.stop();
}, 120_000);

test('events written after start-up expire once older than the TTL, and not before', async () => {
  const { hk, clock } = housekeeping();
  expect(await hk.expireEvents()).toBe(0);
  await create('a', start);
  await create('b', start + 10_000);
  await create('c', start - 5_000);
  clock.now = start + hour;
  expect(await hk.expireEvents()).toBe(1);
  expect(await names()).toEqual(['a', 'b']);
  // Older than the TTL means strictly older, as before.
  clock.now = start + hour + 1;
  expect(await hk.expireEvents()).toBe(1);
  expect(await names()).toEqual(['b']);
  clock.now = start + hour + 10_001;
  expect(await hk.expireEvents()).toBe(1);
  expect(await names()).toEqual([]);
  hk.stop();
});

test('an event updated later (a series counting on) lives on from its new time', async () => {
  const { hk, clock } = housekeeping();
  await create('series', start);
  await hk.expireEvents();
  await t.api.registry.guaranteedUpdate('events', 'default', 'series', (cur) => ({ ...cur, count: 2, lastTimestamp: stamp(start + 30 * 60_000) }) as Event, false);
  clock.now = start + hour + 1000;
  expect(await hk.expireEvents()).toBe(0);
  expect(await names()).toEqual(['series']);
  clock.now = start + 90 * 60_000 + 1000;
  expect(await hk.expireEvents()).toBe(1);
  expect(await names()).toEqual([]);
  hk.stop();
});

test('an event moved earlier by an update expires from its earlier time', async () => {
  const { hk, clock } = housekeeping();
  await hk.expireEvents();
  await create('moved', start);
  await t.api.registry.guaranteedUpdate('events', 'default', 'moved', (cur) => ({ ...cur, lastTimestamp: stamp(start - 30 * 60_000) }) as Event, false);
  clock.now = start + 30 * 60_000 + 1000;
  expect(await hk.expireEvents()).toBe(1);
  hk.stop();
});

test('deleted and recreated events leave the queue without breaking it', async () => {
  const { hk, clock } = housekeeping();
  await hk.expireEvents();
  for (const name of ['a', 'b', 'c', 'd']) await create(name, start);
  await t.api.registry.delete('events', 'default', 'b', {});
  await t.api.registry.delete('events', 'default', 'c', {});
  // The same name again, an hour later: its first life's entry must not take it.
  await create('c', start + hour);
  clock.now = start + hour + 1000;
  expect(await hk.expireEvents()).toBe(2);
  expect(await names()).toEqual(['c']);
  clock.now = start + 2 * hour + 1000;
  expect(await hk.expireEvents()).toBe(1);
  expect(await names()).toEqual([]);
  hk.stop();
});

test('a watch the store ends is followed again from a fresh list', async () => {
  const listAndWatch = jest.spyOn(t.api.registry.store, 'listAndWatch');
  const { hk, clock } = housekeeping();
  await hk.expireEvents();
  const sink = listAndWatch.mock.calls[0][2];
  sink.end!();
  // Written while nothing follows: the next pass's list finds it.
  await create('unheard', start);
  clock.now = start + hour + 1000;
  expect(await hk.expireEvents()).toBe(1);
  expect(listAndWatch).toHaveBeenCalledTimes(2);
  expect(await names()).toEqual([]);
  hk.stop();
});

test('an event whose delete fails stays queued for the next pass', async () => {
  const { hk, clock } = housekeeping();
  await hk.expireEvents();
  for (const name of ['a', 'b']) await create(name, start);
  clock.now = start + hour + 1000;
  const deletes = jest.spyOn(t.api.registry, 'delete');
  // Changed meanwhile by another writer, then the store out of reach.
  deletes.mockRejectedValueOnce(new StatusError(409, 'the object has been modified', { reason: 'Conflict' }));
  expect(await hk.expireEvents()).toBe(1);
  deletes.mockRejectedValueOnce(new StatusError(503, 'storage unavailable'));
  await expect(hk.expireEvents()).rejects.toThrow('storage unavailable');
  expect(await names()).toHaveLength(1);
  expect(await hk.expireEvents()).toBe(1);
  expect(await names()).toEqual([]);
  hk.stop();
});

test('a pass reads only the events due, never a list of all of them', async () => {
  for (let i = 0; i < 3000; i++) await create(`fresh-${i}`, start + i * 1000);
  for (let i = 0; i < 20; i++) await create(`old-${i}`, start - 2 * hour);
  const { hk, clock } = housekeeping();
  const store = t.api.registry.store;
  // The start-up list fills the queue; a pass after it lists nothing.
  await hk.expireEvents();
  const lists = [jest.spyOn(t.api.registry, 'list'), jest.spyOn(store, 'list'), jest.spyOn(store, 'listAndWatch'), jest.spyOn(store.cache, 'list')];
  const reads = jest.spyOn(store.cache, 'get');
  await create('old-late', start - 2 * hour);
  clock.now = start + hour + 100_000;
  expect(await hk.expireEvents()).toBe(1 + 100);
  for (const l of lists) expect(l).not.toHaveBeenCalled();
  // A few reads per event due (the pass's own, and the registry's in its create and deletes), not one per event stored.
  expect(reads.mock.calls.filter(([key]) => key.startsWith('/events/')).length).toBeLessThanOrEqual(5 * 101);
  hk.stop();
}, 120_000);

test('the queue answers keys in time order', () => {
  const q = new ExpiryQueue();
  const times = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 1000);
  times.forEach((time, i) => q.push(`k${i}`, time));
  const popped: number[] = [];
  while (q.size) {
    const first = q.peekTime();
    const key = q.pop()!;
    expect(times[Number(key.slice(1))]).toBe(first);
    popped.push(first);
  }
  expect(popped).toEqual([...times].sort((a, b) => a - b));
  expect(q.pop()).toBeUndefined();
  expect(q.peekTime()).toBe(Infinity);
});
