// The service cache against a real API server: what a container's environment would get.
import type { Service } from '@peapod/api';
import { Client, createLogger } from '@peapod/client';
import { createNamespaceDefaults, startApiServer, waitFor } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { ServiceCache } from './service-cache';

jest.setTimeout(60_000);

let api: RunningApiServer;
let client: Client;
let cache: ServiceCache;

beforeAll(async () => {
  api = await startApiServer();
  client = new Client({ server: api.url });
  await createNamespaceDefaults(client);
  await client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
});

afterAll(async () => {
  cache?.stop();
  client?.close();
  await api?.stop('SIGKILL');
});

function service(namespace: string, name: string, port: number): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector: { app: name }, ports: [{ port }] } };
}

const names = (services: Service[]) => services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`);

test("a namespace's services by name, then default's kubernetes service; later changes come through the watch", async () => {
  await client.create('services', service('shop', 'web', 80), { namespace: 'shop' });
  await client.create('services', service('shop', 'db', 5432), { namespace: 'shop' });
  await client.create('services', service('default', 'other', 81), { namespace: 'default' });
  cache = new ServiceCache(client, createLogger('test', { level: 'error' }));
  cache.start();
  // Asked before the first list is in: the answer waits for it rather than missing services.
  const first = cache.servicesFor('shop');
  expect(names(await first)).toEqual(['shop/db', 'shop/web', 'default/kubernetes']);
  expect(names(await cache.servicesFor('default'))).toEqual(['default/kubernetes', 'default/other']);
  expect(names(await cache.servicesFor('empty'))).toEqual(['default/kubernetes']);

  await client.create('services', service('shop', 'cache', 6379), { namespace: 'shop' });
  await client.delete('services', 'web', { namespace: 'shop' });
  await waitFor('the new service in and the deleted one out', async () => names(await cache.servicesFor('shop')).join() === 'shop/cache,shop/db,default/kubernetes', 10_000);
});
