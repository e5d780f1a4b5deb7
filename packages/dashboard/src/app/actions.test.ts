import { immediateDeletionWarning } from '@peapod/api';
import { ApiFailure, failureText } from './api';
import type { Api } from './actions';
import { deletePod, drainNode, evictionServed, scaleController, setUnschedulable } from './actions';
import type { PodRecord } from './state/records';

interface Call {
  method: string;
  path: string;
  query?: Record<string, unknown>;
  body?: unknown;
  contentType?: string;
}

function fakeApi(answer: (c: Call) => unknown): { api: Api; calls: Call[] } {
  const calls: Call[] = [];
  const api = (async (method: string, path: string, opts: Omit<Call, 'method' | 'path'> = {}) => {
    const call = { method, path, ...opts };
    calls.push(call);
    const r = answer(call);
    if (r instanceof Error) throw r;
    return r;
  }) as Api;
  return { api, calls };
}

const pod = (name: string, extra: Partial<PodRecord> = {}): PodRecord =>
  ({ key: `default/${name}`, uid: `uid-${name}`, namespace: 'default', name, node: 'n1', terminal: false, ...extra }) as PodRecord;

const status = (code: number, reason: string, message: string) =>
  new ApiFailure({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason: reason as never, message });

describe('actions', () => {
  it('deletes a pod with its grace period and uid precondition; the preview is the same request with dryRun=All', async () => {
    const { api, calls } = fakeApi(() => ({ kind: 'Pod', metadata: { deletionTimestamp: '2024-05-01T10:00:10Z', deletionGracePeriodSeconds: 10 } }));
    const lines = await deletePod(api, pod('web'), 10, true);
    expect(calls[0]).toMatchObject({
      method: 'DELETE',
      path: '/api/v1/namespaces/default/pods/web',
      query: { dryRun: 'All' },
      body: { gracePeriodSeconds: 10, preconditions: { uid: 'uid-web' } },
    });
    expect(lines[0]).toMatch(/would turn Terminating.*grace 10s/);
    await deletePod(api, pod('web'), 10, false);
    expect(calls[1].query).toEqual({});
  });

  it('force deletion (grace 0) reports the pod gone; the page shows kubectl\'s warning', async () => {
    const { api } = fakeApi(() => ({ kind: 'Status', status: 'Success' }));
    expect(await deletePod(api, pod('web'), 0, false)).toEqual(['pod "web" force deleted']);
    expect(immediateDeletionWarning).toMatch(/^Warning: Immediate deletion does not wait/);
  });

  it('scales through the scale subresource with a merge patch', async () => {
    const { api, calls } = fakeApi(() => ({ spec: { replicas: 3 } }));
    expect(await scaleController(api, { namespace: 'default', name: 'web', desired: 1 }, 3, false)).toEqual(['replicationcontroller "web" scaled from 1 to 3 replicas']);
    expect(calls[0]).toMatchObject({ method: 'PATCH', path: '/api/v1/namespaces/default/replicationcontrollers/web/scale', body: { spec: { replicas: 3 } }, contentType: 'application/merge-patch+json' });
  });

  it('cordons and uncordons as kubectl patches spec.unschedulable', async () => {
    const { api, calls } = fakeApi(() => ({}));
    await setUnschedulable(api, 'n1', true, false);
    await setUnschedulable(api, 'n1', false, true);
    expect(calls.map((c) => [c.body, c.query])).toEqual([
      [{ spec: { unschedulable: true } }, {}],
      [{ spec: { unschedulable: null } }, { dryRun: 'All' }],
    ]);
  });

  it('drains: cordon, then evict each live pod when pods/eviction is served, reporting each refusal', async () => {
    const { api, calls } = fakeApi((c) => (c.path.endsWith('/b/eviction') ? status(429, 'TooManyRequests', 'Cannot evict pod as it would violate the pod\'s disruption budget.') : {}));
    const lines = await drainNode(api, 'n1', [pod('a'), pod('b'), pod('done', { terminal: true })], true, false);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'PATCH /api/v1/nodes/n1',
      'POST /api/v1/namespaces/default/pods/a/eviction',
      'POST /api/v1/namespaces/default/pods/b/eviction',
    ]);
    expect(calls[1].body).toMatchObject({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'a', namespace: 'default' } });
    expect(lines).toEqual([
      'node/n1 cordoned',
      'pod default/a evicted',
      "pod default/b: Error from server (TooManyRequests): Cannot evict pod as it would violate the pod's disruption budget.",
      'node/n1 drained: its pods are leaving',
    ]);
  });

  it('drains with graceful deletes where eviction is not served; a pod already gone is skipped', async () => {
    const { api, calls } = fakeApi((c) => (c.path.endsWith('/gone') ? status(404, 'NotFound', 'pods "gone" not found') : {}));
    const lines = await drainNode(api, 'n1', [pod('a'), pod('gone')], false, true);
    expect(calls.slice(1).map((c) => [c.method, c.query])).toEqual([
      ['DELETE', { dryRun: 'All' }],
      ['DELETE', { dryRun: 'All' }],
    ]);
    expect(lines).toEqual(['node/n1 would be cordoned', 'pod default/a would be deleted (graceful: pods/eviction is not served)', 'node/n1 would be drained']);
  });

  it('finds pods/eviction in discovery', async () => {
    expect(await evictionServed(fakeApi(() => ({ resources: [{ name: 'pods' }, { name: 'pods/eviction' }] })).api)).toBe(true);
    expect(await evictionServed(fakeApi(() => ({ resources: [{ name: 'pods' }] })).api)).toBe(false);
  });

  it('words a refusal as kubectl does', () => {
    expect(failureText(status(409, 'Conflict', 'Operation cannot be fulfilled'))).toBe('Error from server (Conflict): Operation cannot be fulfilled');
  });
});
