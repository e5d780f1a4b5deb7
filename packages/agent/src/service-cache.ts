// The services whose variables a container's environment gets, kept as the kubelet keeps
// them: one informer on every service, read when a container starts. A list of the
// namespace's services and a get of `kubernetes` for every container would be two of the
// dozen requests a pod start costs the API server.
import type { Service } from '@peapod/api';
import { Informer } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';

/** Where a container's service variables come from. */
export interface ServiceSource {
  /** The services of `namespace` by name, and the `kubernetes` service of `default` after them. */
  servicesFor(namespace: string): Promise<Service[]>;
}

const NAMESPACE_INDEX = 'namespace';

export class ServiceCache implements ServiceSource {
  private readonly informer: Informer<Service>;

  constructor(client: Client, log: Logger) {
    this.informer = new Informer<Service>(client, 'services', { logger: log }).addIndex(NAMESPACE_INDEX, (s) => [s.metadata.namespace ?? 'default']);
  }

  start(): void {
    this.informer.start();
  }

  stop(): void {
    this.informer.stop();
  }

  /** Waits for the first list: a container started before it would miss variables it should have. */
  async servicesFor(namespace: string): Promise<Service[]> {
    await this.informer.waitForSync();
    const local = this.informer.byIndex(NAMESPACE_INDEX, namespace).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    const master = this.informer.get('default/kubernetes');
    return master && namespace !== 'default' ? [...local, master] : local;
  }
}
