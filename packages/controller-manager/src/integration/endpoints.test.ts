// The endpoints and EndpointSlice controllers against a real API server, with pods on fake
// nodes whose readiness the test sets through pods/status, as an agent would.

import type { EndpointSlice, Endpoints, Service, SliceEndpoint } from '@peapod/api';
import type { WatchEvent } from '@peapod/api';
import { startCluster, waitFor } from '../testing/cluster';
import type { Cluster } from '../testing/cluster';
import { runPod, setPodReady } from '../testing/fake-pods';
import { addressesOf, endpointsOf, slicesOf } from '../testing/endpoints';

jest.setTimeout(120_000);

let cluster: Cluster;

beforeAll(async () => {
  // Killed and started again at once: without election, which would make the start wait out the dead one's lease.
  cluster = await startCluster({ scheduler: false, runPods: false, controllerManagerArgs: ['--leader-elect=false'] });
  await cluster.nodes.add('node-a', { heartbeatMs: 2000 });
  await cluster.startControllerManager();
});

afterAll(async () => {
  await cluster?.stop();
});

async function createService(name: string, spec: Service['spec'] = {}): Promise<Service> {
  return cluster.client.create<Service>('services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: { team: 'peapod' } },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec },
  });
}

function sliceEndpoints(slices: EndpointSlice[]): SliceEndpoint[] {
  return slices.flatMap((s) => s.endpoints ?? []);
}

function byIP(slices: EndpointSlice[], ip: string): SliceEndpoint | undefined {
  return sliceEndpoints(slices).find((e) => e.addresses.includes(ip));
}

