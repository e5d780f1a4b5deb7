// The `kubernetes` service in `default`: how pods find the API servers. The API server keeps
// it itself, as Kubernetes' does: the service on the first address of the service range,
// and its Endpoints and EndpointSlices at the addresses and ports the API servers advertise
// (see apiserver-leases.ts), made right on every start (the port may differ from the last
// run) and checked again periodically in case someone deleted or changed them.

import type { EndpointSlice, Endpoints, KubeObject, Service } from '@peapod/api';
import { canonicalJson, sameJson, serviceNameLabel } from '@peapod/api';
import type { Registry } from './registry';
import type { ApiServerAddress } from './apiserver-leases';
import { StatusError } from '../errors';

export interface KubernetesServiceOptions {
  clusterIP: string;
  tls: boolean;
}

const namespace = 'default';
const name = 'kubernetes';

function servicePort(opts: KubernetesServiceOptions): { name: string; port: number } {
  return opts.tls ? { name: 'https', port: 443 } : { name: 'http', port: 80 };
}

/** The addresses by port, in the order given: an Endpoints subset (and an EndpointSlice) holds one port. */
function byPort(addresses: ApiServerAddress[]): { port: number; ips: string[] }[] {
  const groups = new Map<number, string[]>();
  for (const a of addresses) groups.set(a.port, [...(groups.get(a.port) ?? []), a.ip]);
  return [...groups].map(([port, ips]) => ({ port, ips }));
}

/** The service's target port is the first API server's, so that servers on different ports do not fight over it. */
function desiredService(opts: KubernetesServiceOptions, targetPort: number): Service {
  const sp = servicePort(opts);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: opts.clusterIP,
      ports: [{ name: sp.name, port: sp.port, protocol: 'TCP', targetPort }],
      sessionAffinity: 'None',
    },
  };
}

function desiredEndpoints(opts: KubernetesServiceOptions, addresses: ApiServerAddress[]): Endpoints {
  const sp = servicePort(opts);
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    // Kubernetes marks it so that nothing mirrors it into another EndpointSlice.
    metadata: { name, namespace, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: byPort(addresses).map((g) => ({ addresses: g.ips.map((ip) => ({ ip })), ports: [{ name: sp.name, port: g.port, protocol: 'TCP' }] })),
  };
}

/** One slice per port: `kubernetes` for the first, `kubernetes-PORT` for any other. */
function desiredSlices(opts: KubernetesServiceOptions, addresses: ApiServerAddress[]): EndpointSlice[] {
  return byPort(addresses).map((g, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: i === 0 ? name : `${name}-${g.port}`, namespace, labels: { [serviceNameLabel]: name } },
    addressType: 'IPv4',
    endpoints: g.ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: servicePort(opts).name, port: g.port, protocol: 'TCP' }],
  }));
}

/** A 409 means another API server wrote the object meanwhile: the next run looks again. */
function ignoreConflict(err: unknown): void {
  if (!(err instanceof StatusError) || err.code !== 409) throw err;
}

/** Creates the object, or rewrites it where `fields` differ from what is stored. */
async function ensure(registry: Registry, resource: string, want: KubeObject, fields: string[]): Promise<void> {
  const name = want.metadata.name!;
  let current: KubeObject;
  try {
    current = (await registry.get(resource, namespace, name)).object;
  } catch (err) {
    if (!(err instanceof StatusError) || err.code !== 404) throw err;
    await registry.create(resource, namespace, want, 'Strict').catch(ignoreConflict);
    return;
  }
  const pick = (o: KubeObject) => fields.map((f) => canonicalJson((o as unknown as Record<string, unknown>)[f]));
  const labelsDiffer = Object.entries(want.metadata.labels ?? {}).some(([k, v]) => current.metadata.labels?.[k] !== v);
  if (!labelsDiffer && pick(current).join() === pick(want).join()) return;
  const next = JSON.parse(JSON.stringify(current)) as Record<string, unknown> & KubeObject;
  for (const f of fields) next[f] = (want as unknown as Record<string, unknown>)[f];
  next.metadata.labels = { ...current.metadata.labels, ...want.metadata.labels };
  await registry.update(resource, namespace, name, next, 'Strict').catch(ignoreConflict);
}

/**
 * Makes the `kubernetes` service, its Endpoints and its EndpointSlices point at the API
 * servers at `addresses` (sorted). The service keeps its cluster IP once it
 * has one; its port follows the servers'. Without `addresses` (--endpoint-reconciler-type
 * none) only the service is kept, at `ownPort`.
 */
export async function reconcileKubernetesService(
  registry: Registry,
  opts: KubernetesServiceOptions,
  ownPort: number,
  addresses?: ApiServerAddress[],
): Promise<void> {
  const want = desiredService(opts, addresses?.[0]?.port ?? ownPort);
  let service: Service;
  try {
    service = (await registry.get('services', namespace, name)).object as Service;
  } catch (err) {
    if (!(err instanceof StatusError) || err.code !== 404) throw err;
    await registry.create('services', namespace, want, 'Strict');
    service = (await registry.get('services', namespace, name)).object as Service;
  }
  if (!sameJson(service.spec?.ports, want.spec?.ports)) {
    const next = JSON.parse(JSON.stringify(service)) as Service;
    next.spec = { ...next.spec, ports: want.spec!.ports };
    await registry.update('services', namespace, name, next, 'Strict');
  }
  // As Kubernetes' reconciler, never write no endpoints at all: the last server to stop leaves them as they are.
  if (!addresses?.length) return;
  await ensure(registry, 'endpoints', desiredEndpoints(opts, addresses), ['subsets']);
  const slices = desiredSlices(opts, addresses);
  for (const slice of slices) await ensure(registry, 'endpointslices', slice, ['addressType', 'endpoints', 'ports']);
  const wanted = new Set(slices.map((sl) => sl.metadata.name));
  for (const { object } of (await registry.list('endpointslices', namespace, { labelSelector: `${serviceNameLabel}=${name}` })).items) {
    if (wanted.has(object.metadata.name)) continue;
    await registry.delete('endpointslices', namespace, object.metadata.name!, {}).catch((err: unknown) => {
      if (!(err instanceof StatusError) || err.code !== 404) throw err;
    });
  }
}
