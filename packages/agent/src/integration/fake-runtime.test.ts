// peapod-agent --runtime fake against a real API server: pods without containers go through
// the agent's own pod workers (start, restarts, graceful deletion), no Docker involved.
import { setPodCondition } from '@peapod/api';
import type { Node, Pod, WatchEvent } from '@peapod/api';
import { Client } from '@peapod/client';
import { createNamespaceDefaults, startApiServer, startComponent, waitFor } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';

jest.setTimeout(60_000);

const NODE = 'fake-node';
let api: RunningApiServer;
let agent: RunningProcess;
let client: Client;

beforeAll(async () => {
  api = await startApiServer();
  client = new Client({ server: api.url });
  await createNamespaceDefaults(client);
  agent = startComponent('agent', [
    '--server', api.url,
    '--node-name', NODE,
    '--runtime', 'fake',
    '--pod-cidr', '10.77.3.0/24',
    '--fake-start-delay', '0.2',
    '--port', '0',
    '--address', '127.0.0.1',
    '--backoff-base', '1',
    '--heartbeat-interval', '1',
  ]);
  await agent.ready(/"msg":"listening"/, 20_000);
});

afterAll(async () => {
  await agent?.kill('SIGKILL');
  client?.close();
  await api?.stop('SIGKILL');
});

function fakePod(name: string, annotations: Record<string, string>, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations },
    spec: { nodeName: NODE, containers: [{ name: 'app', image: 'peapod/busybox:latest' }], ...spec },
  };
}

function getPod(name: string): Promise<Pod> {
  return client.get<Pod>('pods', name, { namespace: 'default' });
}

/** Every state the watch showed the pod in, until it was deleted. */
function recordUntilDeleted(name: string, fromRv: string): { events: WatchEvent<Pod>[]; gone: Promise<void> } {
  const events: WatchEvent<Pod>[] = [];
  let resolve!: () => void;
  const gone = new Promise<void>((r) => (resolve = r));
  const watch = client.watch<Pod>('pods', { namespace: 'default', fieldSelector: `metadata.name=${name}`, resourceVersion: fromRv }, (e) => {
    events.push(e);
    if (e.type === 'DELETED') {
      watch.stop();
      resolve();
    }
  });
  return { events, gone };
}

