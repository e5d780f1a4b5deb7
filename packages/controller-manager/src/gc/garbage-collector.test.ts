import type { KubeObject, OwnerReference, Pod, PropagationPolicy, ReplicationController } from '@peapod/api';
import { FakeCache } from '../testing/fake-cache';
import { makePod, makeRc } from '../testing/fixtures';
import { GarbageCollector } from './garbage-collector';
import type { GarbageCollectorClient } from './garbage-collector';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function path(resource: string, ns: string | undefined, name: string): string {
  return ns ? `${resource}/${ns}/${name}` : `${resource}/${name}`;
}

/** Stands in for the API server: what it holds (set by the test) and every call made to it. */
class FakeGcClient implements GarbageCollectorClient {
  objects = new Map<string, KubeObject>();
  gets: string[] = [];
  deleted: { item: string; uid: string; resourceVersion: string; policy: PropagationPolicy }[] = [];
  owners: { item: string; owners: string[] }[] = [];
  finalizers: { item: string; finalizers: string[] }[] = [];

  hold(resource: string, obj: KubeObject): void {
    this.objects.set(path(resource, obj.metadata.namespace, obj.metadata.name!), obj);
  }
  async get(resource: string, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    this.gets.push(path(resource, ns, name));
    return this.objects.get(path(resource, ns, name));
  }
  /** Marks the held object as being deleted, as a graceful delete does. */
  async delete(resource: string, ns: string | undefined, name: string, uid: string, resourceVersion: string, policy: PropagationPolicy): Promise<void> {
    const item = path(resource, ns, name);
    this.deleted.push({ item, uid, resourceVersion, policy });
    const held = this.objects.get(item);
    if (held) this.objects.set(item, { ...held, metadata: { ...held.metadata, deletionTimestamp: '2024-01-01T00:00:30Z' } });
  }
  async setOwners(resource: string, ns: string | undefined, name: string, _rv: string, owners: OwnerReference[]): Promise<void> {
    this.owners.push({ item: path(resource, ns, name), owners: owners.map((o) => o.name) });
  }
  async setFinalizers(resource: string, ns: string | undefined, name: string, _rv: string, finalizers: string[]): Promise<void> {
    this.finalizers.push({ item: path(resource, ns, name), finalizers });
  }
}

function setup() {
  const pods = new FakeCache<Pod>();
  const rcs = new FakeCache<ReplicationController>();
  const api = new FakeGcClient();
  const caches = new Map<string, FakeCache<KubeObject>>([
    ['pods', pods],
    ['replicationcontrollers', rcs],
  ] as [string, FakeCache<KubeObject>][]);
  const gc = new GarbageCollector(caches, api, { logger: quiet });
  return { pods, rcs, api, gc };
}

/** An owner the API server has marked for deletion with one of the garbage collector's finalizers. */
function deleting<T extends KubeObject>(obj: T, finalizer: 'foregroundDeletion' | 'orphan'): T {
  return { ...obj, metadata: { ...obj.metadata, deletionTimestamp: '2024-01-01T00:00:00Z', deletionGracePeriodSeconds: 0, finalizers: [finalizer] } };
}

/** Waits until `done` holds (or a generous deadline passes). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
}

/** Runs the collector until `done` holds, then stops it. */
async function runUntil(gc: GarbageCollector, done: () => boolean): Promise<void> {
  const running = gc.run();
  await until(done);
  gc.stop();
  await running;
}

