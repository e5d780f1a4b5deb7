// Every namespace gets its `default` service account and kube-root-ca.crt from the controller
// manager, again after they are deleted; the CA is --root-ca-file's, else the kubeconfig's.

import fs from 'fs';
import os from 'os';
import path from 'path';
import type { ConfigMap, ServiceAccount } from '@peapod/api';
import { ApiError, Client, writeKubeconfig } from '@peapod/client';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';
import { startControllerManager } from '../testing/processes';
import { waitFor } from '../testing/cluster';

jest.setTimeout(60_000);

const ca = '-----BEGIN CERTIFICATE-----\nMIIB-test-ca\n-----END CERTIFICATE-----\n';
let dir: string;
let api: RunningApiServer;
let client: Client;
let cm: RunningProcess | undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-cm-ns-'));
  api = await startApiServer();
  client = new Client({ server: api.url });
});

afterEach(async () => {
  // A clean stop gives up the leader lease, so the next test's controller manager leads at once.
  await cm?.kill('SIGTERM');
  cm = undefined;
});

afterAll(async () => {
  await api.stop('SIGKILL');
  client.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function get<T extends ConfigMap | ServiceAccount>(resource: string, namespace: string, name: string): Promise<T | undefined> {
  try {
    return await client.get<T>(resource, name, { namespace });
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

test('default and kube-root-ca.crt in every namespace, old and new, and again after they are deleted', async () => {
  const caFile = path.join(dir, 'ca.crt');
  fs.writeFileSync(caFile, ca);
  cm = await startControllerManager(api.url, ['--root-ca-file', caFile]);
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await waitFor(`default in ${ns}`, () => get('serviceaccounts', ns, 'default'));
    const root = await waitFor(`kube-root-ca.crt in ${ns}`, () => get<ConfigMap>('configmaps', ns, 'kube-root-ca.crt'));
    expect(root.data).toEqual({ 'ca.crt': ca });
  }
  await client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  const sa = await waitFor('default in team-a', () => get<ServiceAccount>('serviceaccounts', 'team-a', 'default'));
  await waitFor('kube-root-ca.crt in team-a', () => get('configmaps', 'team-a', 'kube-root-ca.crt'));
  await client.delete('serviceaccounts', 'default', { namespace: 'team-a' });
  await client.delete('configmaps', 'kube-root-ca.crt', { namespace: 'team-a' });
  const again = await waitFor('default again', async () => {
    const found = await get<ServiceAccount>('serviceaccounts', 'team-a', 'default');
    return found && found.metadata.uid !== sa.metadata.uid ? found : undefined;
  });
  expect(again.metadata.name).toBe('default');
  await waitFor('kube-root-ca.crt again', () => get('configmaps', 'team-a', 'kube-root-ca.crt'));
  // Data changed by hand is set back.
  const root = (await get<ConfigMap>('configmaps', 'team-a', 'kube-root-ca.crt'))!;
  await client.update('configmaps', { ...root, data: { 'ca.crt': 'tampered' } });
  await waitFor('kube-root-ca.crt set right', async () => (await get<ConfigMap>('configmaps', 'team-a', 'kube-root-ca.crt'))?.data?.['ca.crt'] === ca);
});

test("without --root-ca-file the CA is the kubeconfig's certificate authority", async () => {
  await client.delete('configmaps', 'kube-root-ca.crt', { namespace: 'default' });
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: api.url, caData: ca });
  cm = await startControllerManager(api.url, ['--kubeconfig', kubeconfig]);
  const root = await waitFor('kube-root-ca.crt', () => get<ConfigMap>('configmaps', 'default', 'kube-root-ca.crt'));
  expect(root.data).toEqual({ 'ca.crt': ca });
});
