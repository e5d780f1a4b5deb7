import { Algorithm, FitError } from './algorithm';
import { SchedulerCache } from './cache';
import { makeNode, makePod } from './fixtures';
import type { NodeShape, PodShape } from './fixtures';
import { fitErrorMessage, scheduledMessage } from './messages';
import { podInfoFor } from './pod-info';
import { defaultFramework } from './plugins';

function failure(nodes: NodeShape[], pod: PodShape): string {
  const cache = new SchedulerCache();
  nodes.forEach((shape, i) => cache.addNode(makeNode(`node-${i + 1}`, shape)));
  const result = new Algorithm(defaultFramework(), cache).schedule(podInfoFor(makePod('nginx', pod)));
  if (!(result instanceof FitError)) throw new Error(`expected no fit, got ${result}`);
  return result.message;
}

describe('FailedScheduling messages', () => {
  it('counts each reason and sorts the counted strings', () => {
    expect(
      fitErrorMessage(
        3,
        new Map([
          ['Insufficient cpu', 2],
          ["node(s) didn't match Pod's node affinity/selector", 1],
        ]),
      ),
    ).toBe("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.");
  });

  it('sorts as strings, so 10 comes before 2', () => {
    expect(fitErrorMessage(12, new Map([['Insufficient memory', 2], ['Insufficient cpu', 10]]))).toBe(
      '0/12 nodes are available: 10 Insufficient cpu, 2 Insufficient memory.',
    );
  });

  it('says when there are no nodes at all', () => {
    expect(failure([], {})).toBe('no nodes available to schedule pods');
  });

  it('mixes resources and node selectors', () => {
    expect(
      failure([{ cpu: '1', labels: { disk: 'ssd' } }, { cpu: '1', labels: { disk: 'ssd' } }, { cpu: '8', labels: { disk: 'hdd' } }], {
        cpu: '2',
        spec: { nodeSelector: { disk: 'ssd' } },
      }),
    ).toBe("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.");
  });

  it('names untolerated taints with their value', () => {
    expect(
      failure(
        [
          { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
          { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] },
          { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
        ],
        {},
      ),
    ).toBe(
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) had untolerated taint {dedicated: gpu}.',
    );
  });

  it('reports cordoned and not-ready nodes', () => {
    expect(failure([{ unschedulable: true }, { ready: false }, { ready: false }], {})).toBe(
      '0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) were not ready.',
    );
  });

  it('reports busy host ports, too many pods and memory', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('node-1'));
    cache.addNode(makeNode('node-2', { pods: '0' }));
    cache.addNode(makeNode('node-3', { memory: '1Gi' }));
    cache.assumePod(podInfoFor(makePod('web', { hostPort: 80 })), 'node-1');
    const result = new Algorithm(defaultFramework(), cache).schedule(
      podInfoFor(makePod('nginx', { hostPort: 80, memory: '2Gi' })),
    );
    expect(result).toBeInstanceOf(FitError);
    expect((result as FitError).message).toBe(
      "0/3 nodes are available: 1 Insufficient memory, 1 Too many pods, 1 node(s) didn't have free ports for the requested pod ports.",
    );
  });

  it('counts a node once per resource it lacks', () => {
    expect(failure([{ cpu: '1', memory: '1Gi' }, { cpu: '1' }], { cpu: '2', memory: '2Gi' })).toBe(
      '0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu.',
    );
  });

  it('words the Scheduled event as Kubernetes does', () => {
    expect(scheduledMessage('default', 'nginx', 'node-1')).toBe('Successfully assigned default/nginx to node-1');
  });
});
