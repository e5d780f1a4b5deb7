// Leader election on a coordination.k8s.io/v1 Lease, as Kubernetes' components elect one
// active scheduler and controller manager among several: each candidate reads the lease every
// retry period and takes it, by an update carrying the resourceVersion it read, when its holder
// has not renewed it for a whole lease duration as this process measures time (the holder's
// clock is never compared with ours). The leader renews every retry period and gives up the
// moment it has failed to renew for the renew deadline, which is shorter than the lease
// duration, so it stops before anyone else may start. A clean stop releases the lease, so a
// successor takes over at once instead of waiting for it to run out.

import { hostname } from 'os';
import { randomUUID } from 'crypto';
import { microTime } from '@peapod/api';
import type { Lease } from '@peapod/api';
import { isAlreadyExists, isConflict, isNotFound } from './errors';
import type { Logger } from './log';
import type { Client } from './rest';

export interface LeaderElectionConfig {
  client: Client;
  log: Logger;
  /** The lease's name (kube-scheduler, kube-controller-manager) and namespace (kube-system). */
  name: string;
  namespace: string;
  /** Who this candidate is, unique among candidates: host name and a random suffix by default. */
  identity?: string;
  /** How long a lease holds without renewal before another candidate may take it. */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it stops leading. */
  renewDeadlineMs: number;
  /** How often candidates try to take the lease and the leader renews it. */
  retryPeriodMs: number;
}

/** What runs while this process leads; stopped the moment it does not. */
export interface Term {
  stop(): Promise<void>;
}

/** A candidate's identity as Kubernetes' components make it: the host name and a unique suffix. */
export function candidateIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/** The timings must leave the leader time to stop before its lease runs out, and room for retries within the deadline. */
export function checkLeaderElectionTimings(c: Pick<LeaderElectionConfig, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>): void {
  if (c.retryPeriodMs <= 0) throw new Error('the leader election retry period must be positive');
  if (c.leaseDurationMs <= c.renewDeadlineMs) throw new Error('the leader election lease duration must be longer than the renew deadline');
  if (c.renewDeadlineMs <= c.retryPeriodMs * jitterFactor) throw new Error(`the leader election renew deadline must be longer than ${jitterFactor} times the retry period`);
}

// Candidates' retries are spread so they do not all ask at the same moment.
const jitterFactor = 1.2;
// A lease counts as run out strictly after its duration: the attempt at expiry comes just after.
const expiryMarginMs = 10;

export class LeaderElector {
  readonly identity: string;
  private readonly cfg: LeaderElectionConfig;
  /** The lease as last read or written, and when (by our clock) its content last changed. */
  private observed: Lease | undefined;
  private observedSpec = '';
  private observedAt = 0;
  private leading = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private leader = '';

