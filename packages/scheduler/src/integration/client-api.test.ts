// The scheduler's requests as the real API server takes them.

import type { Pod, PodCondition } from '@peapod/api';
import { clientApi } from '../client-api';
import { podManifest, podScheduled, startCluster } from '../testing/cluster';
import type { TestCluster } from '../testing/cluster';

jest.setTimeout(20_000);

let c: TestCluster;

beforeAll(async () => {
  c = await startCluster({ withScheduler: false });
});

afterAll(async () => {
  await c?.stop();
});

describe('clientApi against the API server', () => {
  it('binds once: a second binding of the same pod is refused with 409', async () => {
    const api = clientApi(c.client, 'default-scheduler');
    const pod = await c.client.create<Pod>('pods', podManifest('twice'), { namespace: 'default' });
    await api.bind(pod, 'node-a');
    await expect(api.bind(pod, 'node-b')).rejects.toMatchObject({ code: 409 });
    expect((await c.client.get<Pod>('pods', 'twice', { namespace: 'default' })).spec.nodeName).toBe('node-a');
  });

  it('refuses a binding meant for an earlier pod of the same name', async () => {
    const api = clientApi(c.client, 'default-scheduler');
    const earlier = await c.client.create<Pod>('pods', podManifest('again'), { namespace: 'default' });
    await c.client.delete('pods', 'again', { namespace: 'default', gracePeriodSeconds: 0 });
    await c.client.create<Pod>('pods', podManifest('again'), { namespace: 'default' });
    await expect(api.bind(earlier, 'node-a')).rejects.toMatchObject({ code: 409 });
  });

  it('does not mark Unschedulable a pod that was bound since the scheduler read it', async () => {
    const api = clientApi(c.client, 'default-scheduler');
    const stale = await c.client.create<Pod>('pods', podManifest('raced'), { namespace: 'default' });
    await api.bind(stale, 'node-a');
    const unschedulable: PodCondition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available.' };
    await expect(api.setPodConditions(stale, [unschedulable])).rejects.toMatchObject({ code: 409 });
    const now = await c.client.get<Pod>('pods', 'raced', { namespace: 'default' });
    expect(podScheduled(now)?.status).toBe('True');

    await api.setPodConditions(await c.client.create<Pod>('pods', podManifest('fresh'), { namespace: 'default' }), [unschedulable]);
    expect(podScheduled(await c.client.get<Pod>('pods', 'fresh', { namespace: 'default' }))).toMatchObject(unschedulable);
  });
});
