// The cluster DNS assembled: informers on Services and EndpointSlices feed the zone; the
// server answers from it once both have synced (before that a cluster name would wrongly be
// NXDOMAIN); then the kube-dns service and this instance's endpoint are registered, so
// traffic arrives only when answers are right, and kept registered every `resyncMs`.

import type { EndpointSlice, Service } from '@peapod/api';
import { Informer } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { ClusterZone } from './cluster-zone';
import type { Forwarder } from './forwarder';
import { Registration } from './registration';
import { DnsServer } from './server';

export interface ClusterDnsOptions {
  client: Client;
  domain: string;
  ttl: number;
  forwarder: Forwarder;
  address: string;
  port: number;
  /** register as kube-dns's endpoint, with this cluster IP for the service; undefined: serve only */
  register?: { clusterIP: string; instance: string; nodeName?: string };
  resyncMs: number;
  log: Logger;
}

export class ClusterDns {
  readonly zone: ClusterZone;
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly server: DnsServer;
  private registration?: Registration;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** the port the server listens on (after start) */
  port = 0;

  constructor(private readonly opts: ClusterDnsOptions) {
    this.zone = new ClusterZone(opts.domain, opts.ttl);
    this.services = new Informer<Service>(opts.client, 'services', { logger: opts.log });
    this.slices = new Informer<EndpointSlice>(opts.client, 'endpointslices', { logger: opts.log });
    this.services
      .on('add', (s) => this.zone.setService(s))
      .on('update', (_old, s) => this.zone.setService(s))
      .on('delete', (s) => this.zone.deleteService(s));
    this.slices
      .on('add', (s) => this.zone.setSlice(undefined, s))
      .on('update', (old, s) => this.zone.setSlice(old, s))
      .on('delete', (s) => this.zone.setSlice(s, undefined));
    this.server = new DnsServer({ zone: this.zone, forwarder: opts.forwarder, log: opts.log });
  }

  /** Resolves once it serves (and is registered), or at once when stop() came first. */
  async start(): Promise<void> {
    this.services.start();
    this.slices.start();
    try {
      await Promise.all([this.services.waitForSync(), this.slices.waitForSync()]);
    } catch (err) {
      if (this.stopped) return;
      throw err;
    }
    this.port = await this.server.listen(this.opts.address, this.opts.port);
    const { register } = this.opts;
    if (register) {
      this.registration = new Registration({ client: this.opts.client, log: this.opts.log, address: this.opts.address, port: this.port, ...register });
      await this.keepRegistered();
      this.timer = setInterval(() => void this.keepRegistered(), this.opts.resyncMs);
    }
  }

  /** Withdraws this instance's endpoint first, so that no query is sent to a server about to close. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.registration?.withdraw().catch((err: unknown) => this.opts.log.warn('could not withdraw the kube-dns endpoint', { error: err }));
    this.services.stop();
    this.slices.stop();
    await this.server.close();
  }

  private async keepRegistered(): Promise<void> {
    try {
      await this.registration?.ensure();
    } catch (err) {
      this.opts.log.warn('could not register as the kube-dns endpoint; retrying', { error: err, retryInMs: this.opts.resyncMs });
    }
  }
}
