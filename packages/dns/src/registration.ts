// How pods find this server: the kube-dns service in kube-system (selectorless, on the
// cluster IP the agents give pods as their nameserver) and, as its endpoint, an
// EndpointSlice per DNS instance naming this server's address and port. The service proxy
// then sends the cluster IP's port 53 here, as Kubernetes fronts CoreDNS. The Endpoints
// object of kube-dns (which `kubectl get endpoints` shows) mirrors the slices of all
// instances. Made right at start and every so often (someone may delete them); an instance
// that stops takes its slice away.

import { canonicalJson, managedByLabel, sameJson, serviceNameLabel } from '@peapod/api';
import type { EndpointSlice, Endpoints, EndpointSubset, KubeObject, Service } from '@peapod/api';
import { isConflict, isNotFound } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';

export const dnsNamespace = 'kube-system';
export const dnsServiceName = 'kube-dns';
export const dnsManager = 'peapod-dns';

export interface RegistrationOptions {
  client: Client;
  /** the kube-dns service's cluster IP (the agents' --cluster-dns) */
  clusterIP: string;
  /** names this instance's slice: kube-dns-INSTANCE */
  instance: string;
  address: string;
  port: number;
  nodeName?: string;
  log: Logger;
}

const portNames = [
  { name: 'dns', protocol: 'UDP' as const },
  { name: 'dns-tcp', protocol: 'TCP' as const },
];

export function desiredService(clusterIP: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: dnsServiceName, namespace: dnsNamespace, labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'KubeDNS' } },
    spec: { type: 'ClusterIP', clusterIP, ports: portNames.map((p) => ({ ...p, port: 53, targetPort: 53 })) },
  };
}

export function desiredSlice(opts: Pick<RegistrationOptions, 'instance' | 'address' | 'port' | 'nodeName'>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${dnsServiceName}-${opts.instance}`,
      namespace: dnsNamespace,
      labels: { [serviceNameLabel]: dnsServiceName, [managedByLabel]: dnsManager },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [opts.address], conditions: { ready: true, serving: true, terminating: false }, ...(opts.nodeName ? { nodeName: opts.nodeName } : {}) }],
    ports: portNames.map((p) => ({ ...p, port: opts.port })),
  };
}

/** The Endpoints of kube-dns as the instances' slices say: one subset per port number. */
export function mirroredEndpoints(slices: EndpointSlice[]): Endpoints {
  const subsets = new Map<string, EndpointSubset>();
  for (const slice of slices) {
    const ports = (slice.ports ?? []).map((p) => ({ name: p.name, port: p.port ?? 53, protocol: p.protocol ?? 'TCP' }));
    const key = canonicalJson(ports);
    const subset: EndpointSubset = subsets.get(key) ?? { addresses: [], ports };
    for (const ep of slice.endpoints) for (const ip of ep.addresses) subset.addresses!.push({ ip, ...(ep.nodeName ? { nodeName: ep.nodeName } : {}) });
    subsets.set(key, subset);
  }
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: dnsServiceName, namespace: dnsNamespace, labels: { 'k8s-app': 'kube-dns', 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [...subsets.values()].filter((s) => (s.addresses ?? []).length > 0),
  };
}

export class Registration {
  constructor(private readonly opts: RegistrationOptions) {}

  /** Makes the service, this instance's slice and the mirrored Endpoints what they should be. */
  async ensure(): Promise<void> {
    await this.ensureService();
    await this.put('endpointslices', desiredSlice(this.opts), ['addressType', 'endpoints', 'ports']);
    await this.mirror();
  }

  /** Takes this instance out: its slice goes, and the Endpoints follow. */
  async withdraw(): Promise<void> {
    try {
      await this.opts.client.delete('endpointslices', desiredSlice(this.opts).metadata.name!, { namespace: dnsNamespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.mirror();
  }

  private async ensureService(): Promise<void> {
    const want = desiredService(this.opts.clusterIP);
    try {
      const svc = await this.opts.client.get<Service>('services', dnsServiceName, { namespace: dnsNamespace });
      // A cluster IP cannot change: a different one stays, and the agents' --cluster-dns must name it.
      if (svc.spec?.clusterIP !== this.opts.clusterIP) {
        this.opts.log.warn('the kube-dns service has another cluster IP than --cluster-ip', { clusterIP: svc.spec?.clusterIP, wanted: this.opts.clusterIP });
      }
      if (!sameJson(svc.spec?.ports?.map((p) => [p.name, p.port, p.protocol]), want.spec!.ports!.map((p) => [p.name, p.port, p.protocol]))) {
        await this.opts.client.update('services', { ...svc, spec: { ...svc.spec, ports: want.spec!.ports } });
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.opts.client.create('services', want, { namespace: dnsNamespace });
    }
  }

  private async mirror(): Promise<void> {
    const slices = await this.opts.client.list<EndpointSlice>('endpointslices', {
      namespace: dnsNamespace,
      labelSelector: `${serviceNameLabel}=${dnsServiceName},${managedByLabel}=${dnsManager}`,
    });
    await this.put('endpoints', mirroredEndpoints(slices.items), ['subsets']);
  }

  /** Creates the object, or rewrites `fields` (and labels) where they differ; a write that races another is retried. */
  private async put(resource: string, want: KubeObject, fields: string[]): Promise<void> {
    const { client } = this.opts;
    for (let attempt = 0; ; attempt++) {
      try {
        let current: KubeObject;
        try {
          current = await client.get(resource, want.metadata.name!, { namespace: dnsNamespace });
        } catch (err) {
          if (!isNotFound(err)) throw err;
          await client.create(resource, want, { namespace: dnsNamespace });
          return;
        }
        const pick = (o: KubeObject) => fields.map((f) => canonicalJson((o as unknown as Record<string, unknown>)[f])).join();
        const labelsDiffer = Object.entries(want.metadata.labels ?? {}).some(([k, v]) => current.metadata.labels?.[k] !== v);
        if (!labelsDiffer && pick(current) === pick(want)) return;
        const next = { ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, ...want.metadata.labels } } } as Record<string, unknown> & KubeObject;
        for (const f of fields) next[f] = (want as unknown as Record<string, unknown>)[f];
        await client.update(resource, next);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
  }
}
