// The node's heartbeat: its Lease in kube-node-lease (name and holder the node's name, owned
// by its Node), renewed every interval with renewTime to the microsecond, as the kubelet
// does. A renewal is one small write, where a status post is the whole node status, so the
// status goes only when it changes (node-status.ts) and the lease says the node is alive.

import { microTime, nodeLeaseNamespace } from '@peapod/api';
import type { Lease, Node } from '@peapod/api';
import { isConflict, isNotFound } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';

/** How long the lease holds without renewal; the node lifecycle controller's grace is counted from the last renewal. */
export const nodeLeaseDurationSeconds = 40;

export interface NodeLeaseOptions {
  client: Client;
  log: Logger;
  nodeName: string;
  renewIntervalMs: number;
  /** The Node as last seen, for the lease's owner reference (none until it is known). */
  node: () => Node | undefined;
}

export class NodeLeaseManager {
  private lease: Lease | undefined;
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(private readonly opts: NodeLeaseOptions) {}

  /** The owner reference a node's lease carries, as the kubelet sets it: the Node, so the lease goes with it. */
  private ownerReferences(): Lease['metadata']['ownerReferences'] {
    const uid = this.opts.node()?.metadata.uid;
    return uid ? [{ apiVersion: 'v1', kind: 'Node', name: this.opts.nodeName, uid }] : undefined;
  }

  private desired(base: Lease | undefined): Lease {
    const { nodeName } = this.opts;
    // Only spec and the owner references change: copies of the objects that hold them leave
    // base as it is (a hollow process renews 500 leases a second, and a deep copy of each was
    // among its busiest functions).
    const lease: Lease = base
      ? { ...base, metadata: { ...base.metadata } }
      : { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: nodeName, namespace: nodeLeaseNamespace }, spec: {} };
    lease.spec = { ...lease.spec, holderIdentity: nodeName, leaseDurationSeconds: nodeLeaseDurationSeconds, renewTime: microTime() };
    const owners = this.ownerReferences();
    if (owners && lease.metadata.ownerReferences?.[0]?.uid !== owners[0].uid) lease.metadata.ownerReferences = owners;
    return lease;
  }

  /** One renewal: an update of the lease as last written, or its creation; a conflict re-reads it once. */
  async renew(): Promise<Lease> {
    const { client, nodeName } = this.opts;
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.lease === undefined) this.lease = await this.fetch();
        this.lease = this.lease
          ? await client.update<Lease>('leases', this.desired(this.lease), { namespace: nodeLeaseNamespace })
          : await client.create<Lease>('leases', this.desired(undefined), { namespace: nodeLeaseNamespace });
        return this.lease;
      } catch (err) {
        this.lease = undefined;
        if (!((isConflict(err) || isNotFound(err)) && attempt === 0)) throw err;
        this.opts.log.debug('lease changed or gone meanwhile: reading it again', { node: nodeName });
      }
    }
  }

  private async fetch(): Promise<Lease | undefined> {
    try {
      return await this.opts.client.get<Lease>('leases', this.opts.nodeName, { namespace: nodeLeaseNamespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Renews now and then every interval until stop(). */
  start(): void {
    const tick = (): void => {
      if (this.renewing) return;
      this.renewing = true;
      this.renew()
        .catch((err: unknown) => this.opts.log.warn('lease renewal failed', { node: this.opts.nodeName, error: err }))
        .finally(() => {
          this.renewing = false;
        });
    };
    tick();
    this.timer = setInterval(tick, this.opts.renewIntervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
