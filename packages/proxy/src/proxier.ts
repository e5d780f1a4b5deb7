// The service proxy of one node: informers on Services, EndpointSlices and this node's Node;
// every change that matters asks for a sync, as the one key of a work queue (a burst of
// changes is one sync; a failed sync is retried with back-off); a sync writes the node's
// whole table in one nft transaction (see nft/ruleset.ts). Nothing is written before every
// informer has synced: until then the rules a previous run left keep traffic flowing.

import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { serviceNameLabel } from '@peapod/api';
import type { EndpointSlice, Node, Service } from '@peapod/api';
import { Informer, WorkQueue, objectKey } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { enableHairpin } from './hairpin';
import { deleteScript, syncScript, type TableObjects } from './nft/ruleset';
import type { Nft } from './nft/nft';
import type { PodNetwork } from './pod-network';
import { servicePortEntries } from './service-ports';

export interface ProxierOptions {
  client: Client;
  nodeName: string;
  nft: Nft;
  /** the nftables table this proxy owns (see tableName) */
  table: string;
  network: PodNetwork;
  serviceCIDR: string;
  /** --nodeport-addresses; default: the node's InternalIP (unless loopback) and the host's address on the pod network */
  nodePortAddresses?: string[];
  /** put the pod bridge's ports in hairpin mode after each sync */
  hairpin: boolean;
  /** how often the table is rewritten even without changes (repairs what others changed) */
  syncPeriodMs: number;
  log: Logger;
}

/** nftables names are at most 256 bytes: a long node name is shortened with a hash of it. */
export function tableName(nodeName: string): string {
  const name = `peapod-proxy-${nodeName}`;
  if (name.length <= 200) return name;
  return `${name.slice(0, 180)}-${createHash('sha256').update(nodeName).digest('hex').slice(0, 16)}`;
}

type SyncKey = 'sync';

export class Proxier {
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly nodes: Informer<Node>;
  /** slices by their service's namespace/name, then by their own key */
  private readonly slicesByService = new Map<string, Map<string, EndpointSlice>>();
  private readonly queue: WorkQueue<SyncKey>;
  /** what the table holds after the last sync that worked; undefined: ask nft */
  private objects?: TableObjects;
  private lastScript = '';
  private forceNext = true;
  private worker?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private synced = false;
  private stopped = false;
  private syncs = 0;

  constructor(private readonly opts: ProxierOptions) {
    const { client, log } = opts;
    this.queue = new WorkQueue<SyncKey>({ baseDelayMs: 500, maxDelayMs: 30_000, logger: log });
    this.services = new Informer<Service>(client, 'services', { logger: log });
    this.slices = new Informer<EndpointSlice>(client, 'endpointslices', { logger: log });
    this.nodes = new Informer<Node>(client, 'nodes', { fieldSelector: `metadata.name=${opts.nodeName}`, logger: log });
    const changed = (): void => this.queue.add('sync');
    this.services.on('add', changed).on('update', changed).on('delete', changed);
    this.slices
      .on('add', (s) => this.indexSlice(undefined, s))
      .on('update', (old, s) => this.indexSlice(old, s))
      .on('delete', (s) => this.indexSlice(s, undefined));
    // Heartbeats update the Node often; only its addresses matter here.
    this.nodes
      .on('add', changed)
      .on('update', (old, node) => {
        if (JSON.stringify(old.status?.addresses) !== JSON.stringify(node.status?.addresses)) changed();
      })
      .on('delete', changed);
  }

  /** Resolves once the first sync is queued, or at once when stop() came first. */
  async start(): Promise<void> {
    for (const informer of [this.services, this.slices, this.nodes]) informer.start();
    try {
      await Promise.all([this.services.waitForSync(), this.slices.waitForSync(), this.nodes.waitForSync()]);
    } catch (err) {
      if (this.stopped) return;
      throw err;
    }
    this.synced = true;
    this.worker = this.queue.run(() => this.sync());
    this.queue.add('sync');
    this.timer = setInterval(() => {
      this.forceNext = true;
      this.queue.add('sync');
    }, this.opts.syncPeriodMs);
  }

  /** Stops watching and removes the table: nothing of this proxy stays behind. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const informer of [this.services, this.slices, this.nodes]) informer.stop();
    this.queue.shutdown();
    await this.worker;
    await this.opts.nft.apply(deleteScript(this.opts.table));
  }

  private indexSlice(old: EndpointSlice | undefined, slice: EndpointSlice | undefined): void {
    const serviceOf = (s: EndpointSlice) => `${s.metadata.namespace}/${s.metadata.labels?.[serviceNameLabel] ?? ''}`;
    if (old) this.slicesByService.get(serviceOf(old))?.delete(objectKey(old));
    if (slice?.metadata.labels?.[serviceNameLabel]) {
      const key = serviceOf(slice);
      let slices = this.slicesByService.get(key);
      if (!slices) this.slicesByService.set(key, (slices = new Map()));
      slices.set(objectKey(slice), slice);
    }
    this.queue.add('sync');
  }

  private nodePortAddresses(): string[] {
    if (this.opts.nodePortAddresses) return this.opts.nodePortAddresses;
    const addresses = new Set<string>();
    const node = this.nodes.get(this.opts.nodeName);
    for (const a of node?.status?.addresses ?? []) {
      // A loopback address cannot be DNATed to a pod (its packets never leave the host).
      if (a.type === 'InternalIP' && isIPv4(a.address) && !a.address.startsWith('127.')) addresses.add(a.address);
    }
    if (this.opts.network.gateway) addresses.add(this.opts.network.gateway);
    return [...addresses].sort();
  }

  private async sync(): Promise<void> {
    if (!this.synced) return;
    const started = Date.now();
    const entries = servicePortEntries(this.services.list(), (key) => [...(this.slicesByService.get(key)?.values() ?? [])]);
    const table = {
      name: this.opts.table,
      clusterCIDR: this.opts.network.cidr,
      serviceCIDR: this.opts.serviceCIDR,
      nodePortAddresses: this.nodePortAddresses(),
    };
    const existing = this.objects ?? (await this.opts.nft.listTable(this.opts.table));
    const { script, objects } = syncScript(table, entries, existing);
    if (script === this.lastScript && !this.forceNext) return;
    this.forceNext = false;
    // Unknown until the transaction has gone through: a failed one is retried from a fresh listing.
    this.objects = undefined;
    this.lastScript = '';
    await this.opts.nft.apply(script);
    this.objects = objects;
    this.lastScript = script;
    if (this.opts.hairpin && this.opts.network.bridge) {
      const changed = await enableHairpin(this.opts.network.bridge).catch((err: unknown) => {
        this.opts.log.warn('could not put the pod bridge\'s ports in hairpin mode', { bridge: this.opts.network.bridge, error: err });
        return 0;
      });
      if (changed > 0) this.opts.log.debug('hairpin mode on', { bridge: this.opts.network.bridge, ports: changed });
    }
    this.syncs++;
    const fields = {
      table: this.opts.table,
      servicePorts: entries.length,
      endpoints: entries.reduce((n, e) => n + e.endpoints.length, 0),
      durationMs: Date.now() - started,
    };
    if (this.syncs === 1) this.opts.log.info('rules written', fields);
    else this.opts.log.debug('rules written', fields);
  }
}
