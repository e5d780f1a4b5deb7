import type { OwnerReference, Pod, ReplicationController } from '@peapod/api';
import { objectKey } from '@peapod/client';
import { FakeCache } from '../testing/fake-cache';
import { apiError, makePod, makeRc } from '../testing/fixtures';
import { ReplicationManager } from './controller';
import type { ControllerClient } from './pod-control';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Records the controller's writes; pods it creates reach the cache only when the test says so. */
class FakeClient implements ControllerClient {
  created: Pod[] = [];
  deleted: string[] = [];
  ownerPatches: { name: string; owners: OwnerReference[] }[] = [];
  statuses: ReplicationController['status'][] = [];
  events: string[] = [];
  failCreates = false;
  serverRc: ReplicationController | undefined;
  private n = 0;

  async createPod(namespace: string, pod: Pod): Promise<Pod> {
    if (this.failCreates) throw apiError(403, 'quota exceeded');
    const name = `${pod.metadata.generateName}${++this.n}`;
    const made = { ...pod, metadata: { ...pod.metadata, name, namespace, uid: `uid-${name}`, creationTimestamp: '2024-01-02T00:00:00Z' } };
    this.created.push(made);
    return made;
  }
  async deletePod(_ns: string, name: string): Promise<void> {
    this.deleted.push(name);
  }
  async setPodOwners(namespace: string, name: string, _rv: string, owners: OwnerReference[]): Promise<Pod> {
    this.ownerPatches.push({ name, owners });
    return { ...makePod(name), metadata: { ...makePod(name).metadata, namespace, ownerReferences: owners } };
  }
  async getController(): Promise<ReplicationController> {
    if (this.serverRc === undefined) throw apiError(404, 'not found');
    return this.serverRc;
  }
  async updateControllerStatus(rc: ReplicationController): Promise<ReplicationController> {
    this.statuses.push(rc.status);
    return rc;
  }
  event(_rc: ReplicationController, type: string, reason: string, message: string): void {
    this.events.push(`${type} ${reason} ${message}`);
  }
}

function setup(rc: ReplicationController) {
  const rcs = new FakeCache<ReplicationController>();
  const pods = new FakeCache<Pod>();
  const api = new FakeClient();
  const stored = rcs.set(rc);
  api.serverRc = stored;
  const manager = new ReplicationManager(rcs, pods, api, { logger: quiet });
  return { rcs, pods, api, manager, rc: stored, key: objectKey(stored) };
}

test('creates the missing pods from the template, owned by the controller, with events', async () => {
  const { api, manager, key } = setup(makeRc('web', 3));
  await manager.sync(key);
  expect(api.created).toHaveLength(3);
  const pod = api.created[0];
  expect(pod.metadata.generateName).toBe('web-');
  expect(pod.metadata.labels).toEqual({ app: 'web', tier: 'web' });
  expect(pod.metadata.ownerReferences).toEqual([
    { apiVersion: 'v1', kind: 'ReplicationController', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true },
  ]);
  expect(api.events).toContain(`Normal SuccessfulCreate Created pod: ${pod.metadata.name}`);
});

test('expectations: a sync before the watch shows the new pods creates nothing more', async () => {
  const { api, pods, manager, key } = setup(makeRc('web', 3));
  await manager.sync(key);
  await manager.sync(key);
  expect(api.created).toHaveLength(3);
  expect(manager.expectations.pending(key)).toEqual({ adds: 3, deletes: 0 });
  // Two of three arrive: still waiting, still nothing created.
  pods.set(api.created[0]);
  pods.set(api.created[1]);
  await manager.sync(key);
  expect(api.created).toHaveLength(3);
  pods.set(api.created[2]);
  expect(manager.expectations.satisfied(key)).toBe(true);
  await manager.sync(key);
  expect(api.created).toHaveLength(3);
  expect(api.statuses.at(-1)).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 });
});

test('expired expectations let the controller act again', async () => {
  let now = 1_000_000;
  const rcs = new FakeCache<ReplicationController>();
  const pods = new FakeCache<Pod>();
  const api = new FakeClient();
  const rc = rcs.set(makeRc('web', 2));
  const manager = new ReplicationManager(rcs, pods, api, { logger: quiet, now: () => now, expectationsTimeoutMs: 60_000 });
  await manager.sync(objectKey(rc));
  await manager.sync(objectKey(rc));
  expect(api.created).toHaveLength(2);
  now += 60_001;
  await manager.sync(objectKey(rc));
  expect(api.created).toHaveLength(4);
});

