import type { Pod } from '@peapod/api';
import { makeNode, makePod } from '../fixtures';
import type { NodeShape, PodShape } from '../fixtures';
import type { ScorePlugin } from '../framework';
import { NodeInfo } from '../node-info';
import { podInfoFor } from '../pod-info';
import type { PodInfo } from '../pod-info';
import { balancedAllocation } from './balanced-allocation';
import { leastAllocated } from './least-allocated';
import { nodePorts } from './node-ports';
import { nodeReadyUnschedulable } from './node-ready-unschedulable';
import { nodeSelectorAffinity } from './node-selector-affinity';
import { ownerSpread } from './owner-spread';
import { resourcesFit } from './resources-fit';
import { taintToleration, toleratesTaint } from './taint-toleration';

function nodeInfo(shape: NodeShape = {}, pods: Pod[] = [], name = 'node-1'): NodeInfo {
  const info = new NodeInfo(name);
  info.setNode(makeNode(name, shape));
  for (const p of pods) info.addPod(podInfoFor(p));
  return info;
}

function pod(shape: PodShape = {}): PodInfo {
  return podInfoFor(makePod('p', shape));
}

/** One node's score from a plugin, which scores a list of nodes at a time. */
function scoreOf(plugin: ScorePlugin, p: PodInfo, node: NodeInfo): number {
  const scores = new Float64Array(1);
  plugin.score(p, [node], 1, scores);
  return scores[0];
}

describe('NodeReadyUnschedulable', () => {
  it('passes a ready, schedulable node', () => {
    expect(nodeReadyUnschedulable.filter(pod(), nodeInfo())).toBeNull();
  });
  it('rejects a node that is not ready', () => {
    expect(nodeReadyUnschedulable.filter(pod(), nodeInfo({ ready: false }))).toBe('node(s) were not ready');
  });
  it('rejects a node without a Ready condition', () => {
    const info = new NodeInfo('bare');
    info.setNode({ metadata: { name: 'bare' } });
    expect(nodeReadyUnschedulable.filter(pod(), info)).toBe('node(s) were not ready');
  });
  it('rejects a cordoned node', () => {
    expect(nodeReadyUnschedulable.filter(pod(), nodeInfo({ unschedulable: true }))).toBe('node(s) were unschedulable');
  });
  it('lets a pod that tolerates the state taints through', () => {
    const tolerant = pod({
      spec: {
        tolerations: [
          { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists' },
        ],
      },
    });
    expect(nodeReadyUnschedulable.filter(tolerant, nodeInfo({ unschedulable: true, ready: false }))).toBeNull();
  });
});

describe('TaintToleration', () => {
  const tainted = nodeInfo({
    taints: [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'soft', value: 'x', effect: 'PreferNoSchedule' },
    ],
  });

  it('rejects a pod without a matching toleration, naming the taint', () => {
    expect(taintToleration.filter(pod(), tainted)).toBe('node(s) had untolerated taint {dedicated: gpu}');
  });
  it('writes an empty value as nothing after the colon', () => {
    const node = nodeInfo({ taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoExecute' }] });
    expect(taintToleration.filter(pod(), node)).toBe('node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }');
  });
  it('ignores PreferNoSchedule taints', () => {
    const node = nodeInfo({ taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] });
    expect(taintToleration.filter(pod(), node)).toBeNull();
  });
  it('accepts Equal with the same value, Exists with any value', () => {
    const equal = pod({ spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } });
    const exists = pod({ spec: { tolerations: [{ key: 'dedicated', operator: 'Exists' }] } });
    expect(taintToleration.filter(equal, tainted)).toBeNull();
    expect(taintToleration.filter(exists, tainted)).toBeNull();
  });
  it('rejects a toleration for another value or another effect', () => {
    const otherValue = pod({ spec: { tolerations: [{ key: 'dedicated', value: 'cpu', effect: 'NoSchedule' }] } });
    const otherEffect = pod({ spec: { tolerations: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] } });
    expect(taintToleration.filter(otherValue, tainted)).not.toBeNull();
    expect(taintToleration.filter(otherEffect, tainted)).not.toBeNull();
  });
  it('an empty key with Exists tolerates everything', () => {
    expect(toleratesTaint({ operator: 'Exists' }, { key: 'any', value: 'v', effect: 'NoExecute' })).toBe(true);
  });
});

