import type { Lease, Node } from '@peapod/api';
import { ApiError, createLogger } from '@peapod/client';
import type { Client } from '@peapod/client';
import { NodeLeaseManager } from './node-lease';

/** A client holding one lease as a server would: each write returns a new object at a new resourceVersion. */
function leaseServer() {
  let stored: Lease | undefined;
  let rv = 0;
  const sent: Lease[] = [];
  const keep = (lease: Lease): Lease => {
    sent.push(lease);
    stored = { ...JSON.parse(JSON.stringify(lease)), metadata: { ...lease.metadata, resourceVersion: String(++rv), managedFields: [{ manager: 'agent', operation: 'Update' }] } };
    return JSON.parse(JSON.stringify(stored)) as Lease;
  };
  const client = {
    get: async () => {
      if (!stored) throw new ApiError({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'leases "n1" not found', reason: 'NotFound', code: 404 });
      return JSON.parse(JSON.stringify(stored)) as Lease;
    },
    create: async (_: string, lease: Lease) => keep(lease),
    update: async (_: string, lease: Lease) => keep(lease),
  };
  return { client: client as unknown as Client, sent };
}

test('each renewal sends the lease as last written with a new renewTime and the Node as owner, leaving the last answer as it was', async () => {
  const { client, sent } = leaseServer();
  let node: Node | undefined;
  const leases = new NodeLeaseManager({ client, log: createLogger('test', { level: 'error' }), nodeName: 'n1', renewIntervalMs: 10_000, node: () => node });

  const first = await leases.renew();
  expect(first.metadata.ownerReferences).toBeUndefined();
  expect(sent[0].spec).toMatchObject({ holderIdentity: 'n1', leaseDurationSeconds: 40 });

  node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'u-1' } };
  const firstCopy = JSON.parse(JSON.stringify(first)) as Lease;
  await new Promise((r) => setTimeout(r, 2));
  const second = await leases.renew();
  // Sent as an update of what the server answered last (resourceVersion and managedFields included).
  expect(sent[1].metadata).toMatchObject({ resourceVersion: '1', managedFields: first.metadata.managedFields });
  expect(sent[1].metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u-1' }]);
  expect(sent[1].spec?.renewTime).not.toBe(first.spec?.renewTime);
  expect(first).toEqual(firstCopy);
  expect(second.metadata.resourceVersion).toBe('2');
});