test('failed creations are not expected and stop the slow start after the first batch', async () => {
  const { api, manager, key } = setup(makeRc('web', 10));
  api.failCreates = true;
  await expect(manager.sync(key)).rejects.toThrow('quota exceeded');
  expect(manager.expectations.satisfied(key)).toBe(true);
  expect(api.events).toEqual(['Warning FailedCreate Error creating: quota exceeded']);
});

test('terminating and finished pods do not count, so they are replaced', async () => {
  const { api, pods, manager, rc, key } = setup(makeRc('web', 2));
  pods.set(makePod('a', { owner: rc, nodeName: 'n1', terminating: true }));
  pods.set(makePod('b', { owner: rc, nodeName: 'n1', phase: 'Failed' }));
  pods.set(makePod('c', { owner: rc, nodeName: 'n1' }));
  await manager.sync(key);
  expect(api.created).toHaveLength(1);
});

test('scale down deletes unscheduled, then not ready, then newest pods first, and waits for the deletions', async () => {
  const { api, pods, manager, rc, key } = setup(makeRc('web', 2));
  pods.set(makePod('old-ready', { owner: rc, nodeName: 'n1', ready: true, created: '2024-01-01T00:00:00Z' }));
  pods.set(makePod('new-ready', { owner: rc, nodeName: 'n1', ready: true, created: '2024-01-03T00:00:00Z', readySince: '2024-01-03T00:00:10Z' }));
  pods.set(makePod('not-ready', { owner: rc, nodeName: 'n1', created: '2023-12-01T00:00:00Z' }));
  pods.set(makePod('unscheduled', { owner: rc, created: '2023-12-01T00:00:00Z' }));
  pods.set(makePod('mid-ready', { owner: rc, nodeName: 'n2', ready: true, created: '2024-01-02T00:00:00Z', readySince: '2024-01-02T00:00:10Z' }));
  await manager.sync(key);
  expect(api.deleted).toEqual(['unscheduled', 'not-ready', 'new-ready']);
  expect(api.events).toContain('Normal SuccessfulDelete Deleted pod: unscheduled');
  await manager.sync(key);
  expect(api.deleted).toHaveLength(3);
  // The watch shows them terminating (graceful delete): the deletions are observed.
  for (const name of ['unscheduled', 'not-ready', 'new-ready']) {
    const pod = pods.get(`default/${name}`)!;
    pods.set({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2024-01-05T00:00:00Z' } });
  }
  expect(manager.expectations.satisfied(key)).toBe(true);
  await manager.sync(key);
  expect(api.deleted).toHaveLength(3);
  expect(api.statuses.at(-1)).toMatchObject({ replicas: 2, readyReplicas: 2 });
});

test('adopts matching orphans instead of creating, and releases owned pods that stopped matching', async () => {
  const { api, pods, manager, rc, key } = setup(makeRc('web', 2));
  pods.set(makePod('orphan', { labels: { app: 'web' } }));
  pods.set(makePod('other-owner', { labels: { app: 'web' }, owner: makeRc('other', 1) }));
  pods.set(makePod('relabelled', { owner: rc, labels: { app: 'something-else' } }));
  pods.set(makePod('mine', { owner: rc }));
  await manager.sync(key);
  expect(api.ownerPatches).toEqual([
    { name: 'relabelled', owners: [] },
    { name: 'orphan', owners: [expect.objectContaining({ uid: 'uid-web', controller: true, kind: 'ReplicationController' })] },
  ]);
  expect(api.created).toHaveLength(0);
});

test('does not adopt for a controller the server no longer has', async () => {
  const { api, pods, manager, key } = setup(makeRc('web', 1));
  api.serverRc = { ...makeRc('web', 1), metadata: { ...makeRc('web', 1).metadata, uid: 'a-newer-one' } };
  pods.set(makePod('orphan', { labels: { app: 'web' } }));
  await manager.sync(key);
  expect(api.ownerPatches).toEqual([]);
});

test('a failed adoption fails the sync before any replica is created', async () => {
  const { api, pods, manager, key } = setup(makeRc('web', 3));
  api.setPodOwners = async () => {
    throw apiError(409, 'the object has been modified');
  };
  pods.set(makePod('orphan', { labels: { app: 'web' } }));
  await expect(manager.sync(key)).rejects.toThrow('modified');
  expect(api.created).toHaveLength(0);
});

test('a deleted controller forgets its expectations; a controller being deleted creates nothing', async () => {
  const { rcs, api, manager, key } = setup(makeRc('web', 2));
  await manager.sync(key);
  rcs.remove(key);
  expect(manager.expectations.pending(key)).toBeUndefined();
  const rc = makeRc('gone', 2);
  rc.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
  rcs.set(rc);
  await manager.sync('default/gone');
  expect(api.created).toHaveLength(2);
});

test.each(['orphan', 'foregroundDeletion', undefined])('a controller being deleted (finalizer %s) creates, deletes, adopts and releases nothing', async (finalizer) => {
  const rc = makeRc('web', 3);
  rc.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
  if (finalizer) rc.metadata.finalizers = [finalizer];
  const { api, pods, manager, rc: stored, key } = setup(rc);
  // One owned pod while three are wanted, an orphan that matches, an owned pod that no longer matches.
  pods.set(makePod('mine', { owner: stored, nodeName: 'n', ready: true }));
  pods.set(makePod('orphan', { labels: { app: 'web' } }));
  pods.set(makePod('relabelled', { owner: stored, labels: { app: 'elsewhere' } }));
  await manager.sync(key);
  expect(api.created).toEqual([]);
  expect(api.deleted).toEqual([]);
  expect(api.ownerPatches).toEqual([]);
  // Its status still tells what it owns.
  expect(api.statuses.at(-1)).toMatchObject({ replicas: 1 });
});

test('status counts available pods only after minReadySeconds', async () => {
  const now = Date.parse('2024-01-01T00:00:20Z');
  const rcs = new FakeCache<ReplicationController>();
  const pods = new FakeCache<Pod>();
  const api = new FakeClient();
  const rc = rcs.set(makeRc('web', 2, { minReadySeconds: 30, generation: 4 }));
  const manager = new ReplicationManager(rcs, pods, api, { logger: quiet, now: () => now });
  pods.set(makePod('a', { owner: rc, nodeName: 'n', ready: true, readySince: '2024-01-01T00:00:00Z' }));
  pods.set(makePod('b', { owner: rc, nodeName: 'n', ready: true, readySince: '2023-12-31T00:00:00Z', labels: { app: 'web' } }));
  await manager.sync(objectKey(rc));
  expect(api.statuses.at(-1)).toEqual({ replicas: 2, fullyLabeledReplicas: 1, readyReplicas: 2, availableReplicas: 1, observedGeneration: 4 });
  manager.stop();
});

test('readyReplicas counts live pods whose Ready condition is True; a pod that stops being ready stops counting', async () => {
  const { api, pods, manager, rc, key } = setup(makeRc('web', 3));
  pods.set(makePod('ready', { owner: rc, nodeName: 'n1', ready: true }));
  const flipping = pods.set(makePod('flipping', { owner: rc, nodeName: 'n1', ready: true }));
  pods.set(makePod('unready', { owner: rc, nodeName: 'n1' }));
  // Terminating pods are Ready=False from their node at once; a stale True still must not count.
  pods.set(makePod('leaving', { owner: rc, nodeName: 'n1', ready: true, terminating: true }));
  await manager.sync(key);
  expect(api.statuses.at(-1)).toMatchObject({ replicas: 3, readyReplicas: 2, availableReplicas: 2 });
  pods.set({ ...flipping, status: { ...flipping.status, conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2024-01-01T00:05:00Z' }] } });
  await manager.sync(key);
  expect(api.statuses.at(-1)).toMatchObject({ replicas: 3, readyReplicas: 1, availableReplicas: 1 });
});

test('a pod that became ready is counted available minReadySeconds later without any further event', async () => {
  const rcs = new FakeCache<ReplicationController>();
  const pods = new FakeCache<Pod>();
  const api = new FakeClient();
  const rc = rcs.set(makeRc('web', 1, { minReadySeconds: 1 }));
  api.serverRc = rc;
  const manager = new ReplicationManager(rcs, pods, api, { logger: quiet });
  const running = manager.run();
  const pod = pods.set(makePod('p', { owner: rc, nodeName: 'n1' }));
  await waitUntil(() => api.statuses.at(-1)?.replicas === 1);
  const readyAt = Date.now();
  pods.set({ ...pod, status: { ...pod.status, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(readyAt).toISOString() }] } });
  await waitUntil(() => api.statuses.at(-1)?.readyReplicas === 1);
  expect(api.statuses.at(-1)?.availableReplicas).toBe(0);
  await waitUntil(() => api.statuses.at(-1)?.availableReplicas === 1);
  expect(Date.now() - readyAt).toBeGreaterThanOrEqual(1000);
  manager.stop();
  await running;
});

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
