// Each API server's identity Lease in kube-system, as Kubernetes' API servers hold one, which
// here also serves as the record of Kubernetes' lease endpoint reconciler: the address and
// port the server advertises, with a short lease duration renewed well within it. The
// `kubernetes` service's endpoints are the addresses of the fresh records, so several API
// servers on one store agree on them instead of each writing its own.

import { randomUUID } from 'crypto';
import type { Lease } from '@peapod/api';
import { microTime } from '@peapod/api';
import type { Registry } from './registry';
import { StatusError } from '../errors';

export const identityLabel = 'apiserver.kubernetes.io/identity';
const addressAnnotation = 'peapod.io/advertise-address';
const portAnnotation = 'peapod.io/advertise-port';
const namespace = 'kube-system';
/** Kubernetes' lease endpoint reconciler: records live 15 s and are renewed every 10 s. */
export const recordTtlSeconds = 15;
export const renewIntervalMs = 10_000;

/** Where clients reach one API server. */
export interface ApiServerAddress {
  ip: string;
  port: number;
}

export interface ApiServerLeaseOptions {
  /** this server's advertised address */
  address: ApiServerAddress;
  /** the store is this server's alone (SQLite): any other lease is an earlier run's, and goes */
  alone?: boolean;
  now?: () => number;
}

function ignoreMissingOrChanged(err: unknown): void {
  if (!(err instanceof StatusError) || (err.code !== 404 && err.code !== 409)) throw err;
}

/** Orders by port, then by IP, numerically. */
export function compareAddresses(a: ApiServerAddress, b: ApiServerAddress): number {
  const octets = (ip: string) => ip.split('.').map(Number);
  if (a.port !== b.port) return a.port - b.port;
  const [x, y] = [octets(a.ip), octets(b.ip)];
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/** This server's lease: renewed, read with the others', and given up on a clean stop. */
export class ApiServerLease {
  /** apiserver-<uuid>: a new one per start, as Kubernetes' before it hashed the host name */
  readonly name = `apiserver-${randomUUID()}`;
  private readonly now: () => number;

  constructor(
    private readonly registry: Registry,
    private readonly opts: ApiServerLeaseOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  private desired(current?: Lease): Lease {
    const renewTime = microTime(this.now());
    const annotations = { [addressAnnotation]: this.opts.address.ip, [portAnnotation]: String(this.opts.address.port) };
    return {
      ...current,
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...current?.metadata, name: this.name, namespace, labels: { [identityLabel]: 'kube-apiserver' }, annotations },
      spec: { holderIdentity: this.name, leaseDurationSeconds: recordTtlSeconds, acquireTime: current?.spec?.acquireTime ?? renewTime, renewTime },
    };
  }

  /** Writes the lease with a new renewTime (creates it if it is gone, e.g. removed as expired during a pause). */
  async renew(): Promise<void> {
    let current: Lease;
    try {
      current = (await this.registry.get('leases', namespace, this.name)).object as Lease;
    } catch (err) {
      if (!(err instanceof StatusError) || err.code !== 404) throw err;
      await this.registry.create('leases', namespace, this.desired(), 'Strict');
      return;
    }
    await this.registry.update('leases', namespace, this.name, this.desired(current), 'Strict');
  }

  /** Deletes this server's lease, so the others drop its address at once. */
  async release(): Promise<void> {
    await this.registry.delete('leases', namespace, this.name, {}).catch(ignoreMissingOrChanged);
  }

  /**
   * The addresses of every API server whose record is fresh, sorted. Expired identity leases
   * are deleted (only if unchanged since read), as Kubernetes' API servers collect them.
   */
  async freshAddresses(): Promise<ApiServerAddress[]> {
    const leases = (await this.registry.list('leases', namespace, { labelSelector: `${identityLabel}=kube-apiserver` })).items;
    const fresh: ApiServerAddress[] = [];
    for (const { object } of leases) {
      const lease = object as Lease;
      const renewed = Date.parse(lease.spec?.renewTime ?? '');
      const ttlMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
      const earlierRun = this.opts.alone && lease.metadata.name !== this.name;
      if (earlierRun || !(renewed + ttlMs > this.now())) {
        const { uid, resourceVersion } = lease.metadata;
        await this.registry.delete('leases', namespace, lease.metadata.name!, { preconditions: { uid, resourceVersion } }).catch(ignoreMissingOrChanged);
        continue;
      }
      const ip = lease.metadata.annotations?.[addressAnnotation];
      const port = Number(lease.metadata.annotations?.[portAnnotation]);
      if (ip && Number.isInteger(port) && port > 0) fresh.push({ ip, port });
    }
    return fresh.sort(compareAddresses);
  }
}
