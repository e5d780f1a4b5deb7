// The replication controller and the garbage collector against the real API server and
// scheduler, with fake nodes whose pretend agent runs pods at once.

import type { Event, Pod, ReplicationController } from '@peapod/api';
import { ReplicaInvariant, rcManifest, startCluster, waitFor } from '../testing/cluster';
import type { Cluster } from '../testing/cluster';
import { kubectlFor } from '../testing/kubectl';
import { isPodLive } from '../replication/controller';

jest.setTimeout(60_000);

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.nodes.add('node-a');
  await cluster.nodes.add('node-b');
  await cluster.startControllerManager();
});

afterAll(async () => {
  await cluster?.stop();
});

async function podsOf(app: string): Promise<Pod[]> {
  return (await cluster.client.list<Pod>('pods', { namespace: 'default', labelSelector: `app=${app}` })).items;
}

async function livePods(app: string): Promise<Pod[]> {
  return (await podsOf(app)).filter(isPodLive);
}

async function rcStatus(name: string): Promise<ReplicationController> {
  return cluster.client.get<ReplicationController>('replicationcontrollers', name, { namespace: 'default' });
}

async function eventsAbout(name: string): Promise<Event[]> {
  return (await cluster.client.list<Event>('events', { namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items;
}

async function scale(name: string, replicas: number): Promise<void> {
  await cluster.client.patch('replicationcontrollers', name, { spec: { replicas } }, 'merge', { namespace: 'default', subresource: 'scale' });
}

test('converges to 3, replaces a deleted pod, scales to 5 and to 1, never above the desired count', async () => {
  const invariant = new ReplicaInvariant(cluster.client, 'web', 3);
  await invariant.started();
  try {
    const created = await cluster.client.create<ReplicationController>('replicationcontrollers', rcManifest('web', 3));
    const ready = await waitFor('3 ready replicas', async () => {
      const rc = await rcStatus('web');
      const s = rc.status;
      return s?.replicas === 3 && s.readyReplicas === 3 && s.availableReplicas === 3 && s.fullyLabeledReplicas === 3 && s.observedGeneration === 1 && rc;
    });
    expect(ready.metadata.uid).toBe(created.metadata.uid);
    const pods = await livePods('web');
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(/^web-/);
      expect(pod.spec.nodeName).toMatch(/^node-[ab]$/);
      expect(pod.metadata.ownerReferences).toEqual([
        { apiVersion: 'v1', kind: 'ReplicationController', name: 'web', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
    }
    await waitFor('creation events', async () => {
      const messages = (await eventsAbout('web')).filter((e) => e.reason === 'SuccessfulCreate').map((e) => e.message);
      return pods.every((p) => messages.includes(`Created pod: ${p.metadata.name}`));
    });

    const victim = pods[0].metadata.name!;
    await cluster.client.delete('pods', victim, { namespace: 'default' });
    await waitFor('a replacement', async () => {
      const now = await livePods('web');
      return now.length === 3 && !now.some((p) => p.metadata.name === victim) && (await rcStatus('web')).status?.readyReplicas === 3;
    });

    invariant.setDesired(5);
    await scale('web', 5);
    await waitFor('5 ready replicas', async () => {
      const s = (await rcStatus('web')).status;
      return s?.replicas === 5 && s.readyReplicas === 5 && s.observedGeneration === 2;
    });

    invariant.setDesired(1);
    await scale('web', 1);
    await waitFor('1 replica and the others gone', async () => (await podsOf('web')).length === 1 && (await rcStatus('web')).status?.replicas === 1);
    const deletions = (await eventsAbout('web')).filter((e) => e.reason === 'SuccessfulDelete');
    expect(deletions).toHaveLength(4);
    expect(deletions[0].message).toMatch(/^Deleted pod: web-/);
    expect(invariant.violations).toEqual([]);
    expect(invariant.maxLive).toBe(5);
  } finally {
    invariant.stop();
  }
});

test('adopts a matching orphan and releases a pod relabelled away', async () => {
  await cluster.client.create<Pod>('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'orphan', labels: { app: 'adopt' } },
    spec: { containers: [{ name: 'app', image: 'peapod/busybox:latest' }] },
  });
  const rc = await cluster.client.create<ReplicationController>('replicationcontrollers', rcManifest('adopt', 2));
  await waitFor('the orphan adopted and one pod created', async () => {
    const pods = await livePods('adopt');
    const orphan = pods.find((p) => p.metadata.name === 'orphan');
    return pods.length === 2 && orphan?.metadata.ownerReferences?.[0]?.uid === rc.metadata.uid;
  });
  await cluster.client.patch('pods', 'orphan', { metadata: { labels: { app: 'moved' } } }, 'merge', { namespace: 'default' });
  await waitFor('the relabelled pod released and replaced', async () => {
    const released = await cluster.client.get<Pod>('pods', 'orphan', { namespace: 'default' });
    return released.metadata.ownerReferences === undefined && (await livePods('adopt')).length === 2;
  });
});

test('background deletes the pods after the controller; orphan, and no policy (v1 controllers orphan by default), leave them unowned', async () => {
  await cluster.client.create('replicationcontrollers', rcManifest('gone', 2));
  await cluster.client.create('replicationcontrollers', rcManifest('kept', 2));
  await cluster.client.create('replicationcontrollers', rcManifest('plain', 2));
  await waitFor('all at 2', async () => (await livePods('gone')).length === 2 && (await livePods('kept')).length === 2 && (await livePods('plain')).length === 2);

  await cluster.client.delete('replicationcontrollers', 'gone', { namespace: 'default', propagationPolicy: 'Background' });
  await cluster.client.delete('replicationcontrollers', 'kept', { namespace: 'default', propagationPolicy: 'Orphan' });
  await cluster.client.delete('replicationcontrollers', 'plain', { namespace: 'default' });
  await waitFor('the pods of the deleted controller gone', async () => (await podsOf('gone')).length === 0);
  await waitFor('the orphaning controllers gone', async () => {
    const left = (await cluster.client.list('replicationcontrollers', { namespace: 'default' })).items.map((rc) => rc.metadata.name);
    return !left.includes('kept') && !left.includes('plain');
  });
  // The collector has had its chance with the orphans too: they stay.
  await new Promise((r) => setTimeout(r, 1000));
  for (const app of ['kept', 'plain']) {
    const kept = await podsOf(app);
    expect(kept).toHaveLength(2);
    for (const pod of kept) {
      expect(pod.metadata.deletionTimestamp).toBeUndefined();
      expect(pod.metadata.ownerReferences).toBeUndefined();
    }
  }
});

test('foreground: the pods go first, the controller last, and no pod is created meanwhile', async () => {
  const rc = await cluster.client.create<ReplicationController>('replicationcontrollers', rcManifest('fg', 3));
  await waitFor('3 live pods', async () => (await livePods('fg')).length === 3);
  // Two watches from one revision; the revisions of their events give the order across both.
  const seen: { what: string; rv: number }[] = [];
  const from = (await cluster.client.list('pods', { namespace: 'default' })).metadata.resourceVersion;
  const record = (what: string, rv: string | undefined) => seen.push({ what, rv: Number(rv) });
  const pods = cluster.client.watch<Pod>('pods', { namespace: 'default', labelSelector: 'app=fg', resourceVersion: from }, (e) => {
    if (e.type === 'ADDED' || e.type === 'DELETED') record(`${e.type} pod`, e.object.metadata.resourceVersion);
  });
  const rcs = cluster.client.watch<ReplicationController>('replicationcontrollers', { namespace: 'default', fieldSelector: 'metadata.name=fg', resourceVersion: from }, (e) => {
    if (e.type === 'DELETED') record('DELETED rc', e.object.metadata.resourceVersion);
  });
  try {
    const marked = await cluster.client.delete<ReplicationController>('replicationcontrollers', 'fg', { namespace: 'default', propagationPolicy: 'Foreground' });
    expect((marked as ReplicationController).metadata).toMatchObject({ uid: rc.metadata.uid, finalizers: ['foregroundDeletion'] });
    await waitFor('the controller gone', () => seen.some((e) => e.what === 'DELETED rc'));
    const inOrder = [...seen].sort((a, b) => a.rv - b.rv).map((e) => e.what);
    expect(inOrder).toEqual(['DELETED pod', 'DELETED pod', 'DELETED pod', 'DELETED rc']);
  } finally {
    pods.stop();
    rcs.stop();
  }
});

test('kubectl get, scale and delete --cascade=orphan work against the controller', async () => {
  const kubectl = kubectlFor(cluster.api.url);
  try {
    await cluster.client.create('replicationcontrollers', rcManifest('kube', 2));
    await waitFor('2 ready', async () => (await rcStatus('kube')).status?.readyReplicas === 2);
    const get = kubectl.run(['get', 'rc', 'kube']);
    expect(get.stderr).toBe('');
    expect(get.stdout).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\n/);
    expect(get.stdout).toMatch(/\nkube\s+2\s+2\s+2\s+\S+\n/);

    const scaled = kubectl.run(['scale', 'rc', 'kube', '--replicas=4']);
    expect(scaled.stdout.trim()).toBe('replicationcontroller/kube scaled');
    await waitFor('4 live pods', async () => (await livePods('kube')).length === 4 && (await rcStatus('kube')).status?.readyReplicas === 4);
    await waitFor('kubectl shows 4 ready', () => /\nkube\s+4\s+4\s+4\s/.test(kubectl.run(['get', 'rc', 'kube']).stdout));

    const deleted = kubectl.run(['delete', 'rc', 'kube', '--cascade=orphan']);
    expect(deleted.stdout.trim()).toBe('replicationcontroller "kube" deleted');
    await new Promise((r) => setTimeout(r, 1000));
    const left = await livePods('kube');
    expect(left).toHaveLength(4);
    expect(left.every((p) => p.metadata.ownerReferences === undefined)).toBe(true);
  } finally {
    kubectl.cleanup();
  }
});
