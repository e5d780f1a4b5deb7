// Event expiry on a registry holding more events than one page of the walk.
import { serverPerTest } from '../testing/server';
import { Housekeeping } from './housekeeping';

const t = serverPerTest({ endpointReconcilerType: 'none' });
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

test('expiring events walks every page and removes exactly those older than the TTL', async () => {
  const now = Date.now();
  const old = new Date(now - 2 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const fresh = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  const names = { old: [] as string[], fresh: [] as string[] };
  // More than two pages, old and fresh events interleaved in key order.
  for (let i = 0; i < 2300; i++) {
    const age = i % 3 === 0 ? 'old' : 'fresh';
    const name = `ev-${String(i).padStart(5, '0')}`;
    names[age].push(name);
    await t.api.registry.create('events', 'default', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
      reason: 'Started',
      message: 'Started container app',
      type: 'Normal',
      lastTimestamp: age === 'old' ? old : fresh,
    }, 'Strict');
  }
  const housekeeping = new Housekeeping(t.api.registry, t.api.registry.store, quiet, { eventTtlSeconds: 3600, now: () => now });
  expect(await housekeeping.expireEvents()).toBe(names.old.length);
  const left = (await t.api.registry.list('events', 'default', {})).items.map((e) => e.object.metadata.name);
  expect(left).toEqual(names.fresh);
}, 120_000);
