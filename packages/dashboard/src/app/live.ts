// Wires the informers to the store: every change goes through one Batcher, so the store and
// the page change at most once per 100 ms, whatever the rate of watch events.

import { Batcher } from './state/batcher';
import { Informer } from './state/informer';
import type { Transport } from './state/informer';
import { Store } from './state/store';
import type { Change, Kind } from './state/store';

/** What the page watches, and where. */
export const collections: readonly { kind: Kind; path: string }[] = [
  { kind: 'nodes', path: '/api/v1/nodes' },
  { kind: 'pods', path: '/api/v1/pods' },
  { kind: 'leases', path: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases' },
  { kind: 'events', path: '/api/v1/events' },
  { kind: 'controllers', path: '/api/v1/replicationcontrollers' },
  { kind: 'services', path: '/api/v1/services' },
  { kind: 'endpoints', path: '/api/v1/endpoints' },
  { kind: 'endpointslices', path: '/apis/discovery.k8s.io/v1/endpointslices' },
];

export class Live {
  readonly store = new Store();
  /** bumped after each applied batch */
  version = 0;
  private readonly listeners = new Set<() => void>();
  private readonly batcher = new Batcher<Change>((changes) => {
    this.store.apply(changes);
    this.version++;
    for (const l of this.listeners) l();
  });
  private readonly informers: Informer[];

  constructor(transport: Transport) {
    this.informers = collections.map((c) => new Informer(c.kind, c.path, transport, (change) => this.batcher.push(change)));
  }

  start(): void {
    for (const i of this.informers) i.start();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
