import { makePod } from './fixtures';
import { defaultCpuRequestMillis, defaultMemoryRequestBytes, podInfoFor } from './pod-info';

describe('podInfoFor requests', () => {
  it('sums the containers and parses quantities exactly', () => {
    const pod = makePod('p', {
      spec: {
        containers: [
          { name: 'a', resources: { requests: { cpu: '0.1', memory: '64Mi' } } },
          { name: 'b', resources: { requests: { cpu: '250m', memory: '1G' } } },
        ],
      },
    });
    const info = podInfoFor(pod);
    expect([info.cpu, info.memory, info.nonZeroCpu, info.nonZeroMemory]).toEqual([
      350,
      64 * 1024 * 1024 + 1e9,
      350,
      64 * 1024 * 1024 + 1e9,
    ]);
  });

  it('counts nothing for fitting but a default for scoring when a container asks nothing', () => {
    const info = podInfoFor(makePod('p'));
    expect([info.cpu, info.memory, info.nonZeroCpu, info.nonZeroMemory]).toEqual([
      0,
      0,
      defaultCpuRequestMillis,
      defaultMemoryRequestBytes,
    ]);
  });

  it('keeps an explicit zero request at zero', () => {
    const info = podInfoFor(makePod('p', { cpu: '0', memory: '0' }));
    expect(info.nonZeroCpu).toBe(0);
    expect(info.nonZeroMemory).toBe(0);
  });

  it('counts an unparsable quantity as nothing rather than failing', () => {
    expect(podInfoFor(makePod('p', { cpu: 'lots' })).cpu).toBe(0);
  });
});

describe('podInfoFor', () => {
  it('takes the controller owner, not any owner', () => {
    const pod = makePod('p');
    pod.metadata.ownerReferences = [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'not-me' },
      { apiVersion: 'v1', kind: 'ReplicationController', name: 'rc', uid: 'rc-uid', controller: true },
    ];
    expect(podInfoFor(pod).ownerUid).toBe('rc-uid');
  });

  it('keys pods by uid', () => {
    const pod = makePod('p', { uid: 'abc' });
    expect(podInfoFor(pod).key).toBe('abc');
  });
});
