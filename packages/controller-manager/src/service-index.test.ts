import type { Pod, PodCondition, Service } from '@peapod/api';
import { ServiceIndex, servicesToSyncOnPodUpdate } from './service-index';
import { FakeCache } from './testing/fake-cache';
import { makePod } from './testing/fixtures';

function service(name: string, selector: Record<string, string>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector, ports: [{ port: 80 }] } };
}

function withConditions(pod: Pod, rv: string, conditions: PodCondition[]): Pod {
  return { ...pod, metadata: { ...pod.metadata, resourceVersion: rv }, status: { ...pod.status, conditions } };
}

describe('servicesToSyncOnPodUpdate', () => {
  const services = new FakeCache<Service>();
  const index = new ServiceIndex(services);
  services.set(service('web', { app: 'web' }));
  services.set(service('other', { app: 'other' }));
  const pod = makePod('p', { labels: { app: 'web' }, nodeName: 'n', ready: true });

  test('a resync, or a change that touches no endpoint, syncs nothing', () => {
    const a = withConditions(pod, '5', pod.status!.conditions!);
    expect(servicesToSyncOnPodUpdate(index, a, a)).toEqual(new Set());
    expect(servicesToSyncOnPodUpdate(index, a, { ...a, metadata: { ...a.metadata, resourceVersion: '6', annotations: { x: 'y' } } })).toEqual(new Set());
  });

  test('readiness changes sync the services that select the pod', () => {
    const ready = withConditions(pod, '5', [{ type: 'Ready', status: 'True' }]);
    const unready = withConditions(pod, '6', [{ type: 'Ready', status: 'False' }]);
    expect(servicesToSyncOnPodUpdate(index, ready, unready)).toEqual(new Set(['default/web']));
  });

  test('a terminating pod whose containers stop being ready is synced: its slices no longer serve it', () => {
    const terminating = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2024-01-01T00:01:00Z' } };
    const serving = withConditions(terminating, '5', [
      { type: 'Ready', status: 'False', reason: 'PodTerminating' },
      { type: 'ContainersReady', status: 'True' },
    ]);
    const notServing = withConditions(terminating, '6', [
      { type: 'Ready', status: 'False', reason: 'PodTerminating' },
      { type: 'ContainersReady', status: 'False' },
    ]);
    expect(servicesToSyncOnPodUpdate(index, serving, notServing)).toEqual(new Set(['default/web']));
  });

  test('new labels sync the services the pod left and joined', () => {
    const before = withConditions(pod, '5', pod.status!.conditions!);
    const after = { ...before, metadata: { ...before.metadata, resourceVersion: '6', labels: { app: 'other' } } };
    expect(servicesToSyncOnPodUpdate(index, before, after)).toEqual(new Set(['default/web', 'default/other']));
  });
});
