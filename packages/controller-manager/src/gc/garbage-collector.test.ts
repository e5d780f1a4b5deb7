import type { KubeObject, OwnerReference, Pod, ReplicationController } from '@peapod/api';
import { FakeCache } from '../testing/fake-cache';
import { makePod, makeRc } from '../testing/fixtures';
import { GarbageCollector } from './garbage-collector';
import type { GarbageCollectorClient } from './garbage-collector';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

class FakeGcClient implements GarbageCollectorClient {
  /** What the server holds, by `resource/name`. */
  objects = new Map<string, KubeObject>();
  gets: string[] = [];
  deleted: { name: string; uid: string; resourceVersion: string }[] = [];
  patched: { name: string; owners: OwnerReference[] }[] = [];

  async get(resource: string, _ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    this.gets.push(`${resource}/${name}`);
    return this.objects.get(`${resource}/${name}`);
  }
  async deletePod(_ns: string, name: string, uid: string, resourceVersion: string): Promise<void> {
    this.deleted.push({ name, uid, resourceVersion });
  }
  async setPodOwners(_ns: string, name: string, _rv: string, owners: OwnerReference[]): Promise<void> {
    this.patched.push({ name, owners });
  }
}

function setup() {
  const pods = new FakeCache<Pod>();
  const rcs = new FakeCache<ReplicationController>();
  const api = new FakeGcClient();
  const gc = new GarbageCollector(pods, rcs, api, { logger: quiet });
  return { pods, rcs, api, gc };
}

test('deletes a pod whose controller is gone, after confirming with the server, at the resourceVersion it read', async () => {
  const { pods, api, gc } = setup();
  const pod = pods.set(makePod('web-1', { owner: makeRc('web', 1) }));
  api.objects.set('pods/web-1', { ...pod, metadata: { ...pod.metadata, resourceVersion: '77' } });
  await gc.process('default/web-1');
  expect(api.gets).toEqual(['replicationcontrollers/web', 'pods/web-1']);
  expect(api.deleted).toEqual([{ name: 'web-1', uid: 'uid-web-1', resourceVersion: '77' }]);
});

test('spares pods whose owner is in the cache or on the server, and pods orphaned meanwhile', async () => {
  const { pods, rcs, api, gc } = setup();
  const rc = rcs.set(makeRc('web', 1));
  pods.set(makePod('cached-owner', { owner: rc }));
  await gc.process('default/cached-owner');
  expect(api.gets).toEqual([]);

  const late = makeRc('late', 1);
  api.objects.set('replicationcontrollers/late', late);
  pods.set(makePod('late-1', { owner: late }));
  await gc.process('default/late-1');

  // Our pod cache still shows the reference, but the server already stripped it (orphan delete).
  const orphan = pods.set(makePod('orphan-1', { owner: makeRc('gone', 1) }));
  api.objects.set('pods/orphan-1', { ...orphan, metadata: { ...orphan.metadata, ownerReferences: undefined } });
  await gc.process('default/orphan-1');
  expect(api.deleted).toEqual([]);
});

test('an owner recreated under the same name is not the owner', async () => {
  const { pods, rcs, api, gc } = setup();
  rcs.set(makeRc('web', 1, { uid: 'new-uid' }));
  api.objects.set('replicationcontrollers/web', makeRc('web', 1, { uid: 'new-uid' }));
  const pod = pods.set(makePod('web-1', { owner: makeRc('web', 1, { uid: 'old-uid' }) }));
  api.objects.set('pods/web-1', pod);
  await gc.process('default/web-1');
  expect(api.deleted.map((d) => d.name)).toEqual(['web-1']);
});

test('drops only the dangling reference when another owner lives; leaves unknown kinds alone', async () => {
  const { pods, rcs, api, gc } = setup();
  const live = rcs.set(makeRc('live', 1));
  const pod = makePod('shared', { owner: makeRc('gone', 1) });
  pod.metadata.ownerReferences!.push({ apiVersion: 'v1', kind: 'ReplicationController', name: 'live', uid: live.metadata.uid! });
  api.objects.set('pods/shared', pods.set(pod));
  await gc.process('default/shared');
  expect(api.patched).toEqual([{ name: 'shared', owners: [expect.objectContaining({ name: 'live' })] }]);

  const foreign = makePod('foreign');
  foreign.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }];
  pods.set(foreign);
  await gc.process('default/foreign');
  expect(api.deleted).toEqual([]);
});

test('the deletion of an owner queues its dependents', async () => {
  const { pods, rcs, api, gc } = setup();
  const rc = rcs.set(makeRc('web', 1));
  const pod = pods.set(makePod('web-1', { owner: rc }));
  api.objects.set('pods/web-1', pod);
  const running = gc.run();
  rcs.remove('default/web');
  for (let i = 0; i < 50 && api.deleted.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  gc.stop();
  await running;
  expect(api.deleted.map((d) => d.name)).toEqual(['web-1']);
});
