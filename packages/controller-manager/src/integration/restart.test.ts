// The controller manager killed (SIGKILL) again and again while it scales: each new process
// relists, and the count converges exactly, never above the desired number at any moment.

import type { ReplicationController } from '@peapod/api';
import { ReplicaInvariant, rcManifest, startCluster, waitFor } from '../testing/cluster';
import type { Cluster } from '../testing/cluster';

jest.setTimeout(90_000);

let cluster: Cluster;

beforeAll(async () => {
  // One instance killed and started again at once: without election, which would make each start wait out the dead one's lease.
  cluster = await startCluster({ controllerManagerArgs: ['--leader-elect=false'] });
  await cluster.nodes.add('node-a');
  await cluster.nodes.add('node-b');
});

afterAll(async () => {
  await cluster?.stop();
});

async function scale(replicas: number): Promise<void> {
  await cluster.client.patch('replicationcontrollers', 'restart', { spec: { replicas } }, 'merge', { namespace: 'default', subresource: 'scale' });
}

/** Starts the controller manager and kills it after each delay, then leaves one running. */
async function killRepeatedly(delaysMs: number[]): Promise<void> {
  for (const delay of delaysMs) {
    await cluster.startControllerManager();
    await new Promise((r) => setTimeout(r, delay));
    await cluster.stopControllerManager('SIGKILL');
  }
  await cluster.startControllerManager();
}

test('restarts in the middle of scaling up and down converge without overshoot', async () => {
  const invariant = new ReplicaInvariant(cluster.client, 'restart', 0);
  await invariant.started();
  try {
    await cluster.client.create('replicationcontrollers', rcManifest('restart', 0));
    invariant.setDesired(120);
    await scale(120);
    await killRepeatedly([150, 60, 250, 100]);
    await waitFor('120 live pods, status 120', async () => {
      const rc = await cluster.client.get<ReplicationController>('replicationcontrollers', 'restart', { namespace: 'default' });
      return rc.status?.replicas === 120 && invariant.live().length === 120;
    }, 40_000);

    invariant.setDesired(30);
    await scale(30);
    await new Promise((r) => setTimeout(r, 100));
    await cluster.stopControllerManager('SIGKILL');
    await killRepeatedly([80, 200]);
    await waitFor('30 live pods, status 30', async () => {
      const rc = await cluster.client.get<ReplicationController>('replicationcontrollers', 'restart', { namespace: 'default' });
      return rc.status?.replicas === 30 && invariant.live().length === 30;
    }, 40_000);
    // Settled: nothing more happens.
    await new Promise((r) => setTimeout(r, 500));
    expect(invariant.live()).toHaveLength(30);
    expect(invariant.violations).toEqual([]);
    expect(invariant.maxLive).toBe(120);
  } finally {
    invariant.stop();
  }
});
