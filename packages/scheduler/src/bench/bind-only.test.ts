// The bind-only benchmark and its clock against the real API server and scheduler processes.

import type { Pod } from '@peapod/api';
import { Client } from '@peapod/client';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { podManifest } from '../testing/cluster';
import { BindClock } from './bind-clock';
import { benchBindOnly } from './index';

jest.setTimeout(60_000);

describe('BindClock', () => {
  let api: RunningApiServer;
  let client: Client;

  beforeAll(async () => {
    api = await startApiServer();
    client = new Client({ server: api.url });
  });

  afterAll(async () => {
    client?.close();
    await api?.stop();
  });

  test('times each bind as the watch sees it, and stops counting at an event that is no bind', async () => {
    const rv = (await client.list('pods', { limit: 1 })).metadata.resourceVersion ?? '';
    const clock = await BindClock.start(client, rv);
    try {
      const pods = await Promise.all(['a', 'b'].map((name) => client.create<Pod>('pods', podManifest(name), { namespace: 'default' })));
      expect(clock.seen).toBe(0);
      const before = Date.now();
      for (const pod of pods) await client.bind('default', pod.metadata.name ?? '', 'node-1', pod.metadata.uid);
      await clock.until(2);
      expect(clock.seen).toBe(2);
      expect(clock.at(1)).toBeGreaterThanOrEqual(before);
      expect(clock.at(2)).toBeGreaterThanOrEqual(clock.at(1));
      expect(() => clock.at(3)).toThrow('bind 3 not seen');

      await client.patch('pods', 'a', { metadata: { labels: { changed: 'yes' } } }, 'merge', { namespace: 'default' });
      await expect(clock.until(3)).rejects.toThrow('an event other than ADDED: {"type":"MODIFIED"');
    } finally {
      clock.stop();
    }
  });
});

test('benchBindOnly times both sides over the same API server', async () => {
  const result = await benchBindOnly({ nodes: 10, pods: 200, rounds: 2 });
  for (const rate of [result.bindOnlyPerSecond, result.schedulerPerSecond]) {
    expect(Number.isFinite(rate)).toBe(true);
    expect(rate).toBeGreaterThan(0);
  }
  expect(result.apiserverCpuMsPerPod.bindOnly).toBeGreaterThanOrEqual(0);
  expect(result.schedulerCpuMsPerPod.scheduler).toBeGreaterThanOrEqual(0);
});