describe('NodeAffinity', () => {
  const node = nodeInfo({ labels: { disk: 'ssd', zone: 'a', cores: '16' } });
  const reason = "node(s) didn't match Pod's node affinity/selector";
  const required = (matchExpressions: object[]): PodShape => ({
    spec: {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: matchExpressions as never }],
          },
        },
      },
    },
  });

  it('matches nodeSelector labels', () => {
    expect(nodeSelectorAffinity.filter(pod({ spec: { nodeSelector: { disk: 'ssd' } } }), node)).toBeNull();
    expect(nodeSelectorAffinity.filter(pod({ spec: { nodeSelector: { disk: 'hdd' } } }), node)).toBe(reason);
  });
  it('fits any node when the pod has no constraint', () => {
    expect(nodeSelectorAffinity.filter(pod(), node)).toBeNull();
  });
  it.each([
    [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, true],
    [{ key: 'zone', operator: 'In', values: ['c'] }, false],
    [{ key: 'zone', operator: 'NotIn', values: ['c'] }, true],
    [{ key: 'zone', operator: 'NotIn', values: ['a'] }, false],
    [{ key: 'missing', operator: 'NotIn', values: ['a'] }, true],
    [{ key: 'disk', operator: 'Exists' }, true],
    [{ key: 'gpu', operator: 'Exists' }, false],
    [{ key: 'gpu', operator: 'DoesNotExist' }, true],
    [{ key: 'disk', operator: 'DoesNotExist' }, false],
    [{ key: 'cores', operator: 'Gt', values: ['8'] }, true],
    [{ key: 'cores', operator: 'Gt', values: ['16'] }, false],
    [{ key: 'cores', operator: 'Lt', values: ['32'] }, true],
    [{ key: 'cores', operator: 'Lt', values: ['4'] }, false],
    [{ key: 'zone', operator: 'Gt', values: ['1'] }, false],
    [{ key: 'cores', operator: 'Gt', values: ['many'] }, false],
  ])('required affinity %j fits: %s', (expr, fits) => {
    expect(nodeSelectorAffinity.filter(pod(required([expr])), node)).toBe(fits ? null : reason);
  });
  it('ANDs the expressions of a term and ORs the terms', () => {
    const and = required([
      { key: 'zone', operator: 'In', values: ['a'] },
      { key: 'disk', operator: 'In', values: ['hdd'] },
    ]);
    expect(nodeSelectorAffinity.filter(pod(and), node)).toBe(reason);
    const or = pod({
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z'] }] },
                { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] },
              ],
            },
          },
        },
      },
    });
    expect(nodeSelectorAffinity.filter(or, node)).toBeNull();
  });
  it('needs both nodeSelector and affinity to match', () => {
    const both = required([{ key: 'zone', operator: 'In', values: ['a'] }]);
    both.spec = { ...both.spec, nodeSelector: { disk: 'hdd' } };
    expect(nodeSelectorAffinity.filter(pod(both), node)).toBe(reason);
  });
  it('an empty term matches no node', () => {
    expect(nodeSelectorAffinity.filter(pod(required([])), node)).toBe(reason);
  });
});

describe('NodePorts', () => {
  const reason = "node(s) didn't have free ports for the requested pod ports";
  it('fits when the host port is free', () => {
    expect(nodePorts.filter(pod({ hostPort: 8080 }), nodeInfo({}, [makePod('a', { hostPort: 9090 })]))).toBeNull();
  });
  it('rejects a host port already used on the node', () => {
    expect(nodePorts.filter(pod({ hostPort: 8080 }), nodeInfo({}, [makePod('a', { hostPort: 8080 })]))).toBe(reason);
  });
  it('tells protocols and addresses apart, but a wildcard address conflicts with all', () => {
    const udp = makePod('udp', { spec: { containers: [{ name: 'c', ports: [{ containerPort: 53, hostPort: 53, protocol: 'UDP' }] }] } });
    const onIp = (ip: string): PodInfo =>
      pod({ spec: { containers: [{ name: 'c', ports: [{ containerPort: 53, hostPort: 53, hostIP: ip }] }] } });
    const node = nodeInfo({}, [udp]);
    expect(nodePorts.filter(pod({ hostPort: 53 }), node)).toBeNull();
    const bound = nodeInfo({}, [makePod('b', { spec: { containers: [{ name: 'c', ports: [{ containerPort: 53, hostPort: 53, hostIP: '10.0.0.1' }] }] } })]);
    expect(nodePorts.filter(onIp('10.0.0.2'), bound)).toBeNull();
    expect(nodePorts.filter(onIp('10.0.0.1'), bound)).toBe(reason);
    expect(nodePorts.filter(onIp('0.0.0.0'), bound)).toBe(reason);
  });
  it('frees the port when the pod leaves', () => {
    const holder = podInfoFor(makePod('a', { hostPort: 8080 }));
    const node = nodeInfo();
    node.addPod(holder);
    node.removePod(holder.key);
    expect(nodePorts.filter(pod({ hostPort: 8080 }), node)).toBeNull();
  });
  it('treats container ports of host-network pods as host ports', () => {
    const hostNet = makePod('h', { spec: { hostNetwork: true, containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] } });
    expect(nodePorts.filter(pod({ hostPort: 80 }), nodeInfo({}, [hostNet]))).toBe(reason);
  });
});

