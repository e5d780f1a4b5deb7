// Each filter against the real API server and the real scheduler process: a pod that fits
// nowhere gets PodScheduled=False/Unschedulable and a FailedScheduling event worded as
// kube-scheduler words it, and is bound as soon as a change to the cluster lets it fit.

import type { NodeSelectorRequirement, Pod } from '@peapod/api';
import type { PodShape } from '../fixtures';
import {
  createAll,
  nodeManifest,
  podEvents,
  podManifest,
  podScheduled,
  startCluster,
  waitFor,
  waitForBinding,
  waitForPod,
} from '../testing/cluster';
import type { TestCluster } from '../testing/cluster';

jest.setTimeout(30_000);

let c: TestCluster;

beforeEach(async () => {
  c = await startCluster();
});

afterEach(async () => {
  await c?.stop();
});

async function createPod(name: string, shape: PodShape = {}): Promise<Pod> {
  return c.client.create<Pod>('pods', podManifest(name, shape), { namespace: 'default' });
}

/**
 * Waits until the pod carries PodScheduled=False/Unschedulable with exactly `message`,
 * and a FailedScheduling warning saying the same.
 */
async function expectUnschedulable(name: string, message: string): Promise<void> {
  const pod = await waitForPod(c.client, name, 'to be marked Unschedulable', (p) => podScheduled(p)?.reason === 'Unschedulable');
  expect(pod.spec.nodeName ?? '').toBe('');
  expect(podScheduled(pod)).toMatchObject({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message });
  const events = await waitFor(`a FailedScheduling event for ${name}`, async () => {
    const found = (await podEvents(c.client, name)).filter((e) => e.reason === 'FailedScheduling');
    return found.length > 0 ? found : undefined;
  });
  expect(events.map((e) => [e.type, e.message, e.involvedObject.uid])).toEqual([['Warning', message, pod.metadata.uid]]);
}

/** Waits until the pod is bound, checks where, and that the server marked it scheduled. */
async function expectBoundTo(name: string, nodes: string | string[]): Promise<string> {
  const node = await waitForBinding(c.client, name);
  expect(Array.isArray(nodes) ? nodes : [nodes]).toContain(node);
  const pod = await c.client.get<Pod>('pods', name, { namespace: 'default' });
  expect(podScheduled(pod)?.status).toBe('True');
  return node;
}

describe('NodeReady', () => {
  it('keeps pods off nodes that are not Ready, and binds to one that becomes Ready', async () => {
    await createAll(c.client, 'nodes', [nodeManifest('node-a', { ready: false }), nodeManifest('node-b', { ready: false })]);
    await createPod('web');
    await expectUnschedulable('web', '0/2 nodes are available: 2 node(s) were not ready.');

    await c.client.patch('nodes', 'node-b', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'merge', {
      subresource: 'status',
    });
    await expectBoundTo('web', 'node-b');
  });
});

describe('cordon (spec.unschedulable)', () => {
  it('keeps pods off cordoned nodes, and binds to one that is uncordoned', async () => {
    await createAll(c.client, 'nodes', [
      nodeManifest('node-a', { unschedulable: true }),
      nodeManifest('node-b', { unschedulable: true }),
    ]);
    await createPod('web');
    await expectUnschedulable('web', '0/2 nodes are available: 2 node(s) were unschedulable.');

    await c.client.patch('nodes', 'node-a', { spec: { unschedulable: false } }, 'merge');
    await expectBoundTo('web', 'node-a');
  });

  it('never places a pod on a cordoned node while others have room', async () => {
    await createAll(c.client, 'nodes', [
      nodeManifest('node-a'),
      nodeManifest('node-b'),
      nodeManifest('node-cordoned', { unschedulable: true }),
    ]);
    const names = Array.from({ length: 12 }, (_, i) => `web-${i}`);
    await createAll(c.client, 'pods', names.map((n) => podManifest(n, { cpu: '100m' })));
    const nodes = await Promise.all(names.map((n) => waitForBinding(c.client, n)));
    expect(nodes.filter((n) => n === 'node-cordoned')).toEqual([]);
  });
});

describe('TaintToleration', () => {
  it('names each untolerated taint, and binds pods that tolerate it', async () => {
    await createAll(c.client, 'nodes', [
      nodeManifest('node-gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      nodeManifest('node-maint', { taints: [{ key: 'maintenance', effect: 'NoExecute' }] }),
    ]);
    await createPod('plain');
    await expectUnschedulable(
      'plain',
      '0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {maintenance: }.',
    );

    await createPod('gpu-job', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } });
    await createPod('fixer', { spec: { tolerations: [{ key: 'maintenance', operator: 'Exists' }] } });
    await expectBoundTo('gpu-job', 'node-gpu');
    await expectBoundTo('fixer', 'node-maint');
  });
});

