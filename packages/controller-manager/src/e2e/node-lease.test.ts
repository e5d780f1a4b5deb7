// Node leases with real agents and this controller manager: each agent keeps its Lease in
// kube-node-lease renewed (kubectl and peactl describe it alike); posting its status only on
// change or every 5 minutes (the default), its node stays Ready on lease renewals alone. The
// heartbeat writes per node per minute are measured beside an agent posting its status at
// every heartbeat (as agents did before leases) and printed. An agent stopped with SIGSTOP
// lets its node go NotReady after the grace period; SIGCONT brings it back Ready. Heartbeats
// every 5 s against a 20 s grace (the defaults' 10 s and 40 s, halved, so the test waits half
// as long).

import { randomBytes } from 'crypto';
import type { KubeObject, Lease, Node } from '@peapod/api';
import type { RunningProcess } from '@peapod/client/testing';
import { startAgent } from '../testing/agents';
import { startCluster, waitFor } from '../testing/cluster';
import type { Cluster } from '../testing/cluster';
import { cleanUp, createNetwork } from '../testing/docker';
import { kubectlFor } from '../testing/kubectl';
import { runPeactl } from '../testing/peactl';

jest.setTimeout(400_000);

const testId = `lease-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const network = `peapod-test-${testId}`;
/** Posts its status at every heartbeat, as agents did before leases. */
const before = `before-${testId}`;
/** Lease renewed at every heartbeat, status posted on change or every 5 minutes (the default). */
const after = `after-${testId}`;
const heartbeat = '5s';
/** The controller manager's --node-monitor-grace-period here. */
const graceMs = 20_000;
/** Longer than the grace: a node left Ready all through it was kept so by its lease. */
const windowMs = 30_000;

let cluster: Cluster;
const agents = new Map<string, RunningProcess>();

beforeAll(async () => {
  createNetwork(network, testId);
  cluster = await startCluster({ runPods: false, scheduler: false, controllerManagerArgs: ['--node-monitor-period', '1s', '--node-monitor-grace-period', `${graceMs / 1000}s`] });
  agents.set(before, await startAgent(cluster.api.url, before, network, ['--heartbeat-interval', heartbeat, '--node-status-report-interval', heartbeat]));
  agents.set(after, await startAgent(cluster.api.url, after, network, ['--heartbeat-interval', heartbeat]));
  await cluster.startControllerManager();
});

afterAll(async () => {
  await Promise.all([...agents.values()].map((a) => a.kill('SIGKILL')));
  await cluster?.stop();
  cleanUp([before, after], testId);
});

function ready(node: Node): string | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

interface Writes {
  statusPosts: number;
  leaseRenewals: number;
  bytes: number;
}

test('each agent keeps its Lease; with leases a node stays Ready on renewals alone, at a fraction of the bytes written', async () => {
  const leases = await waitFor('both leases', async () => {
    const list = (await cluster.client.list<Lease>('leases', { namespace: 'kube-node-lease' })).items;
    return list.length === 2 && list;
  }, 30_000);
  for (const lease of leases) {
    const name = lease.metadata.name!;
    const node = await cluster.client.get<Node>('nodes', name);
    expect(lease.spec).toMatchObject({ holderIdentity: name, leaseDurationSeconds: 40 });
    expect(lease.spec!.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(lease.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }]);
  }

  // kubectl describe node shows the lease, and peactl shows the same section.
  const kubectl = kubectlFor(cluster.api.url);
  try {
    const leaseSection = (text: string) => /\nLease:\n(?:  .*\n)+/.exec(text)?.[0];
    let pair: (string | undefined)[] = [];
    for (let i = 0; i < 3 && (pair.length === 0 || pair[0] !== pair[1]); i++) {
      const peactl = await runPeactl(cluster.api.url, ['describe', 'node', after]);
      pair = [leaseSection(kubectl.run(['describe', 'node', after]).stdout), leaseSection(peactl.stdout)];
    }
    expect(pair[0]).toMatch(new RegExp(`^\\nLease:\\n  HolderIdentity:  ${after}\\n  AcquireTime:     <unset>\\n  RenewTime:       .+\\n$`));
    expect(pair[1]).toBe(pair[0]);
  } finally {
    kubectl.cleanup();
  }

  // Count every write of each node's heartbeat for a minute: its status posts and its lease renewals.
  const writes = new Map<string, Writes>([before, after].map((n) => [n, { statusPosts: 0, leaseRenewals: 0, bytes: 0 }]));
  const count = (kind: keyof Omit<Writes, 'bytes'>) => (e: { type: string; object: KubeObject }) => {
    const w = writes.get(e.object.metadata.name ?? '');
    if (w === undefined || e.type !== 'MODIFIED') return;
    w[kind]++;
    w.bytes += JSON.stringify(e.object).length;
  };
  const notReady: string[] = [];
  const rv = (list: { metadata: { resourceVersion?: string } }) => list.metadata.resourceVersion;
  const nodeWatch = cluster.client.watch<Node>('nodes', { resourceVersion: rv(await cluster.client.list('nodes')) }, (e) => {
    count('statusPosts')(e);
    if (ready(e.object) !== 'True') notReady.push(e.object.metadata.name ?? '');
  });
  const leaseWatch = cluster.client.watch<Lease>('leases', { namespace: 'kube-node-lease', resourceVersion: rv(await cluster.client.list('leases', { namespace: 'kube-node-lease' })) }, count('leaseRenewals'));
  await new Promise((r) => setTimeout(r, windowMs));
  nodeWatch.stop();
  leaseWatch.stop();

  const perMinute = (n: number) => (n * 60_000) / windowMs;
  const b = writes.get(before)!;
  const a = writes.get(after)!;
  process.stdout.write(
    [
      'heartbeat writes per node per minute',
      `  before (status posted every ${heartbeat}):          ${perMinute(b.statusPosts)} status posts, ${(perMinute(b.bytes) / 1024).toFixed(1)} KiB`,
      `  after (lease every ${heartbeat}, status on change): ${perMinute(a.leaseRenewals)} lease renewals + ${perMinute(a.statusPosts)} status posts, ${(perMinute(a.bytes) / 1024).toFixed(1)} KiB`,
      '',
    ].join('\n'),
  );
  // Six heartbeats in the window; one or two may come late on a busy machine.
  expect(b.statusPosts).toBeGreaterThanOrEqual(4);
  expect(a.leaseRenewals).toBeGreaterThanOrEqual(4);
  expect(a.statusPosts).toBe(0);
  expect(a.bytes).toBeLessThan(b.bytes / 2);
  // A window without a status post, longer than the grace: the lease alone kept the node Ready.
  expect(notReady).toEqual([]);
  expect(ready(await cluster.client.get<Node>('nodes', after))).toBe('True');
});

test('an agent stopped with SIGSTOP: its node goes NotReady after the grace period; SIGCONT brings it back Ready', async () => {
  const agent = agents.get(after)!;
  const lastRenewal = Date.parse((await cluster.client.get<Lease>('leases', after, { namespace: 'kube-node-lease' })).spec!.renewTime!);
  agent.proc.kill('SIGSTOP');
  let node: Node;
  try {
    // The controller writes the Unknown condition and then the taint, two writes: wait for both.
    node = await waitFor('the stopped node NotReady and tainted unreachable', async () => {
      const n = await cluster.client.get<Node>('nodes', after);
      return ready(n) === 'Unknown' && (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable') && n;
    }, 120_000);
  } finally {
    agent.proc.kill('SIGCONT');
  }
  const silentFor = Date.now() - lastRenewal;
  process.stdout.write(`node ${after} NotReady ${(silentFor / 1000).toFixed(1)} s after its last lease renewal (grace ${graceMs / 1000} s)\n`);
  expect(silentFor).toBeGreaterThanOrEqual(graceMs);
  expect(node.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
  expect(node.spec!.taints!.find((t) => t.key === 'node.kubernetes.io/unreachable')).toMatchObject({ effect: 'NoExecute' });
  expect(ready(await cluster.client.get<Node>('nodes', before))).toBe('True');

  await waitFor('the node Ready again, untainted', async () => {
    const n = await cluster.client.get<Node>('nodes', after);
    return ready(n) === 'True' && !(n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable');
  }, 60_000);
});