describe('peapod-agent --runtime fake', () => {
  it('registers a Ready node whose spec carries the pod CIDR and whose runtime is fake', async () => {
    const node = await waitFor('the node', async () => {
      const n = await client.get<Node>('nodes', NODE);
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    });
    expect(node.spec?.podCIDR).toBe('10.77.3.0/24');
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^fake:\/\//);
  });

  it('runs a pod: Running and Ready after the start delay, its IP from the pod CIDR, its logs through the API', async () => {
    await client.create('pods', fakePod('runs', {}));
    const pod = await waitFor('Running', async () => {
      const p = await getPod('runs');
      return p.status?.phase === 'Running' ? p : undefined;
    });
    expect(pod.status?.podIP).toMatch(/^10\.77\.3\.\d+$/);
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0, containerID: expect.stringMatching(/^fake:\/\//) });
    const logs = await client.request<string>('GET', '/api/v1/namespaces/default/pods/runs/log');
    expect(logs.status).toBe(200);
    expect(logs.body).toContain('started');
  });

  it('follows restart policies with the exit code the pod asks for', async () => {
    const crash = { 'peapod.io/fake-run-seconds': '0.2', 'peapod.io/fake-exit-code': '3' };
    await client.create('pods', fakePod('fails-never', crash, { restartPolicy: 'Never' }));
    await client.create('pods', fakePod('fails-onfailure', crash, { restartPolicy: 'OnFailure' }));
    await client.create('pods', fakePod('completes', { 'peapod.io/fake-run-seconds': '0.2' }, { restartPolicy: 'OnFailure' }));
    const failed = await waitFor('Failed', async () => {
      const p = await getPod('fails-never');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    expect(failed.status?.containerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    await waitFor('Succeeded', async () => (await getPod('completes')).status?.phase === 'Succeeded');
    const restarted = await waitFor('restarted twice', async () => {
      const p = await getPod('fails-onfailure');
      return (p.status?.containerStatuses?.[0].restartCount ?? 0) >= 2 ? p : undefined;
    }, 30_000);
    expect(restarted.status?.phase).toBe('Running');
    expect(restarted.status?.containerStatuses?.[0].lastState?.terminated).toMatchObject({ exitCode: 3 });
  });

  it('ends a pod gracefully: TERM after the delay the pod asks for (143), or KILL when the grace runs out (137)', async () => {
    await client.create('pods', fakePod('polite', { 'peapod.io/fake-term-seconds': '0.5' }, { terminationGracePeriodSeconds: 30 }));
    await client.create('pods', fakePod('stubborn', { 'peapod.io/fake-term-seconds': 'never' }, { terminationGracePeriodSeconds: 2 }));
    for (const name of ['polite', 'stubborn']) await waitFor(`${name} Running`, async () => (await getPod(name)).status?.phase === 'Running');
    const rv = (await client.list('pods', { namespace: 'default', limit: 1 })).metadata.resourceVersion ?? '';
    const polite = recordUntilDeleted('polite', rv);
    const stubborn = recordUntilDeleted('stubborn', rv);
    const started = Date.now();
    await client.delete('pods', 'polite', { namespace: 'default' });
    await client.delete('pods', 'stubborn', { namespace: 'default' });
    await polite.gone;
    const politeSeconds = (Date.now() - started) / 1000;
    await stubborn.gone;
    const stubbornSeconds = (Date.now() - started) / 1000;
    const lastState = (events: WatchEvent<Pod>[]) => events.filter((e) => e.type === 'MODIFIED').pop()?.object.status?.containerStatuses?.[0].state?.terminated;
    expect(lastState(polite.events)).toMatchObject({ exitCode: 143 });
    expect(lastState(stubborn.events)).toMatchObject({ exitCode: 137 });
    expect(politeSeconds).toBeLessThan(20);
    expect(stubbornSeconds).toBeGreaterThanOrEqual(2);
  });

  it('answers probes from the pod\'s annotations: a failing readiness probe keeps the pod unready, a failing liveness probe restarts it', async () => {
    const probe = { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 1 };
    await client.create('pods', fakePod('unready', { 'peapod.io/fake-ready': 'false' }, { containers: [{ name: 'app', image: 'peapod/busybox:latest', readinessProbe: probe }] }));
    await client.create('pods', fakePod('ready', {}, { containers: [{ name: 'app', image: 'peapod/busybox:latest', readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 1 } }] }));
    await client.create('pods', fakePod('dying', { 'peapod.io/fake-live': 'false' }, { containers: [{ name: 'app', image: 'peapod/busybox:latest', livenessProbe: probe }] }));
    await waitFor('ready Ready', async () => (await getPod('ready')).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
    const unready = await getPod('unready');
    expect(unready.status?.phase).toBe('Running');
    expect(unready.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(unready.status?.containerStatuses?.[0].ready).toBe(false);
    const restarted = await waitFor('a liveness restart', async () => {
      const p = await getPod('dying');
      return (p.status?.containerStatuses?.[0].restartCount ?? 0) >= 1 ? p : undefined;
    }, 30_000);
    expect(restarted.status?.containerStatuses?.[0].lastState?.terminated).toBeDefined();
  });

  it('reports a bad fake annotation as the container config error', async () => {
    await client.create('pods', fakePod('bad', { 'peapod.io/fake-exit-code': 'lots' }));
    const waiting = await waitFor('CreateContainerConfigError', async () => {
      const w = (await getPod('bad')).status?.containerStatuses?.[0].state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    expect(waiting.message).toMatch(/peapod\.io\/fake-exit-code/);
  });

  it('puts its status back when someone else changed it: Ready again after the node controller marked the pod NodeNotReady', async () => {
    await client.create('pods', fakePod('restored', {}));
    const running = await waitFor('restored Ready', async () => {
      const p = await getPod('restored');
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
    });
    // As the node lifecycle controller writes it for the pods of a node it cannot reach.
    const status = structuredClone(running.status ?? {});
    setPodCondition(status, { type: 'Ready', status: 'False', reason: 'NodeNotReady', message: `Node ${NODE} is not reachable` });
    const marked = await client.update<Pod>('pods', { ...running, status }, { namespace: 'default', subresource: 'status' });
    expect(marked.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('NodeNotReady');
    const restored = await waitFor('Ready restored', async () => {
      const p = await getPod('restored');
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
    }, 30_000);
    expect(restored.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBeUndefined();
    expect(restored.status?.containerStatuses?.[0].ready).toBe(true);
  });
});
