// The components and peactl given two API servers (here two HTTP fronts of one real API
// server, as two servers of one store are): when the first goes away, the agent, the
// scheduler, the controller manager and peactl carry on through the other.

import { execFile } from 'child_process';
import { promisify } from 'util';
import type { Lease, Node, Pod, ReplicationController } from '@peapod/api';
import { Client } from './rest';
import { frontServer } from './testing/http-server';
import type { FrontServer } from './testing/http-server';
import { createNamespaceDefaults } from './testing/namespace-defaults';
import { mainJs, startApiServer, startComponent } from './testing/processes';
import type { RunningApiServer, RunningProcess } from './testing/processes';
import { waitFor } from './testing/wait';

jest.setTimeout(120_000);

const NODE = 'failover-node';
let api: RunningApiServer;
let first: FrontServer;
let second: FrontServer;
let servers: string;
let client: Client;
const procs: RunningProcess[] = [];

beforeAll(async () => {
  api = await startApiServer();
  first = await frontServer(api.url);
  second = await frontServer(api.url);
  servers = `${first.url},${second.url}`;
  client = new Client({ server: api.url });
  await createNamespaceDefaults(client);
  const agent = startComponent('agent', [
    '--server', servers, '--node-name', NODE, '--runtime', 'fake', '--pod-cidr', '10.77.4.0/24',
    '--fake-start-delay', '0.2', '--port', '0', '--address', '127.0.0.1', '--heartbeat-interval', '1',
  ]);
  procs.push(agent, startComponent('scheduler', ['--server', servers]), startComponent('controller-manager', ['--server', servers]));
  await agent.ready(/"msg":"listening"/, 20_000);
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  client?.close();
  await first?.kill();
  await second?.kill();
  await api?.stop('SIGKILL');
});

async function runningPods(): Promise<Pod[]> {
  const pods = (await client.list<Pod>('pods', { namespace: 'default', labelSelector: 'app=web' })).items;
  return pods.filter((p) => p.spec.nodeName === NODE && p.status?.phase === 'Running' && p.metadata.deletionTimestamp === undefined);
}

async function renewTime(): Promise<string> {
  return (await client.get<Lease>('leases', NODE, { namespace: 'kube-node-lease' })).spec?.renewTime ?? '';
}

test('agent, scheduler, controller manager and peactl carry on through the second API server when the first goes', async () => {
  await waitFor('the node Ready', async () => (await client.get<Node>('nodes', NODE)).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  const rc: ReplicationController = {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 2, selector: { app: 'web' }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'peapod/busybox:latest' }] } } },
  };
  await client.create('replicationcontrollers', rc);
  await waitFor('2 pods running', async () => (await runningPods()).length === 2, 40_000);
  expect(second.hits).toEqual([]);

  await first.kill();
  const renewedBefore = await renewTime();
  await client.patch('replicationcontrollers', 'web', { spec: { replicas: 4 } }, 'merge', { namespace: 'default', subresource: 'scale' });
  // Created by the controller manager, bound by the scheduler, run by the agent: all through the second server.
  await waitFor('4 pods running', async () => (await runningPods()).length === 4, 40_000);
  await waitFor('the node lease renewed', async () => (await renewTime()) > renewedBefore, 20_000);
  for (const kind of ['pods', 'replicationcontrollers', 'nodes', 'leases']) expect(second.hits.some((h) => h.includes(`/${kind}`))).toBe(true);

  const { stdout } = await promisify(execFile)(process.execPath, [mainJs('cli'), '--server', servers, 'get', 'pods', '-o', 'name'], { env: { ...process.env, KUBECONFIG: '/dev/null' } });
  expect(stdout.trim().split('\n')).toHaveLength(4);
});