describe('NodeAffinity', () => {
  it('matches nodeSelector and required node affinity, and binds once a node is labelled to match', async () => {
    await createAll(c.client, 'nodes', [
      nodeManifest('node-ssd', { labels: { disk: 'ssd' } }),
      nodeManifest('node-hdd', { labels: { disk: 'hdd' } }),
      nodeManifest('node-plain'),
    ]);
    await createPod('wants-nvme', { spec: { nodeSelector: { disk: 'nvme' } } });
    await expectUnschedulable('wants-nvme', "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");

    await createPod('wants-ssd', { spec: { nodeSelector: { disk: 'ssd' } } });
    const required = (operator: NodeSelectorRequirement['operator'], values?: string[]): PodShape => ({
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator, values }] }],
            },
          },
        },
      },
    });
    await createPod('wants-hdd', required('In', ['hdd']));
    await createPod('wants-no-disk', required('DoesNotExist'));
    await expectBoundTo('wants-ssd', 'node-ssd');
    await expectBoundTo('wants-hdd', 'node-hdd');
    await expectBoundTo('wants-no-disk', 'node-plain');

    await c.client.patch('nodes', 'node-plain', { metadata: { labels: { disk: 'nvme' } } }, 'merge');
    await expectBoundTo('wants-nvme', 'node-plain');
  });
});

describe('NodePorts', () => {
  it('gives a host port to one pod per node, and binds a waiting pod when the holder goes', async () => {
    await createAll(c.client, 'nodes', [nodeManifest('node-a'), nodeManifest('node-b')]);
    await createPod('port-1', { hostPort: 8080 });
    await createPod('port-2', { hostPort: 8080 });
    const first = await expectBoundTo('port-1', ['node-a', 'node-b']);
    await expectBoundTo('port-2', first === 'node-a' ? 'node-b' : 'node-a');

    await createPod('port-3', { hostPort: 8080 });
    await expectUnschedulable('port-3', "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.");
    await createPod('other-port', { hostPort: 9090 });
    await expectBoundTo('other-port', ['node-a', 'node-b']);

    await c.client.delete('pods', 'port-1', { namespace: 'default', gracePeriodSeconds: 0 });
    await expectBoundTo('port-3', first);
  });
});

describe('NodeResourcesFit', () => {
  it('says which resource each node lacks, and binds a pod that fits', async () => {
    await createAll(c.client, 'nodes', [
      nodeManifest('node-few-cpus', { cpu: '1' }),
      nodeManifest('node-little-memory', { memory: '1Gi' }),
      nodeManifest('node-one-pod', { pods: '1' }),
    ]);
    await createPod('filler', { spec: { nodeSelector: { 'kubernetes.io/hostname': 'node-one-pod' } } });
    await expectBoundTo('filler', 'node-one-pod');

    await createPod('big', { cpu: '2', memory: '2Gi' });
    await expectUnschedulable('big', '0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods.');
    await createPod('small', { cpu: '500m', memory: '512Mi' });
    await expectBoundTo('small', ['node-few-cpus', 'node-little-memory']);
  });

  it('retries a pod that fits nowhere as soon as a node with room is added', async () => {
    await createAll(c.client, 'nodes', [nodeManifest('node-small', { cpu: '1' })]);
    await createPod('big', { cpu: '2' });
    await expectUnschedulable('big', '0/1 nodes are available: 1 Insufficient cpu.');

    await createAll(c.client, 'nodes', [nodeManifest('node-large', { cpu: '4' })]);
    await expectBoundTo('big', 'node-large');
    // The Scheduled event is written after the binding, on its own: it may trail it.
    const reasons = await waitFor('a Scheduled event for big', async () => {
      const found = (await podEvents(c.client, 'big')).map((e) => e.reason).sort();
      return found.includes('Scheduled') ? found : undefined;
    });
    expect(reasons).toEqual(['FailedScheduling', 'Scheduled']);
  });
});

describe('FailedScheduling wording', () => {
  it('counts nodes per reason, as in the issue: affinity first, then cpu', async () => {
    await createAll(c.client, 'nodes', [
      nodeManifest('node-a', { cpu: '1', labels: { zone: 'x' } }),
      nodeManifest('node-b', { cpu: '1', labels: { zone: 'x' } }),
      nodeManifest('node-c', { cpu: '8', labels: { zone: 'y' } }),
    ]);
    await createPod('web', { cpu: '2', spec: { nodeSelector: { zone: 'x' } } });
    await expectUnschedulable(
      'web',
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.",
    );
  });

  it('sorts the counted reasons as strings, as kube-scheduler does: "10 …" before "2 …"', async () => {
    const notReady = Array.from({ length: 10 }, (_, i) => nodeManifest(`down-${i}`, { ready: false }));
    await createAll(c.client, 'nodes', [...notReady, nodeManifest('small-1', { cpu: '1' }), nodeManifest('small-2', { cpu: '1' })]);
    await createPod('web', { cpu: '2' });
    await expectUnschedulable('web', '0/12 nodes are available: 10 node(s) were not ready, 2 Insufficient cpu.');
  });

  it('says so when there are no nodes at all', async () => {
    await createPod('web');
    await expectUnschedulable('web', 'no nodes available to schedule pods');
  });
});