  constructor(cfg: LeaderElectionConfig) {
    checkLeaderElectionTimings(cfg);
    this.cfg = cfg;
    this.identity = cfg.identity ?? candidateIdentity();
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The identity the lease names as holder, as last seen ('' when none). */
  get currentLeader(): string {
    return this.leader;
  }

  /** Campaigns until stop(): `lead` starts the work each time this process becomes the leader. */
  run(lead: () => Term): void {
    if (this.loop) throw new Error('leader election is already running');
    this.loop = this.campaign(lead).catch(async (err: unknown) => {
      this.cfg.log.error('leader election ended with an error', { lease: this.cfg.name, error: err });
      this.leading = false;
      await this.release();
    });
  }

  /** Stops campaigning; when leading, stops the work first and then releases the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async campaign(lead: () => Term): Promise<void> {
    const { log, name, namespace } = this.cfg;
    while (!this.stopped) {
      log.info('attempting to acquire leader lease', { lease: `${namespace}/${name}`, identity: this.identity });
      while (!this.stopped && !(await this.attempt(this.cfg.renewDeadlineMs))) await this.sleep(this.untilNextAttempt());
      if (this.stopped) {
        // Stopped just as an attempt took the lease: give it back.
        await this.release();
        return;
      }
      this.leading = true;
      log.info('successfully acquired lease', { lease: `${namespace}/${name}`, identity: this.identity });
      const term = lead();
      await this.renewWhileLeading();
      this.leading = false;
      await term.stop().catch((err: unknown) => log.error('stopping the leader\'s work failed', { error: err }));
      if (this.stopped) {
        await this.release();
        return;
      }
      log.warn('leader election lost', { lease: `${namespace}/${name}`, identity: this.identity });
    }
  }

  /**
   * Renews every retry period; returns when stopped, when another candidate holds the lease, or
   * when no renewal succeeded within the renew deadline.
   */
  private async renewWhileLeading(): Promise<void> {
    let renewedAt = Date.now();
    while (!this.stopped) {
      await this.sleep(this.cfg.retryPeriodMs);
      if (this.stopped) return;
      const left = renewedAt + this.cfg.renewDeadlineMs - Date.now();
      if (left > 0 && (await this.attempt(left))) renewedAt = Date.now();
      else if (this.leader !== this.identity || Date.now() - renewedAt >= this.cfg.renewDeadlineMs) return;
    }
  }

  /** A retry period, jittered; sooner if the holder's lease runs out before then, so a dead leader is replaced as soon as allowed. */
  private untilNextAttempt(): number {
    const retry = jittered(this.cfg.retryPeriodMs);
    const durationMs = (this.observed?.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (this.leader === '' || durationMs === 0) return retry;
    return Math.min(retry, Math.max(0, this.observedAt + durationMs - Date.now()) + expiryMarginMs);
  }

  /** One try to take or renew the lease, abandoned after `withinMs`. */
  private async attempt(withinMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), withinMs);
    });
    try {
      return await Promise.race([this.tryAcquireOrRenew(), late]);
    } catch (err) {
      this.cfg.log.debug('leader lease attempt failed', { lease: this.cfg.name, error: err });
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private spec(previous: Lease['spec']): NonNullable<Lease['spec']> {
    const now = microTime();
    const ours = previous?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.cfg.leaseDurationMs / 1000),
      acquireTime: ours && previous?.acquireTime ? previous.acquireTime : now,
      renewTime: now,
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (ours || previous === undefined ? 0 : 1),
    };
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, name, namespace } = this.cfg;
    // The leader renews the lease it last wrote without reading it first; a conflict means
    // someone else wrote it, and the read below decides.
    if (this.leading && this.observed) {
      try {
        this.see(await client.update<Lease>('leases', { ...this.observed, spec: this.spec(this.observed.spec) }, { namespace }));
        return true;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    let lease: Lease;
    try {
      lease = await client.get<Lease>('leases', name, { namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        const created = await client.create<Lease>(
          'leases',
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: this.spec(undefined) },
          { namespace },
        );
        this.see(created);
        return true;
      } catch (createErr) {
        if (isAlreadyExists(createErr)) return false;
        throw createErr;
      }
    }
    this.see(lease);
    const holder = lease.spec?.holderIdentity ?? '';
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== this.identity && this.observedAt + durationMs > Date.now()) return false;
    try {
      this.see(await client.update<Lease>('leases', { ...lease, spec: this.spec(lease.spec) }, { namespace }));
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Notes the lease; its content changing restarts the clock on the holder's lease. */
  private see(lease: Lease): void {
    const spec = JSON.stringify(lease.spec ?? {});
    if (spec !== this.observedSpec) {
      this.observedSpec = spec;
      this.observedAt = Date.now();
    }
    this.observed = lease;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.leader) {
      this.leader = holder;
      if (holder !== '' && holder !== this.identity) this.cfg.log.info('new leader elected', { lease: this.cfg.name, leader: holder });
    }
  }

  /** Gives the lease up (no holder, a one-second duration) if it is still ours, so a successor need not wait. */
  private async release(): Promise<void> {
    const observed = this.observed;
    if (!observed || observed.spec?.holderIdentity !== this.identity) return;
    const now = microTime();
    try {
      await this.cfg.client.update<Lease>(
        'leases',
        { ...observed, spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: observed.spec?.leaseTransitions ?? 0 } },
        { namespace: this.cfg.namespace },
      );
      this.cfg.log.info('released leader lease', { lease: `${this.cfg.namespace}/${this.cfg.name}` });
    } catch (err) {
      this.cfg.log.warn('could not release the leader lease; it runs out on its own', { error: err });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

function jittered(ms: number): number {
  return ms * (1 + Math.random() * (jitterFactor - 1));
}

/**
 * Runs `lead` under leader election when `config` is given (the work starts when this process
 * leads and stops when it does not), else at once; stop() ends either cleanly.
 */
export function runLeaderElected(config: LeaderElectionConfig | undefined, lead: () => Term): Term {
  if (config === undefined) return lead();
  const elector = new LeaderElector(config);
  elector.run(lead);
  return { stop: () => elector.stop() };
}
