import type { Pod } from '@peapod/api';
import { SchedulerCache } from './cache';
import { makeNode, makePod } from './fixtures';
import type { NodeInfo } from './node-info';
import { podInfoFor } from './pod-info';

function bound(pod: Pod, nodeName: string): Pod {
  return { ...pod, spec: { ...pod.spec, nodeName } };
}

describe('SchedulerCache', () => {
  let now = 0;
  let cache: SchedulerCache;
  beforeEach(() => {
    now = 1000;
    cache = new SchedulerCache({ now: () => now, assumedTtlMs: 30_000 });
    cache.addNode(makeNode('node-1'));
    cache.addNode(makeNode('node-2'));
  });

  it('counts an assumed pod on its node at once', () => {
    const pod = makePod('a', { cpu: '1', memory: '1Gi' });
    cache.assumePod(podInfoFor(pod), 'node-1');
    const info = cache.nodeInfo('node-1');
    expect(info?.requestedCpu).toBe(1000);
    expect(info?.requestedMemory).toBe(1024 ** 3);
    expect(info?.podCount).toBe(1);
    expect(cache.isAssumed(pod.metadata.uid as string)).toBe(true);
  });

  it("counts each controller's pods per node, and forgets them as they go", () => {
    const [a, b, c] = ['a', 'b', 'c'].map((name) => makePod(name, { ownerUid: name === 'c' ? 'rc-2' : 'rc-1' }));
    cache.assumePod(podInfoFor(a), 'node-1');
    cache.addPod(bound(b, 'node-1'));
    cache.addPod(bound(c, 'node-2'));
    const [one, two] = [cache.nodeInfo('node-1'), cache.nodeInfo('node-2')];
    expect([one?.ownerCount('rc-1'), one?.ownerCount('rc-2'), two?.ownerCount('rc-1'), two?.ownerCount('rc-2')]).toEqual([2, 0, 0, 1]);
    cache.forgetPod(a.metadata.uid as string);
    cache.removePod(c);
    expect([one?.ownerCount('rc-1'), two?.ownerCount('rc-2'), one?.podCount, two?.podCount]).toEqual([1, 0, 1, 0]);
  });

  it("reads a controller's counts right after its last pod left and a new one came", () => {
    const first = makePod('a', { ownerUid: 'rc-1' });
    cache.addPod(bound(first, 'node-1'));
    const [one, two] = [cache.nodeInfo('node-1'), cache.nodeInfo('node-2')];
    expect(one?.ownerCount('rc-1')).toBe(1);
    cache.removePod(bound(first, 'node-1'));
    expect(one?.ownerCount('rc-1')).toBe(0);
    cache.addPod(bound(makePod('b', { ownerUid: 'rc-1' }), 'node-2'));
    expect([one?.ownerCount('rc-1'), two?.ownerCount('rc-1')]).toEqual([0, 1]);
    expect(two?.ownerCount('rc-2')).toBe(0);
    cache.addPod(bound(makePod('c', { ownerUid: 'rc-1' }), 'node-1'));
    expect([one?.ownerCount('rc-1'), two?.ownerCount('rc-1')]).toEqual([1, 1]);
  });

  it("counts a controller's pods on a list of nodes as reading each node would, however the list changes", () => {
    for (let i = 3; i <= 6; i++) cache.addNode(makeNode(`node-${i}`));
    const on = { 'node-1': 2, 'node-3': 1, 'node-6': 3 };
    for (const [node, pods] of Object.entries(on)) {
      for (let i = 0; i < pods; i++) cache.addPod(bound(makePod(`${node}-${i}`, { ownerUid: 'rc-1' }), node));
    }
    cache.addPod(bound(makePod('other', { ownerUid: 'rc-2' }), 'node-2'));
    const lists = [
      ['node-1', 'node-2', 'node-3', 'node-4', 'node-5', 'node-6'],
      ['node-6', 'node-4', 'node-1'],
      ['node-3', 'node-2'],
      ['node-5', 'node-1', 'node-6', 'node-2'],
    ];
    for (const names of lists) {
      const nodes = names.map((name) => cache.nodeInfo(name) as NodeInfo);
      for (const uid of ['rc-1', 'rc-2', 'rc-3']) {
        const counts = new Float64Array(nodes.length + 1).fill(-1);
        nodes[0].owners.countOn(uid, nodes, nodes.length, counts);
        expect([...counts]).toEqual([...nodes.map((n) => n.ownerCount(uid)), -1]);
      }
    }
  });

  it('refuses to assume a pod twice', () => {
    const info = podInfoFor(makePod('a'));
    cache.assumePod(info, 'node-1');
    expect(() => cache.assumePod(info, 'node-2')).toThrow(/already/);
  });

  it('confirms an assumed pod when the watch reports it bound', () => {
    const pod = makePod('a', { cpu: '1' });
    cache.assumePod(podInfoFor(pod), 'node-1');
    cache.addPod(bound(pod, 'node-1'));
    expect(cache.isAssumed(pod.metadata.uid as string)).toBe(false);
    expect(cache.nodeInfo('node-1')?.requestedCpu).toBe(1000);
    expect(cache.forgetPod(pod.metadata.uid as string)).toBe(false);
    expect(cache.nodeInfo('node-1')?.podCount).toBe(1);
  });

  it('keeps the newest object of a confirmed pod, and recounts it when its controller changes', () => {
    const pod = makePod('a', { cpu: '1', ownerUid: 'rc-1' });
    const key = pod.metadata.uid as string;
    cache.assumePod(podInfoFor(pod), 'node-1');
    const confirmed = bound(pod, 'node-1');
    cache.addPod(confirmed);
    const node = cache.nodeInfo('node-1');
    expect(node?.pods.get(key)?.pod).toBe(confirmed);
    const adopted = { ...confirmed, metadata: { ...confirmed.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'rc-2', uid: 'rc-2', controller: true }] } };
    cache.addPod(adopted);
    expect(node?.ownerCount('rc-1')).toBe(0);
    expect(node?.ownerCount('rc-2')).toBe(1);
    expect(node?.pods.get(key)?.pod).toBe(adopted);
    expect(node?.requestedCpu).toBe(1000);
    expect(node?.podCount).toBe(1);
  });

  it('moves a pod the server bound elsewhere', () => {
    const pod = makePod('a', { cpu: '1' });
    cache.assumePod(podInfoFor(pod), 'node-1');
    cache.addPod(bound(pod, 'node-2'));
    expect(cache.nodeInfo('node-1')?.requestedCpu).toBe(0);
    expect(cache.nodeInfo('node-2')?.requestedCpu).toBe(1000);
  });

  it('forgets a pod whose bind failed', () => {
    const pod = makePod('a', { cpu: '1' });
    cache.assumePod(podInfoFor(pod), 'node-1');
    expect(cache.forgetPod(pod.metadata.uid as string)).toBe(true);
    expect(cache.nodeInfo('node-1')?.requestedCpu).toBe(0);
    expect(cache.podCount).toBe(0);
  });

  it('expires an assumption only after its binding finished and the ttl passed', () => {
    const pod = makePod('a');
    const key = pod.metadata.uid as string;
    cache.assumePod(podInfoFor(pod), 'node-1');
    now += 60_000;
    expect(cache.cleanupExpired()).toEqual([]);
    cache.finishBinding(key);
    now += 29_999;
    expect(cache.cleanupExpired()).toEqual([]);
    now += 1;
    expect(cache.cleanupExpired()).toEqual([key]);
    expect(cache.nodeInfo('node-1')?.podCount).toBe(0);
  });

  it('keeps pods of a node that is gone until they go, and lists only existing nodes', () => {
    const pod = bound(makePod('a', { cpu: '1' }), 'node-1');
    cache.addPod(pod);
    cache.removeNode('node-1');
    expect(cache.nodes.map((n) => n.name)).toEqual(['node-2']);
    expect(cache.nodeInfo('node-1')).toBeUndefined();
    cache.addNode(makeNode('node-1'));
    expect(cache.nodeInfo('node-1')?.requestedCpu).toBe(1000);
    cache.removePod(pod);
    expect(cache.nodeInfo('node-1')?.requestedCpu).toBe(0);
  });

  it('counts pods reported before their node', () => {
    cache.addPod(bound(makePod('a', { cpu: '1' }), 'node-3'));
    cache.addNode(makeNode('node-3'));
    expect(cache.nodeInfo('node-3')?.requestedCpu).toBe(1000);
  });

  it('updates a node in place', () => {
    cache.addNode(makeNode('node-1', { cpu: '8', unschedulable: true }));
    expect(cache.nodes).toHaveLength(2);
    expect(cache.nodeInfo('node-1')?.allocatableCpu).toBe(8000);
    expect(cache.nodeInfo('node-1')?.unschedulable).toBe(true);
  });
});