describe('NodeResourcesFit', () => {
  it('fits requests within what is left', () => {
    const node = nodeInfo({ cpu: '1', memory: '1Gi' }, [makePod('a', { cpu: '500m', memory: '512Mi' })]);
    expect(resourcesFit.filter(pod({ cpu: '500m', memory: '512Mi' }), node)).toBeNull();
  });
  it('says Insufficient cpu', () => {
    const node = nodeInfo({ cpu: '1' }, [makePod('a', { cpu: '600m' })]);
    expect(resourcesFit.filter(pod({ cpu: '500m' }), node)).toBe('Insufficient cpu');
  });
  it('says Insufficient memory', () => {
    expect(resourcesFit.filter(pod({ memory: '9Gi' }), nodeInfo({ memory: '8Gi' }))).toBe('Insufficient memory');
  });
  it('gives every resource that falls short', () => {
    expect(resourcesFit.filter(pod({ cpu: '8', memory: '9Gi' }), nodeInfo())).toEqual(['Insufficient cpu', 'Insufficient memory']);
  });
  it('says Too many pods at the pod limit, even for a pod that requests nothing', () => {
    const node = nodeInfo({ pods: '2' }, [makePod('a'), makePod('b')]);
    expect(resourcesFit.filter(pod(), node)).toBe('Too many pods');
  });
  it('lets a pod without requests onto a full node', () => {
    const node = nodeInfo({ cpu: '1' }, [makePod('a', { cpu: '1' })]);
    expect(resourcesFit.filter(pod(), node)).toBeNull();
  });
  it('counts init containers by the largest, limits as requests', () => {
    const p = pod({
      spec: {
        initContainers: [{ name: 'init', resources: { requests: { cpu: '3' } } }],
        containers: [{ name: 'c', resources: { limits: { cpu: '1' } } }],
      },
    });
    expect(p.cpu).toBe(3000);
    expect(resourcesFit.filter(p, nodeInfo({ cpu: '2' }))).toBe('Insufficient cpu');
  });
});

describe('LeastAllocated', () => {
  const plugin = leastAllocated();
  it('prefers the emptier node', () => {
    const empty = nodeInfo();
    const busy = nodeInfo({}, [makePod('a', { cpu: '2', memory: '4Gi' })]);
    expect(scoreOf(plugin, pod({ cpu: '1', memory: '1Gi' }), empty)).toBeGreaterThan(scoreOf(plugin, pod({ cpu: '1', memory: '1Gi' }), busy));
  });
  it('scores the share left free, out of 100', () => {
    // cpu: (4000-1000)/4000 = 75; memory: (8Gi-2Gi)/8Gi = 75
    expect(scoreOf(plugin, pod({ cpu: '1', memory: '2Gi' }), nodeInfo())).toBe(75);
    expect(scoreOf(plugin, pod({ cpu: '4', memory: '8Gi' }), nodeInfo())).toBe(0);
  });
  it('counts pods without requests with defaults, so they spread', () => {
    const one = nodeInfo({}, [makePod('a')]);
    expect(scoreOf(plugin, pod(), nodeInfo())).toBeGreaterThan(scoreOf(plugin, pod(), one));
  });
});

describe('BalancedAllocation', () => {
  const plugin = balancedAllocation();
  it('gives 100 when cpu and memory are used in the same proportion', () => {
    expect(scoreOf(plugin, pod({ cpu: '2', memory: '4Gi' }), nodeInfo())).toBe(100);
  });
  it('prefers the node the pod evens out', () => {
    const memoryHeavy = nodeInfo({}, [makePod('a', { cpu: '100m', memory: '6Gi' })]);
    const cpuHeavy = nodeInfo({}, [makePod('b', { cpu: '3', memory: '100Mi' })]);
    const cpuPod = pod({ cpu: '2', memory: '100Mi' });
    expect(scoreOf(plugin, cpuPod, memoryHeavy)).toBeGreaterThan(scoreOf(plugin, cpuPod, cpuHeavy));
  });
});

describe('OwnerSpread', () => {
  const plugin = ownerSpread();
  it('prefers nodes with fewer pods of the same controller', () => {
    const p = pod({ ownerUid: 'rc-1' });
    const nodes = [
      nodeInfo({}, [makePod('a', { ownerUid: 'rc-1' }), makePod('b', { ownerUid: 'rc-1' })], 'n1'),
      nodeInfo({}, [makePod('c', { ownerUid: 'rc-1' }), makePod('d', { ownerUid: 'rc-2' })], 'n2'),
      nodeInfo({}, [makePod('e', { ownerUid: 'rc-2' })], 'n3'),
    ];
    const scores = new Float64Array(3);
    plugin.score(p, nodes, 3, scores);
    plugin.normalize?.(p, scores, 3);
    expect([...scores]).toEqual([0, 50, 100]);
  });
  it('is indifferent for a pod without a controller', () => {
    const p = pod();
    const scores = new Float64Array(2);
    plugin.score(p, [nodeInfo({}, [makePod('a', { ownerUid: 'x' })]), nodeInfo()], 2, scores);
    plugin.normalize?.(p, scores, 2);
    expect([...scores]).toEqual([100, 100]);
  });
});
