import { FilterSets, runFilters } from './framework';
import type { FilterPlugin } from './framework';
import { makeNode, makePod } from './fixtures';
import { NodeInfo } from './node-info';
import { podInfoFor } from './pod-info';
import type { PodInfo } from './pod-info';
import { defaultFramework } from './plugins';

function filter(name: string, appliesTo?: (pod: PodInfo) => boolean): FilterPlugin & { calls: number } {
  const plugin = {
    name,
    calls: 0,
    appliesTo,
    filter(): string {
      plugin.calls++;
      return `no ${name}`;
    },
  };
  return plugin;
}

describe('FilterSets', () => {
  it("leaves out the filters that do not apply to a pod, keeping the others' order", () => {
    const always = filter('always');
    const ported = filter('ported', (pod) => pod.hostPorts.length > 0);
    const last = filter('last');
    const sets = new FilterSets([always, ported, last]);
    const plain = podInfoFor(makePod('plain'));
    const withPort = podInfoFor(makePod('web', { hostPort: 8080 }));
    expect(sets.for(plain).map((f) => f.name)).toEqual(['always', 'last']);
    expect(sets.for(withPort).map((f) => f.name)).toEqual(['always', 'ported', 'last']);
  });

  it('hands out one array per set of filters, not one per pod', () => {
    const sets = new FilterSets(defaultFramework().filters);
    const [a, b] = ['a', 'b'].map((name) => podInfoFor(makePod(name)));
    expect(sets.for(a)).toBe(sets.for(b));
  });

  it('never runs a skipped filter on a node, so it gives no reason', () => {
    const skipped = filter('skipped', () => false);
    const sets = new FilterSets([skipped]);
    const node = new NodeInfo('node-1');
    node.setNode(makeNode('node-1'));
    expect(runFilters(sets.for(podInfoFor(makePod('a'))), podInfoFor(makePod('a')), node)).toBeNull();
    expect(skipped.calls).toBe(0);
  });

  it('skips NodePorts for pods without host ports and NodeAffinity for pods without node constraints', () => {
    const sets = new FilterSets(defaultFramework().filters);
    expect(sets.for(podInfoFor(makePod('a'))).map((f) => f.name)).toEqual(['NodeReadyUnschedulable', 'TaintToleration', 'NodeResourcesFit']);
    const constrained = podInfoFor(makePod('b', { hostPort: 80, spec: { nodeSelector: { zone: 'a' } } }));
    expect(sets.for(constrained).map((f) => f.name)).toEqual(['NodeReadyUnschedulable', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit']);
  });
});
