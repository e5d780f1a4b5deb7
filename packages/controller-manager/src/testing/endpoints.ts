// Reading what the endpoints controllers wrote, for the integration tests.

import type { EndpointSlice, Endpoints } from '@peapod/api';
import { isNotFound } from '@peapod/client';
import type { Client } from '@peapod/client';

/** The service's Endpoints, or undefined when there are none. */
export async function endpointsOf(client: Client, service: string, namespace = 'default'): Promise<Endpoints | undefined> {
  try {
    return await client.get<Endpoints>('endpoints', service, { namespace });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function slicesOf(client: Client, service: string, namespace = 'default'): Promise<EndpointSlice[]> {
  return (await client.list<EndpointSlice>('endpointslices', { namespace, labelSelector: `kubernetes.io/service-name=${service}` })).items;
}

/** The IPs in the Endpoints, ready and not ready, each sorted. */
export function addressesOf(ep: Endpoints | undefined): { ready: string[]; notReady: string[] } {
  const ready = (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
  const notReady = (ep?.subsets ?? []).flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip)).sort();
  return { ready, notReady };
}
