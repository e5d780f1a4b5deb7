// The `kubernetes` service in `default`: how pods find the API server. The API server keeps
// it itself, as Kubernetes' does: the service on the first address of the service range,
// and its Endpoints and EndpointSlice at the address and port this server advertises, made
// right on every start (the port may differ from the last run) and checked again
// periodically in case someone deleted or changed them.

import type { EndpointSlice, Endpoints, KubeObject, Service } from '@peapod/api';
import { canonicalJson, serviceNameLabel } from '@peapod/api';
import type { Registry } from './registry';
import { StatusError } from '../errors';

export interface KubernetesServiceOptions {
  clusterIP: string;
  /** where clients reach this API server */
  address: string;
  port: number;
  tls: boolean;
}

const namespace = 'default';
const name = 'kubernetes';

function servicePort(opts: KubernetesServiceOptions): { name: string; port: number } {
  return opts.tls ? { name: 'https', port: 443 } : { name: 'http', port: 80 };
}

function desiredService(opts: KubernetesServiceOptions): Service {
  const sp = servicePort(opts);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: opts.clusterIP,
      ports: [{ name: sp.name, port: sp.port, protocol: 'TCP', targetPort: opts.port }],
      sessionAffinity: 'None',
    },
  };
}

function desiredEndpoints(opts: KubernetesServiceOptions): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    // Kubernetes marks it so that nothing mirrors it into another EndpointSlice.
    metadata: { name, namespace, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: opts.address }], ports: [{ name: servicePort(opts).name, port: opts.port, protocol: 'TCP' }] }],
  };
}

function desiredSlice(opts: KubernetesServiceOptions): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, labels: { [serviceNameLabel]: name } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [opts.address], conditions: { ready: true } }],
    ports: [{ name: servicePort(opts).name, port: opts.port, protocol: 'TCP' }],
  };
}

/** Creates the object, or rewrites it where `fields` differ from what is stored. */
async function ensure(registry: Registry, resource: string, want: KubeObject, fields: string[]): Promise<void> {
  let current: KubeObject;
  try {
    current = (await registry.get(resource, namespace, name)).object;
  } catch (err) {
    if (!(err instanceof StatusError) || err.code !== 404) throw err;
    await registry.create(resource, namespace, want, 'Strict');
    return;
  }
  const pick = (o: KubeObject) => fields.map((f) => canonicalJson((o as unknown as Record<string, unknown>)[f]));
  const labelsDiffer = Object.entries(want.metadata.labels ?? {}).some(([k, v]) => current.metadata.labels?.[k] !== v);
  if (!labelsDiffer && pick(current).join() === pick(want).join()) return;
  const next = JSON.parse(JSON.stringify(current)) as Record<string, unknown> & KubeObject;
  for (const f of fields) next[f] = (want as unknown as Record<string, unknown>)[f];
  next.metadata.labels = { ...current.metadata.labels, ...want.metadata.labels };
  await registry.update(resource, namespace, name, next, 'Strict');
}

/**
 * Makes the `kubernetes` service, its Endpoints and its EndpointSlice point at this server.
 * The service keeps its cluster IP once it has one; its ports follow the server's.
 */
export async function reconcileKubernetesService(registry: Registry, opts: KubernetesServiceOptions): Promise<void> {
  let service: Service;
  try {
    service = (await registry.get('services', namespace, name)).object as Service;
  } catch (err) {
    if (!(err instanceof StatusError) || err.code !== 404) throw err;
    await registry.create('services', namespace, desiredService(opts), 'Strict');
    service = (await registry.get('services', namespace, name)).object as Service;
  }
  const want = desiredService(opts);
  if (canonicalJson(service.spec?.ports) !== canonicalJson(want.spec?.ports)) {
    const next = JSON.parse(JSON.stringify(service)) as Service;
    next.spec = { ...next.spec, ports: want.spec!.ports };
    await registry.update('services', namespace, name, next, 'Strict');
  }
  await ensure(registry, 'endpoints', desiredEndpoints(opts), ['subsets']);
  await ensure(registry, 'endpointslices', desiredSlice(opts), ['addressType', 'endpoints', 'ports']);
}
