// Two schedulers on one API server (each given a dead one first), leader-elected with
// Kubernetes' timings (lease 15 s, renew deadline 10 s, retry 2 s): only the leader schedules; killed with SIGKILL, the other takes
// over once the lease runs out and the pods still get bound; stopped cleanly, it hands over at once.

import { acquiredLeaseLine, closedPort, handOver, kubectlGetLeases, leaderAmong, leaseHolder, startCandidate as startElected } from '@peapod/client/testing';
import type { RunningProcess } from '@peapod/client/testing';
import { createAll, nodeManifest, podManifest, startCluster, waitForBinding } from '../testing/cluster';
import type { TestCluster } from '../testing/cluster';

jest.setTimeout(120_000);

let c: TestCluster;
const schedulers: RunningProcess[] = [];

const startedLine = /"msg":"started"/;

let servers = '';

function startCandidate(): RunningProcess {
  // Given a dead API server first, as after one of two went away: they carry on through the other.
  const s = startElected('scheduler', servers);
  schedulers.push(s);
  return s;
}

async function bindAll(names: string[]): Promise<void> {
  await createAll(c.client, 'pods', names.map((n) => podManifest(n)));
  for (const n of names) await waitForBinding(c.client, n, { timeoutMs: 40_000 });
}

beforeAll(async () => {
  c = await startCluster({ withScheduler: false });
  servers = `http://127.0.0.1:${await closedPort()},${c.api.url}`;
  await createAll(c.client, 'nodes', [nodeManifest('node-a')]);
});

afterAll(async () => {
  await Promise.all(schedulers.map((s) => s.kill('SIGKILL')));
  await c?.stop();
});

test('only the leader schedules; after a SIGKILL the other takes over within the lease and pods still get bound; a clean stop hands over at once', async () => {
  const candidates = [startCandidate(), startCandidate()];
  const first = await leaderAmong(candidates);
  await first.waitForLine(startedLine, 30_000);
  const standby = candidates.find((s) => s !== first)!;
  await bindAll(['p1', 'p2', 'p3']);
  // The standby never began scheduling: no informers, no binds.
  expect(standby.logs()).not.toMatch(acquiredLeaseLine);
  expect(standby.logs()).not.toMatch(startedLine);
  expect(await leaseHolder(c.client, 'kube-scheduler')).toMatch(/_/);
  expect(await kubectlGetLeases(c.api.url)).toMatch(/^kube-scheduler\s+\S+_\S+/m);

  const takeover = handOver('scheduler takeover after SIGKILL of the leader', first, 'SIGKILL', [standby]);
  await c.client.create('pods', podManifest('p4'), { namespace: 'default' });
  const { next: second, ms: takeoverMs } = await takeover;
  await waitForBinding(c.client, 'p4', { timeoutMs: 40_000 });
  // The lease (15 s) runs out from the standby's last sight of a renewal (at most a retry
  // period before the kill); it asks again the moment it has.
  expect(takeoverMs).toBeGreaterThan(10_000);
  expect(takeoverMs).toBeLessThan(20_000);

  const third = startCandidate();
  await new Promise((r) => setTimeout(r, 3000));
  expect(third.logs()).not.toMatch(acquiredLeaseLine);
  // Released: no waiting for the 15 s lease.
  expect((await handOver('scheduler handover after a clean stop', second, 'SIGTERM', [third])).ms).toBeLessThan(10_000);
  await bindAll(['p5']);
});
