// Two controller managers on one API server, leader-elected with Kubernetes' timings (lease
// 15 s, renew deadline 10 s, retry 2 s): only the leader's controllers act; killed with
// SIGKILL, the other takes over once the lease runs out; stopped cleanly, it hands over at once.
// A replication controller scaled across the changes of leader never overshoots.

import { acquiredLeaseLine, handOver, kubectlGetLeases, leaderAmong, leaseHolder, startCandidate as startElected } from '@peapod/client/testing';
import type { RunningProcess } from '@peapod/client/testing';
import { ReplicaInvariant, rcManifest, startCluster, waitFor } from '../testing/cluster';
import type { Cluster } from '../testing/cluster';

jest.setTimeout(120_000);

let cluster: Cluster;
const managers: RunningProcess[] = [];
const startedLine = /"msg":"started"/;

function startCandidate(): RunningProcess {
  const cm = startElected('controller-manager', cluster.api.url);
  managers.push(cm);
  return cm;
}

async function scale(replicas: number): Promise<void> {
  await cluster.client.patch('replicationcontrollers', 'ha', { spec: { replicas } }, 'merge', { namespace: 'default', subresource: 'scale' });
}

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.nodes.add('node-a');
});

afterAll(async () => {
  await Promise.all(managers.map((m) => m.kill('SIGKILL')));
  await cluster?.stop();
});

test('only the leader acts; after a SIGKILL the other takes over within the lease; a clean stop hands over at once', async () => {
  const invariant = new ReplicaInvariant(cluster.client, 'ha', 2);
  await invariant.started();
  try {
    const candidates = [startCandidate(), startCandidate()];
    const first = await leaderAmong(candidates);
    await first.waitForLine(startedLine, 30_000);
    const standby = candidates.find((m) => m !== first)!;
    await cluster.client.create('replicationcontrollers', rcManifest('ha', 2));
    await waitFor('2 live pods', () => invariant.live().length === 2, 30_000);
    expect(standby.logs()).not.toMatch(acquiredLeaseLine);
    expect(standby.logs()).not.toMatch(startedLine);
    expect(await leaseHolder(cluster.client, 'kube-controller-manager')).toMatch(/_/);
    expect(await kubectlGetLeases(cluster.api.url)).toMatch(/^kube-controller-manager\s+\S+_\S+/m);

    invariant.setDesired(3);
    const takeover = handOver('controller manager takeover after SIGKILL of the leader', first, 'SIGKILL', [standby]);
    await scale(3);
    const { next: second, ms: takeoverMs } = await takeover;
    await waitFor('3 live pods', () => invariant.live().length === 3, 40_000);
    expect(takeoverMs).toBeGreaterThan(10_000);
    expect(takeoverMs).toBeLessThan(20_000);

    const third = startCandidate();
    await new Promise((r) => setTimeout(r, 3000));
    expect(third.logs()).not.toMatch(acquiredLeaseLine);
    expect((await handOver('controller manager handover after a clean stop', second, 'SIGTERM', [third])).ms).toBeLessThan(10_000);
    invariant.setDesired(1);
    await scale(1);
    await waitFor('1 live pod', () => invariant.live().length === 1, 30_000);
    expect(invariant.violations).toEqual([]);
  } finally {
    invariant.stop();
  }
});
