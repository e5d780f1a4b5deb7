// What the agent reads from the API for a pod's environment and volumes: the ConfigMaps and
// Secrets it refers to.
import type { ConfigMap, Secret } from '@peapod/api';
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
