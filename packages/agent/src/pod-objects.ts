// What the agent reads from the API for a pod's environment and volumes: ConfigMaps and
// Secrets it refers to, and the services whose variables it gets.
import type { ConfigMap, Secret, Service } from '@peapod/api';
import { ApiError } from '@peapod/client';
import type { Client } from '@peapod/client';
import type { PodObjectSource } from './env';

async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

export function apiObjectSource(client: Client): PodObjectSource {
  return {
    configMap: (namespace, name) => orUndefined(client.get<ConfigMap>('configmaps', name, { namespace })),
    secret: (namespace, name) => orUndefined(client.get<Secret>('secrets', name, { namespace })),
  };
}

/** The services of `namespace` and the `kubernetes` service of `default`, for the service variables. */
export async function servicesForPod(client: Client, namespace: string): Promise<Service[]> {
  const [local, master] = await Promise.all([
    client.list<Service>('services', { namespace }),
    orUndefined(client.get<Service>('services', 'kubernetes', { namespace: 'default' })),
  ]);
  return master && namespace !== 'default' ? [...local.items, master] : local.items;
}
