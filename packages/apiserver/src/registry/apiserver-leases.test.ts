// API server leases on one registry, with clocks of the test's choosing: which records are
// fresh, what is collected, and the order of the addresses.
import { serverPerTest } from '../testing/server';
import { call } from '../testing/http';
import { ApiServerLease, compareAddresses } from './apiserver-leases';

// The server under test holds no lease, so only the test's leases count.
const t = serverPerTest({ endpointReconcilerType: 'none' });

const leaseNames = async () => (await t.api.registry.list('leases', 'kube-system', {})).items.map((e) => e.object.metadata.name).sort();

test('a record is fresh for its lease duration after its renewal; an expired one is deleted', async () => {
  let clock = Date.now();
  const now = () => clock;
  const a = new ApiServerLease(t.api.registry, { address: { ip: '10.0.0.2', port: 6443 }, now });
  const b = new ApiServerLease(t.api.registry, { address: { ip: '10.0.0.1', port: 6443 }, now });
  await a.renew();
  await b.renew();
  clock += 14_000;
  expect(await a.freshAddresses()).toEqual([
    { ip: '10.0.0.1', port: 6443 },
    { ip: '10.0.0.2', port: 6443 },
  ]);
  await a.renew();
  clock += 2_000;
  expect(await a.freshAddresses()).toEqual([{ ip: '10.0.0.2', port: 6443 }]);
  expect(await leaseNames()).not.toContain(b.name);
  // A server whose lease was collected during a pause gets it back at its next renewal.
  await b.renew();
  expect(await a.freshAddresses()).toHaveLength(2);
  await b.release();
  expect(await a.freshAddresses()).toEqual([{ ip: '10.0.0.2', port: 6443 }]);
});

test('alone (SQLite), every other lease is an earlier run\'s and goes at once', async () => {
  const earlier = new ApiServerLease(t.api.registry, { address: { ip: '127.0.0.1', port: 7000 } });
  const current = new ApiServerLease(t.api.registry, { address: { ip: '127.0.0.1', port: 7001 }, alone: true });
  await earlier.renew();
  await current.renew();
  expect(await current.freshAddresses()).toEqual([{ ip: '127.0.0.1', port: 7001 }]);
  expect(await leaseNames()).toEqual([current.name]);
});

test('the lease is an identity lease of kube-apiserver', async () => {
  const lease = new ApiServerLease(t.api.registry, { address: { ip: '10.0.0.9', port: 443 } });
  await lease.renew();
  const got = (await call(t.base, 'GET', `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${lease.name}`)).body;
  expect(got.metadata.labels).toEqual({ 'apiserver.kubernetes.io/identity': 'kube-apiserver' });
  expect(got.metadata.annotations).toEqual({ 'peapod.io/advertise-address': '10.0.0.9', 'peapod.io/advertise-port': '443' });
  expect(got.spec).toMatchObject({ holderIdentity: lease.name, leaseDurationSeconds: 15 });
  expect(Date.parse(got.spec.renewTime)).toBeGreaterThan(Date.now() - 60_000);
});

test('--endpoint-reconciler-type none keeps the service but holds no lease and writes no endpoints', async () => {
  expect((await call(t.base, 'GET', '/api/v1/namespaces/default/services/kubernetes')).status).toBe(200);
  expect((await call(t.base, 'GET', '/api/v1/namespaces/default/endpoints/kubernetes')).status).toBe(404);
  expect((await call(t.base, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes')).status).toBe(404);
  expect((await call(t.base, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases')).body.items).toEqual([]);
});

test('addresses sort by port, then numerically by IP', () => {
  const sorted = [
    { ip: '10.0.0.10', port: 6443 },
    { ip: '10.0.0.9', port: 6443 },
    { ip: '10.0.0.1', port: 6000 },
  ].sort(compareAddresses);
  expect(sorted).toEqual([
    { ip: '10.0.0.1', port: 6000 },
    { ip: '10.0.0.9', port: 6443 },
    { ip: '10.0.0.10', port: 6443 },
  ]);
});