describe('a service with three pods', () => {
  let svc: Service;

  beforeAll(async () => {
    svc = await createService('web');
    for (let i = 1; i <= 3; i++) await runPod(cluster.client, { name: `web-${i}`, labels: { app: 'web' }, node: 'node-a', ip: `10.1.0.${i}` });
  });

  test('three ready pods are three addresses, and three ready endpoints in one slice owned by the service', async () => {
    const ep = await waitFor('3 addresses', async () => {
      const e = await endpointsOf(cluster.client, 'web');
      return addressesOf(e).ready.length === 3 ? e : undefined;
    });
    expect(addressesOf(ep)).toEqual({ ready: ['10.1.0.1', '10.1.0.2', '10.1.0.3'], notReady: [] });
    expect(ep.metadata.labels).toEqual({ team: 'peapod' });
    expect(ep.subsets).toHaveLength(1);
    expect(ep.subsets![0].ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(ep.subsets![0].addresses![0]).toMatchObject({ ip: '10.1.0.1', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1' } });

    const slices = await waitFor('3 endpoints in slices', async () => {
      const s = await slicesOf(cluster.client, 'web');
      return sliceEndpoints(s).length === 3 ? s : undefined;
    });
    expect(slices).toHaveLength(1);
    expect(slices[0]).toMatchObject({ addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
    expect(slices[0].metadata.name).toMatch(/^web-/);
    expect(slices[0].metadata.labels).toEqual({
      team: 'peapod',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    expect(slices[0].metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    for (const e of sliceEndpoints(slices)) expect(e.conditions).toEqual({ ready: true, serving: true, terminating: false });
  });

  test('a pod that stops being ready moves to notReadyAddresses', async () => {
    await setPodReady(cluster.client, 'web-2', false);
    await waitFor('web-2 not ready', async () => addressesOf(await endpointsOf(cluster.client, 'web')).notReady.join() === '10.1.0.2');
    expect(addressesOf(await endpointsOf(cluster.client, 'web')).ready).toEqual(['10.1.0.1', '10.1.0.3']);
    await waitFor('web-2 not serving in its slice', async () => byIP(await slicesOf(cluster.client, 'web'), '10.1.0.2')?.conditions?.serving === false);
    expect(byIP(await slicesOf(cluster.client, 'web'), '10.1.0.2')?.conditions).toEqual({ ready: false, serving: false, terminating: false });
    await setPodReady(cluster.client, 'web-2', true);
    await waitFor('web-2 ready again', async () => addressesOf(await endpointsOf(cluster.client, 'web')).ready.length === 3);
  });

  test('a pod being deleted leaves the Endpoints at once, and stays in its slice as terminating and still serving', async () => {
    await cluster.client.delete('pods', 'web-3', { namespace: 'default', gracePeriodSeconds: 300 });
    const ep = await waitFor('web-3 gone from the Endpoints', async () => {
      const e = await endpointsOf(cluster.client, 'web');
      return addressesOf(e).ready.join() === '10.1.0.1,10.1.0.2' ? e : undefined;
    });
    expect(addressesOf(ep).notReady).toEqual([]);
    // The pod itself is still there, terminating (its node has not finished with it).
    expect((await cluster.client.get('pods', 'web-3', { namespace: 'default' })).metadata.deletionTimestamp).toBeDefined();
    await waitFor('web-3 terminating in its slice', async () => byIP(await slicesOf(cluster.client, 'web'), '10.1.0.3')?.conditions?.terminating === true);
    expect(byIP(await slicesOf(cluster.client, 'web'), '10.1.0.3')?.conditions).toEqual({ ready: false, serving: true, terminating: true });
    // Gone from the API: gone from the slice too.
    await cluster.client.delete('pods', 'web-3', { namespace: 'default', gracePeriodSeconds: 0 });
    await waitFor('web-3 gone from the slices', async () => byIP(await slicesOf(cluster.client, 'web'), '10.1.0.3') === undefined);
  });

  test('a restart of the controller manager writes no wrong state in between, and picks up what changed meanwhile', async () => {
    const rv = (await cluster.client.list('endpoints', { namespace: 'default' })).metadata.resourceVersion;
    const epEvents: WatchEvent<Endpoints>[] = [];
    const sliceEvents: WatchEvent<EndpointSlice>[] = [];
    const watches = [
      cluster.client.watch<Endpoints>('endpoints', { namespace: 'default', resourceVersion: rv, fieldSelector: 'metadata.name=web' }, (e) => void epEvents.push(e)),
      cluster.client.watch<EndpointSlice>('endpointslices', { namespace: 'default', resourceVersion: rv, labelSelector: 'kubernetes.io/service-name=web' }, (e) => void sliceEvents.push(e)),
    ];
    try {
      await cluster.stopControllerManager('SIGKILL');
      await runPod(cluster.client, { name: 'web-4', labels: { app: 'web' }, node: 'node-a', ip: '10.1.0.4' });
      await setPodReady(cluster.client, 'web-1', false);
      await cluster.startControllerManager();
      await waitFor('the changes made while it was down', async () => {
        const a = addressesOf(await endpointsOf(cluster.client, 'web'));
        return a.ready.join() === '10.1.0.2,10.1.0.4' && a.notReady.join() === '10.1.0.1';
      });
      await waitFor('web-4 in the slices', async () => byIP(await slicesOf(cluster.client, 'web'), '10.1.0.4')?.conditions?.ready === true);
      await new Promise((r) => setTimeout(r, 1000));
      // Every version written in between still had the pods that never changed.
      for (const e of epEvents) {
        expect(e.type).not.toBe('DELETED');
        const a = addressesOf(e.object);
        expect([...a.ready, ...a.notReady]).toEqual(expect.arrayContaining(['10.1.0.1', '10.1.0.2']));
      }
      for (const e of sliceEvents) {
        expect(e.type).not.toBe('DELETED');
        expect(e.object.endpoints.map((x) => x.addresses[0])).toEqual(expect.arrayContaining(['10.1.0.1', '10.1.0.2']));
      }
      expect(epEvents.length).toBeLessThanOrEqual(2);
    } finally {
      for (const w of watches) w.stop();
    }
  });

  test('deleting the service removes its Endpoints and its slices', async () => {
    await cluster.client.delete('services', 'web', { namespace: 'default' });
    await waitFor('Endpoints gone', async () => (await endpointsOf(cluster.client, 'web')) === undefined);
    await waitFor('slices gone', async () => (await slicesOf(cluster.client, 'web')).length === 0);
  });
});

test('more than 100 pods spread over several slices of at most 100', async () => {
  await createService('big');
  for (let i = 0; i < 150; i++) {
    await runPod(cluster.client, { name: `big-${i}`, labels: { app: 'big' }, node: 'node-a', ip: `10.2.${Math.floor(i / 200)}.${(i % 200) + 1}` });
  }
  const slices = await waitFor('150 endpoints in slices', async () => {
    const s = await slicesOf(cluster.client, 'big');
    return sliceEndpoints(s).length === 150 ? s : undefined;
  }, 60_000);
  expect(slices.length).toBeGreaterThanOrEqual(2);
  for (const s of slices) expect(s.endpoints.length).toBeLessThanOrEqual(100);
  expect(new Set(sliceEndpoints(slices).map((e) => e.targetRef?.name)).size).toBe(150);
  await waitFor('150 addresses', async () => addressesOf(await endpointsOf(cluster.client, 'big')).ready.length === 150);
});

test('named target ports resolve per pod; a pod without the port is no address', async () => {
  await createService('named', { ports: [{ name: 'web', port: 80, targetPort: 'http' }] });
  await runPod(cluster.client, { name: 'named-a', labels: { app: 'named' }, node: 'node-a', ip: '10.3.0.1', ports: [{ name: 'http', containerPort: 8080 }] });
  await runPod(cluster.client, { name: 'named-b', labels: { app: 'named' }, node: 'node-a', ip: '10.3.0.2', ports: [{ name: 'http', containerPort: 9090 }] });
  await runPod(cluster.client, { name: 'named-c', labels: { app: 'named' }, node: 'node-a', ip: '10.3.0.3', ports: [{ name: 'other', containerPort: 7070 }] });
  const ep = await waitFor('both ports', async () => {
    const e = await endpointsOf(cluster.client, 'named');
    return addressesOf(e).ready.length === 2 ? e : undefined;
  });
  const pairs = (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => `${a.ip}:${s.ports?.[0].port}`)).sort();
  expect(pairs).toEqual(['10.3.0.1:8080', '10.3.0.2:9090']);
  // As in Kubernetes, a slice groups endpoints by their resolved ports: the pod without the
  // port is in a slice of its own, with no ports.
  const slices = await waitFor('a slice per resolved port', async () => {
    const s = await slicesOf(cluster.client, 'named');
    return sliceEndpoints(s).length === 3 ? s : undefined;
  });
  expect(slices.map((s) => s.ports?.[0]?.port ?? 'none').sort()).toEqual([8080, 9090, 'none']);
  expect(byIP(slices, '10.3.0.3')).toBeDefined();
});

test('headless services get endpoints; services without a selector are left alone', async () => {
  await createService('headless', { clusterIP: 'None' });
  await runPod(cluster.client, { name: 'headless-1', labels: { app: 'headless' }, node: 'node-a', ip: '10.4.0.1' });
  const ep = await waitFor('headless endpoints', async () => {
    const e = await endpointsOf(cluster.client, 'headless');
    return addressesOf(e).ready.length === 1 ? e : undefined;
  });
  expect(ep.metadata.labels).toMatchObject({ 'service.kubernetes.io/headless': '' });

  await cluster.client.create<Service>('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
  await cluster.client.create<Endpoints>('endpoints', {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'manual' },
    subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 80 }] }],
  });
  await new Promise((r) => setTimeout(r, 1000));
  expect(addressesOf(await endpointsOf(cluster.client, 'manual')).ready).toEqual(['192.0.2.10']);
  expect(await slicesOf(cluster.client, 'manual')).toEqual([]);
});

test('with publishNotReadyAddresses, not-ready and terminating pods stay in the addresses', async () => {
  await createService('all', { publishNotReadyAddresses: true });
  await runPod(cluster.client, { name: 'all-1', labels: { app: 'all' }, node: 'node-a', ip: '10.5.0.1', ready: false });
  await runPod(cluster.client, { name: 'all-2', labels: { app: 'all' }, node: 'node-a', ip: '10.5.0.2' });
  await waitFor('both ready in the Endpoints', async () => addressesOf(await endpointsOf(cluster.client, 'all')).ready.length === 2);
  await cluster.client.delete('pods', 'all-2', { namespace: 'default', gracePeriodSeconds: 300 });
  await waitFor('all-2 terminating in its slice', async () => byIP(await slicesOf(cluster.client, 'all'), '10.5.0.2')?.conditions?.terminating === true);
  expect(byIP(await slicesOf(cluster.client, 'all'), '10.5.0.2')?.conditions).toEqual({ ready: true, serving: true, terminating: true });
  expect(addressesOf(await endpointsOf(cluster.client, 'all')).ready).toEqual(['10.5.0.1', '10.5.0.2']);
});