describe('background: objects whose owners are gone', () => {
  test('deletes a pod whose controller is gone, after confirming with the server, at the resourceVersion it read', async () => {
    const { pods, api, gc } = setup();
    const pod = pods.set(makePod('web-1', { owner: makeRc('web', 1) }));
    api.hold('pods', { ...pod, metadata: { ...pod.metadata, resourceVersion: '77' } });
    await gc.process('examine pods/default/web-1');
    expect(api.gets).toEqual(['replicationcontrollers/default/web', 'pods/default/web-1']);
    expect(api.deleted).toEqual([{ item: 'pods/default/web-1', uid: 'uid-web-1', resourceVersion: '77', policy: 'Background' }]);
  });

  test('spares pods whose owner is in the cache or on the server, and pods orphaned meanwhile', async () => {
    const { pods, rcs, api, gc } = setup();
    const rc = rcs.set(makeRc('web', 1));
    pods.set(makePod('cached-owner', { owner: rc }));
    await gc.process('examine pods/default/cached-owner');
    expect(api.gets).toEqual([]);

    const late = makeRc('late', 1);
    api.hold('replicationcontrollers', late);
    pods.set(makePod('late-1', { owner: late }));
    await gc.process('examine pods/default/late-1');

    // Our pod cache still shows the reference, but the server already stripped it (orphaned).
    const orphan = pods.set(makePod('orphan-1', { owner: makeRc('gone', 1) }));
    api.hold('pods', { ...orphan, metadata: { ...orphan.metadata, ownerReferences: undefined } });
    await gc.process('examine pods/default/orphan-1');
    expect(api.deleted).toEqual([]);
    expect(api.owners).toEqual([]);
  });

  test('an owner recreated under the same name is not the owner', async () => {
    const { pods, rcs, api, gc } = setup();
    rcs.set(makeRc('web', 1, { uid: 'new-uid' }));
    api.hold('replicationcontrollers', makeRc('web', 1, { uid: 'new-uid' }));
    api.hold('pods', pods.set(makePod('web-1', { owner: makeRc('web', 1, { uid: 'old-uid' }) })));
    await gc.process('examine pods/default/web-1');
    expect(api.deleted.map((d) => d.item)).toEqual(['pods/default/web-1']);
  });

  test('drops only the dangling reference when another owner lives; leaves unknown kinds alone', async () => {
    const { pods, rcs, api, gc } = setup();
    const live = rcs.set(makeRc('live', 1));
    const pod = makePod('shared', { owner: makeRc('gone', 1) });
    pod.metadata.ownerReferences!.push({ apiVersion: 'v1', kind: 'ReplicationController', name: 'live', uid: live.metadata.uid! });
    api.hold('pods', pods.set(pod));
    await gc.process('examine pods/default/shared');
    expect(api.owners).toEqual([{ item: 'pods/default/shared', owners: ['live'] }]);

    const foreign = makePod('foreign');
    foreign.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }];
    pods.set(foreign);
    await gc.process('examine pods/default/foreign');
    expect(api.deleted).toEqual([]);
  });

  test('the deletion of an owner queues its dependents', async () => {
    const { pods, rcs, api, gc } = setup();
    const rc = rcs.set(makeRc('web', 1));
    api.hold('pods', pods.set(makePod('web-1', { owner: rc })));
    const running = gc.run();
    rcs.remove('default/web');
    await until(() => api.deleted.length > 0);
    gc.stop();
    await running;
    expect(api.deleted.map((d) => [d.item, d.policy])).toEqual([['pods/default/web-1', 'Background']]);
  });
});

