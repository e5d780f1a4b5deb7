import type { ConfigMap, KubeObject, Namespace, ServiceAccount } from '@peapod/api';
import { ApiError, createLogger } from '@peapod/client';
import { FakeCache } from '../testing/fake-cache';
import { defaultServiceAccount, rootCAConfigMap } from './objects';
import { PerNamespaceController } from './per-namespace';
import type { PerNamespaceClient } from './per-namespace';

const quiet = createLogger('test', { level: 'error' });

function namespace(name: string, phase: 'Active' | 'Terminating' = 'Active'): Namespace {
  return { metadata: { name }, status: { phase } };
}

class RecordingClient implements PerNamespaceClient {
  readonly calls: { verb: string; resource: string; namespace: string; obj: KubeObject }[] = [];
  failWith?: number;
  async create(resource: string, namespace: string, obj: KubeObject): Promise<void> {
    this.calls.push({ verb: 'create', resource, namespace, obj });
    if (this.failWith) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: this.failWith, message: 'no' });
  }
  async update(resource: string, namespace: string, obj: KubeObject): Promise<void> {
    this.calls.push({ verb: 'update', resource, namespace, obj });
  }
}

test('default: created in each active namespace that lacks it, never in a terminating one', async () => {
  const namespaces = new FakeCache<Namespace>();
  const accounts = new FakeCache<ServiceAccount>();
  const api = new RecordingClient();
  const c = new PerNamespaceController(namespaces, accounts, defaultServiceAccount, api, { logger: quiet });
  namespaces.set(namespace('a'));
  namespaces.set(namespace('b', 'Terminating'));
  accounts.set({ metadata: { name: 'default', namespace: 'c' } });
  namespaces.set(namespace('c'));
  for (const ns of ['a', 'b', 'c']) await c.sync(ns);
  expect(api.calls.map((x) => `${x.verb} ${x.resource} ${x.namespace}/${x.obj.metadata.name}`)).toEqual(['create serviceaccounts a/default']);
});

test('an answer that the object is there, or that the namespace is going, is no failure', async () => {
  const namespaces = new FakeCache<Namespace>();
  const api = new RecordingClient();
  const c = new PerNamespaceController(namespaces, new FakeCache<ServiceAccount>(), defaultServiceAccount, api, { logger: quiet });
  namespaces.set(namespace('a'));
  for (const code of [409, 403, 404]) {
    api.failWith = code;
    await expect(c.sync('a')).resolves.toBeUndefined();
  }
  api.failWith = 500;
  await expect(c.sync('a')).rejects.toThrow();
});

test('kube-root-ca.crt: created with the CA, and set right when its data or description drifted', async () => {
  const namespaces = new FakeCache<Namespace>();
  const maps = new FakeCache<ConfigMap>();
  const api = new RecordingClient();
  const spec = rootCAConfigMap('-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n');
  const c = new PerNamespaceController(namespaces, maps, spec, api, { logger: quiet });
  namespaces.set(namespace('a'));
  await c.sync('a');
  const created = api.calls[0].obj as ConfigMap;
  expect(created.data).toEqual({ 'ca.crt': '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n' });
  expect(created.metadata.annotations?.['kubernetes.io/description']).toMatch(/^Contains a CA bundle that can be used to verify the kube-apiserver/);
  maps.set({ ...created, metadata: { ...created.metadata, namespace: 'a' } });
  await c.sync('a');
  expect(api.calls).toHaveLength(1);
  maps.set({ ...created, metadata: { name: 'kube-root-ca.crt', namespace: 'a', labels: { keep: 'me' } }, data: { 'ca.crt': 'tampered', extra: 'x' } });
  await c.sync('a');
  expect(api.calls[1].verb).toBe('update');
  expect(api.calls[1].obj).toMatchObject({ metadata: { labels: { keep: 'me' }, annotations: { 'kubernetes.io/description': expect.any(String) } }, data: { 'ca.crt': created.data!['ca.crt'] } });
  expect((api.calls[1].obj as ConfigMap).data).not.toHaveProperty('extra');
});
