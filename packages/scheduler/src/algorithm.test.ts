import { Algorithm, FitError, numFeasibleNodesToFind } from './algorithm';
import { SchedulerCache } from './cache';
import { makeNode, makePod } from './fixtures';
import type { PodShape } from './fixtures';
import { podInfoFor } from './pod-info';
import { defaultFramework } from './plugins';

/** A small seeded generator, so that random tie-breaks repeat from run to run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cluster(count: number, shape = {}): SchedulerCache {
  const cache = new SchedulerCache();
  for (let i = 1; i <= count; i++) cache.addNode(makeNode(`node-${i}`, shape));
  return cache;
}

/** Schedules and assumes each pod; returns pods per node and the failures. */
function run(cache: SchedulerCache, pods: number, shape: PodShape, random = seeded(1)) {
  const algorithm = new Algorithm(defaultFramework(), cache, { random });
  const perNode = new Map<string, number>();
  const failures: FitError[] = [];
  for (let i = 0; i < pods; i++) {
    const info = podInfoFor(makePod(`pod-${i}`, shape));
    const result = algorithm.schedule(info);
    if (result instanceof FitError) {
      failures.push(result);
      continue;
    }
    cache.assumePod(info, result);
    perNode.set(result, (perNode.get(result) ?? 0) + 1);
  }
  return { perNode, failures };
}

describe('Algorithm', () => {
  it.each([
    ['owned pods with requests', { cpu: '100m', memory: '128Mi', ownerUid: 'rc-1' }],
    ['pods without requests or owner', {}],
  ])('spreads 30 %s over 3 equal nodes, 10 each ±1', (_what, shape: PodShape) => {
    const { perNode, failures } = run(cluster(3), 30, shape);
    expect(failures).toEqual([]);
    expect(perNode.size).toBe(3);
    for (const count of perNode.values()) expect(Math.abs(count - 10)).toBeLessThanOrEqual(1);
  });

  it('places 150 of 200 pods where there is room for 150, overcommitting no node', () => {
    const cache = cluster(3, { cpu: '5' });
    const { perNode, failures } = run(cache, 200, { cpu: '100m' });
    expect([...perNode.values()].reduce((a, b) => a + b, 0)).toBe(150);
    expect(cache.assumedCount).toBe(150);
    for (const node of cache.nodes) expect(node.requestedCpu).toBeLessThanOrEqual(node.allocatableCpu);
    expect(failures).toHaveLength(50);
    for (const f of failures) expect(f.message).toBe('0/3 nodes are available: 3 Insufficient cpu.');
  });

  it('prefers the least allocated node', () => {
    const cache = cluster(3);
    cache.assumePod(podInfoFor(makePod('big-1', { cpu: '2', memory: '2Gi' })), 'node-1');
    cache.assumePod(podInfoFor(makePod('big-2', { cpu: '1', memory: '1Gi' })), 'node-2');
    const algorithm = new Algorithm(defaultFramework(), cache);
    expect(algorithm.schedule(podInfoFor(makePod('p', { cpu: '100m', memory: '100Mi' })))).toBe('node-3');
  });

  it('breaks ties at random', () => {
    const cache = cluster(2);
    const algorithm = new Algorithm(defaultFramework(), cache, { random: seeded(42) });
    const chosen = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const node = algorithm.schedule(podInfoFor(makePod(`p-${i}`))) as string;
      chosen.set(node, (chosen.get(node) ?? 0) + 1);
    }
    expect(chosen.get('node-1')).toBeGreaterThan(150);
    expect(chosen.get('node-2')).toBeGreaterThan(150);
  });

  it('draws once per pod, the draw choosing among the tied best only', () => {
    const cache = cluster(4);
    // node-2 has less free: the other three tie for best.
    cache.assumePod(podInfoFor(makePod('busy', { cpu: '1', memory: '1Gi' })), 'node-2');
    const picks: string[] = [];
    for (const draw of [0, 0.34, 0.67, 0.999]) {
      let draws = 0;
      const algorithm = new Algorithm(defaultFramework(), cache, {
        random: () => {
          draws++;
          return draw;
        },
      });
      picks.push(algorithm.schedule(podInfoFor(makePod(`p-${draw}`))) as string);
      expect(draws).toBe(1);
    }
    expect(picks).toEqual(['node-1', 'node-3', 'node-4', 'node-4']);
  });

  it('finds the one feasible node of a large cluster from any start', () => {
    const cache = cluster(2000);
    cache.addNode(makeNode('special', { labels: { disk: 'ssd' } }));
    const algorithm = new Algorithm(defaultFramework(), cache, { percentageOfNodesToScore: 5 });
    for (let i = 0; i < 5; i++) {
      // Each unconstrained pod moves the start index on by the nodes it examined.
      algorithm.schedule(podInfoFor(makePod(`filler-${i}`)));
      expect(algorithm.schedule(podInfoFor(makePod(`ssd-${i}`, { spec: { nodeSelector: { disk: 'ssd' } } })))).toBe('special');
    }
  });

  it('rotates through a large cluster when it scores only a sample', () => {
    const cache = cluster(500);
    const { perNode, failures } = run(cache, 1000, { cpu: '100m', memory: '200Mi' });
    expect(failures).toEqual([]);
    expect(perNode.size).toBe(500);
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(3);
  });

  it('scores every node of a small cluster and a shrinking share of a large one', () => {
    expect(numFeasibleNodesToFind(3)).toBe(3);
    expect(numFeasibleNodesToFind(100)).toBe(100);
    expect(numFeasibleNodesToFind(101)).toBe(100);
    expect(numFeasibleNodesToFind(1000)).toBe(417);
    expect(numFeasibleNodesToFind(5000)).toBe(250);
    expect(numFeasibleNodesToFind(20_000)).toBe(1000);
    expect(numFeasibleNodesToFind(1000, 100)).toBe(1000);
    expect(numFeasibleNodesToFind(1000, 1)).toBe(100);
  });
});