describe('foreground: the owner waits for the dependents that block it', () => {
  test('deletes the dependents; the finalizer stays while any blocking one is left, terminating ones included', async () => {
    const { pods, rcs, api, gc } = setup();
    const rc = rcs.set(makeRc('web', 2));
    const a = pods.set(makePod('web-a', { owner: rc }));
    pods.set(makePod('web-b', { owner: rc }));
    const loose = makePod('loose', { owner: rc });
    loose.metadata.ownerReferences![0].blockOwnerDeletion = false;
    pods.set(loose);
    for (const p of pods.list()) api.hold('pods', p);
    const running = gc.run();
    api.hold('replicationcontrollers', rcs.set(deleting(rc, 'foregroundDeletion')));

    await until(() => api.deleted.length === 3);
    expect(api.deleted.map((d) => [d.item, d.policy]).sort()).toEqual([
      ['pods/default/loose', 'Background'],
      ['pods/default/web-a', 'Background'],
      ['pods/default/web-b', 'Background'],
    ]);
    // web-a is terminating: it still blocks. The pod that does not block goes first and changes nothing.
    pods.set({ ...a, metadata: { ...a.metadata, deletionTimestamp: '2024-01-01T00:00:30Z' } });
    pods.remove('default/loose');
    pods.remove('default/web-b');
    await new Promise((r) => setTimeout(r, 50));
    expect(api.finalizers).toEqual([]);

    pods.remove('default/web-a');
    await until(() => api.finalizers.length > 0);
    gc.stop();
    await running;
    expect(api.finalizers).toEqual([{ item: 'replicationcontrollers/default/web', finalizers: [] }]);
    expect(api.deleted).toHaveLength(3);
  });

  test('a dependent with dependents of its own is deleted in foreground too', async () => {
    const { pods, rcs, api, gc } = setup();
    const top = rcs.set(deleting(makeRc('top', 1), 'foregroundDeletion'));
    const middle = makeRc('middle', 1);
    middle.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'top', uid: top.metadata.uid!, blockOwnerDeletion: true }];
    api.hold('replicationcontrollers', rcs.set(middle));
    pods.set(makePod('leaf', { owner: middle }));
    await gc.process('examine replicationcontrollers/default/middle');
    expect(api.deleted.map((d) => [d.item, d.policy])).toEqual([['replicationcontrollers/default/middle', 'Foreground']]);
  });

  test('a dependent that also has a live owner only lets go of the one being deleted', async () => {
    const { pods, rcs, api, gc } = setup();
    const going = rcs.set(deleting(makeRc('going', 1), 'foregroundDeletion'));
    const staying = rcs.set(makeRc('staying', 1));
    const pod = makePod('shared', { owner: going });
    pod.metadata.ownerReferences!.push({ apiVersion: 'v1', kind: 'ReplicationController', name: 'staying', uid: staying.metadata.uid! });
    api.hold('pods', pods.set(pod));
    await gc.process('examine pods/default/shared');
    expect(api.deleted).toEqual([]);
    expect(api.owners).toEqual([{ item: 'pods/default/shared', owners: ['staying'] }]);
  });
});

describe('orphan: dependents lose the reference and stay', () => {
  test('every dependent loses the owner reference (other owners kept), then the owner its finalizer; nothing is deleted', async () => {
    const { pods, rcs, api, gc } = setup();
    const rc = rcs.set(makeRc('web', 2));
    const other = rcs.set(makeRc('other', 1));
    pods.set(makePod('web-a', { owner: rc }));
    const shared = makePod('web-b', { owner: rc });
    shared.metadata.ownerReferences!.push({ apiVersion: 'v1', kind: 'ReplicationController', name: 'other', uid: other.metadata.uid! });
    pods.set(shared);
    for (const p of pods.list()) api.hold('pods', p);
    const marked = rcs.set({ ...deleting(rc, 'orphan'), metadata: { ...deleting(rc, 'orphan').metadata, finalizers: ['example.com/keep', 'orphan'] } });
    api.hold('replicationcontrollers', marked);

    await runUntil(gc, () => api.finalizers.length > 0);
    expect(api.owners.sort((x, y) => x.item.localeCompare(y.item))).toEqual([
      { item: 'pods/default/web-a', owners: [] },
      { item: 'pods/default/web-b', owners: ['other'] },
    ]);
    expect(api.finalizers).toEqual([{ item: 'replicationcontrollers/default/web', finalizers: ['example.com/keep'] }]);
    expect(api.deleted).toEqual([]);
  });

  test('an owner that is not being orphaned is left alone', async () => {
    const { pods, rcs, api, gc } = setup();
    const rc = rcs.set(makeRc('web', 1));
    api.hold('pods', pods.set(makePod('web-a', { owner: rc })));
    await gc.process('orphan replicationcontrollers/default/web');
    expect(api.gets).toEqual([]);
    expect(api.owners).toEqual([]);
  });
});
