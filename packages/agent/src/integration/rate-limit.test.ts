// --kube-api-qps and --kube-api-burst, as the kubelet's: the pods' requests wait their turn,
// the node's lease does not wait behind them.
import { spawnSync } from 'child_process';
import type { Lease, Pod } from '@peapod/api';
import { Client } from '@peapod/client';
import { createNamespaceDefaults, mainJs, startApiServer, startComponent, waitFor } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';

jest.setTimeout(90_000);

const NODE = 'paced-node';
let api: RunningApiServer | undefined;
let agent: RunningProcess | undefined;
let client: Client | undefined;

afterAll(async () => {
  await agent?.kill('SIGKILL');
  client?.close();
  await api?.stop('SIGKILL');
});

test('--help gives the kubelet defaults, 50 and 100', () => {
  const help = spawnSync(process.execPath, [mainJs('agent'), '--help'], { encoding: 'utf8', timeout: 15_000 });
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/--kube-api-qps <n>[\s\S]*\(default: 50\)/);
  expect(help.stdout).toMatch(/--kube-api-burst <n>[\s\S]*\(default: 100\)/);
});

test("at 2 requests a second the pods' status writes are paced while the lease is renewed every heartbeat", async () => {
  api = await startApiServer();
  client = new Client({ server: api.url });
  const c = client;
  await createNamespaceDefaults(c);
  agent = startComponent('agent', [
    '--server', api.url,
    '--node-name', NODE,
    '--runtime', 'fake',
    '--fake-start-delay', '0',
    '--port', '0',
    '--address', '127.0.0.1',
    '--heartbeat-interval', '1',
    '--kube-api-qps', '2',
    '--kube-api-burst', '1',
  ]);
  await agent.ready(/"msg":"listening"/, 30_000);

  const running = new Map<string, number>();
  const renewals: number[] = [];
  const pods = c.watch<Pod>('pods', { namespace: 'default' }, (e) => {
    const name = e.object.metadata.name ?? '';
    if (e.object.status?.phase === 'Running' && !running.has(name)) running.set(name, Date.now());
  });
  const leases = c.watch<Lease>('leases', { namespace: 'kube-node-lease', fieldSelector: `metadata.name=${NODE}` }, (e) => {
    if (e.type === 'MODIFIED') renewals.push(Date.now());
  });
  try {
    const count = 8;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        c.create<Pod>('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `paced-${i}` }, spec: { nodeName: NODE, containers: [{ name: 'app', image: 'peapod/busybox:latest' }] } }),
      ),
    );
    await waitFor('every pod Running', () => running.size === count, 60_000);
    const last = Math.max(...running.values());
    // At least one status write per pod at two a second: about 4 s, where unpaced they take well under one.
    expect(last - started).toBeGreaterThanOrEqual(3000);
    // Meanwhile the lease went on every second (give or take a loaded machine), not behind the pods' queue.
    const during = renewals.filter((t) => t >= started && t <= last);
    expect(during.length).toBeGreaterThanOrEqual(Math.floor((last - started) / 1000) - 1);
    const gaps = during.slice(1).map((t, i) => t - during[i]);
    expect(Math.max(...gaps)).toBeLessThan(2500);
  } finally {
    pods.stop();
    leases.stop();
  }
});
