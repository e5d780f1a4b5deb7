// Cluster IPs and node ports of services. Each address or port in use is a record in storage
// under its own key (/ipaddresses/10.96.0.10, /servicenodeports/30080), naming the service
// that holds it, as Kubernetes' IPAddress objects do: a record is created only if its key is
// absent, so no address is handed out twice, whatever the number of concurrent creates or API
// servers, and nothing of it lives only in memory, so a restart finds every allocation. A
// record whose service never got written (a crash in between) is reclaimed by repair().

import type { KubeObject, Service, StatusCause } from '@peapod/api';
import { clusterIPNone, fieldInvalid, ipv4ToNumber, numberToIPv4, rfc3339, type IPv4Range } from '@peapod/api';
import { KeyExistsError, KeyNotFoundError, type Store } from '../storage/types';
import { invalid, StatusError } from '../errors';
import type { PortRange } from './service-ranges';
import type { FinishWrite } from './strategy';

/** The service a record belongs to. */
interface ParentRef {
  resource: 'services';
  namespace: string;
  name: string;
  uid: string;
}

interface AllocationRecord extends KubeObject {
  spec: { parentRef: ParentRef };
}

/** A record younger than this may belong to a create still on its way to storage: repair leaves it. */
const repairGraceMs = 60_000;

/**
 * One range of numbered slots (addresses or ports), each in use while its record exists.
 * Requested values are taken anywhere in the range; values handed out by the server come
 * first from the upper part, leaving the lower band to those who ask for a fixed value (as
 * Kubernetes' static/dynamic bands do), so that those requests seldom collide.
 */
class SlotRange {
  constructor(
    private readonly store: Store,
    private readonly prefix: string,
    private readonly kind: string,
    private readonly first: number,
    private readonly count: number,
    private readonly format: (n: number) => string,
    private readonly now: () => Date,
  ) {}

  contains(n: number): boolean {
    return n >= this.first && n < this.first + this.count;
  }

  key(n: number): string {
    return `${this.prefix}${this.format(n)}`;
  }

  async holder(n: number): Promise<ParentRef | undefined> {
    return ((await this.store.get(this.key(n)))?.object as AllocationRecord | undefined)?.spec.parentRef;
  }

  /** Whether n looks taken, as this API server last heard (a hint to skip it: only take() decides). */
  private seemsHeld(n: number): boolean {
    return this.store.cache.get(this.key(n)) !== undefined;
  }

  /** Takes n for the parent; false when another holds it. With dryRun nothing is written. */
  async take(n: number, parent: ParentRef, dryRun: boolean): Promise<boolean> {
    const held = await this.holder(n);
    if (held) return held.uid === parent.uid;
    if (dryRun) return true;
    try {
      await this.store.create(this.key(n), this.record(n, parent));
      return true;
    } catch (err) {
      if (err instanceof KeyExistsError) return false;
      throw err;
    }
  }

  /** A free value taken for the parent, or undefined when the range is full. */
  async next(parent: ParentRef, dryRun: boolean, avoid: ReadonlySet<number> = new Set()): Promise<number | undefined> {
    const band = Math.min(Math.max(16, Math.floor(this.count / 16)), 256);
    const dynamic: [number, number] = this.count > 2 * band ? [band, this.count] : [0, this.count];
    const order: [number, number][] = [dynamic, [0, dynamic[0]]];
    for (const [from, to] of order) {
      const span = to - from;
      if (span <= 0) continue;
      const start = Math.floor(Math.random() * span);
      for (let i = 0; i < span; i++) {
        const n = this.first + from + ((start + i) % span);
        if (avoid.has(n) || this.seemsHeld(n)) continue;
        if (await this.take(n, parent, dryRun)) return n;
      }
    }
    return undefined;
  }

  /** Frees n if this parent holds it. */
  async release(n: number, parentUid: string): Promise<void> {
    try {
      await this.store.delete(this.key(n), {}, (current) => {
        if ((current as AllocationRecord).spec.parentRef.uid !== parentUid) throw new HeldByAnother();
      });
    } catch (err) {
      if (!(err instanceof KeyNotFoundError) && !(err instanceof HeldByAnother)) throw err;
    }
  }

  async records(): Promise<{ n: string; parent: ParentRef; created: number }[]> {
    return (await this.store.list(this.prefix)).items.map((e) => ({
      n: e.key.slice(this.prefix.length),
      parent: (e.object as AllocationRecord).spec.parentRef,
      created: Date.parse(e.object.metadata.creationTimestamp ?? '') || 0,
    }));
  }

  async removeRecord(n: string): Promise<void> {
    try {
      await this.store.delete(`${this.prefix}${n}`);
    } catch (err) {
      if (!(err instanceof KeyNotFoundError)) throw err;
    }
  }

  private record(n: number, parent: ParentRef): AllocationRecord {
    return {
      apiVersion: 'v1',
      kind: this.kind,
      metadata: { name: this.format(n), creationTimestamp: rfc3339(this.now()) },
      spec: { parentRef: parent },
    };
  }
}

/** A record that another service holds: not this one's to free. */
class HeldByAnother extends Error {}

function parentOf(svc: Service): ParentRef {
  return { resource: 'services', namespace: svc.metadata.namespace ?? '', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '' };
}

/** The cluster IPs a service holds (none when headless). */
function heldIPs(svc: Service | undefined): string[] {
  return (svc?.spec?.clusterIPs ?? []).filter((ip) => ip && ip !== clusterIPNone);
}

/** The node ports a service holds. */
function heldNodePorts(svc: Service | undefined): number[] {
  return [...new Set((svc?.spec?.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => n > 0))];
}

function needsNodePorts(svc: Service): boolean {
  return svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer';
}

export class ServiceAllocator {
  private readonly ips: SlotRange;
  private readonly ports: SlotRange;

  constructor(
    store: Store,
    readonly ipRange: IPv4Range,
    readonly portRange: PortRange,
    now: () => Date = () => new Date(),
  ) {
    // Network and broadcast addresses are never given out.
    this.ips = new SlotRange(store, '/ipaddresses/', 'IPAddress', ipRange.network + 1, ipRange.size - 2, numberToIPv4, now);
    this.ports = new SlotRange(store, '/servicenodeports/', 'ServiceNodePort', portRange.base, portRange.size, String, now);
  }

  /** The first address of the range: the `kubernetes` service's. */
  get firstIP(): string {
    return numberToIPv4(this.ipRange.network + 1);
  }

  /**
   * Fills in and reserves the cluster IP and node ports of a service about to be written
   * (old: its stored version on update). A taken or out-of-range request is a 422 on the
   * field; nothing stays reserved when this throws.
   */
  async allocate(svc: Service, old: Service | undefined, dryRun: boolean): Promise<FinishWrite> {
    const parent = parentOf(svc);
    const taken: { range: SlotRange; n: number }[] = [];
    const undo = async (): Promise<void> => {
      if (dryRun) return;
      for (const t of taken) await t.range.release(t.n, parent.uid);
    };
    try {
      if (!old) await this.allocateClusterIP(svc, parent, dryRun, taken);
      await this.allocateNodePorts(svc, old, parent, dryRun, taken);
    } catch (err) {
      await undo();
      throw err;
    }
    return async (written) => {
      if (!written) await undo();
      else if (old && !dryRun) await this.releaseUnused(old, svc);
    };
  }

  /** Gives back what a deleted service held. */
  async release(svc: Service): Promise<void> {
    const uid = svc.metadata.uid ?? '';
    for (const ip of heldIPs(svc)) await this.ips.release(ipv4ToNumber(ip), uid);
    for (const port of heldNodePorts(svc)) await this.ports.release(port, uid);
  }

  /**
   * Makes the records agree with the stored services: a record whose service is gone (or
   * no longer holds it) is removed once it is old enough not to be a create in flight, and a
   * service's address or port without its record gets one (unless another service holds it).
   */
  async repair(services: Service[], now = Date.now()): Promise<{ removed: number; added: number }> {
    const holds = new Map<string, Set<string>>();
    for (const svc of services) {
      const uid = svc.metadata.uid ?? '';
      holds.set(uid, new Set([...heldIPs(svc).map((ip) => `ip:${ip}`), ...heldNodePorts(svc).map((p) => `port:${p}`)]));
    }
    let removed = 0;
    let added = 0;
    for (const [range, tag] of [[this.ips, 'ip'], [this.ports, 'port']] as const) {
      for (const r of await range.records()) {
        if (holds.get(r.parent.uid)?.has(`${tag}:${r.n}`) || now - r.created < repairGraceMs) continue;
        await range.removeRecord(r.n);
        removed++;
      }
    }
    for (const svc of services) {
      const parent = parentOf(svc);
      for (const ip of heldIPs(svc)) {
        const n = ipv4ToNumber(ip);
        if (this.ips.contains(n) && !(await this.ips.holder(n)) && (await this.ips.take(n, parent, false))) added++;
      }
      for (const port of heldNodePorts(svc)) {
        if (this.ports.contains(port) && !(await this.ports.holder(port)) && (await this.ports.take(port, parent, false))) added++;
      }
    }
    return { removed, added };
  }

  private async allocateClusterIP(svc: Service, parent: ParentRef, dryRun: boolean, taken: { range: SlotRange; n: number }[]): Promise<void> {
    const spec = svc.spec!;
    if (spec.clusterIPs?.[0] === clusterIPNone) return;
    const requested = spec.clusterIPs?.[0];
    if (requested) {
      const cause = await this.reserveIP(requested, parent, dryRun, taken);
      if (cause) throw invalid('Service', parent.name, [cause]);
      return;
    }
    const n = await this.ips.next(parent, dryRun);
    if (n === undefined) throw new StatusError(500, 'Internal error occurred: failed to allocate a serviceIP: range is full', { reason: 'InternalError' });
    if (!dryRun) taken.push({ range: this.ips, n });
    spec.clusterIP = numberToIPv4(n);
    spec.clusterIPs = [spec.clusterIP];
  }

  private async reserveIP(ip: string, parent: ParentRef, dryRun: boolean, taken: { range: SlotRange; n: number }[]): Promise<StatusCause | undefined> {
    const field = 'spec.clusterIPs[0]';
    const n = ipv4ToNumber(ip);
    if (!this.ips.contains(n)) {
      return fieldInvalid(field, ip, `failed to allocate IP ${ip}: provided IP is not in the valid range. The range of valid IPs is ${this.ipRange.cidr}`);
    }
    const fresh = !(await this.ips.holder(n));
    if (!(await this.ips.take(n, parent, dryRun))) return fieldInvalid(field, ip, `failed to allocate IP ${ip}: provided IP is already allocated`);
    if (fresh && !dryRun) taken.push({ range: this.ips, n });
    return undefined;
  }

  /**
   * Node ports for each port of a NodePort service: a requested one is reserved unless the
   * old version already held it; a port without one gets the node port another port of the
   * same number has, or a fresh one.
   */
  private async allocateNodePorts(svc: Service, old: Service | undefined, parent: ParentRef, dryRun: boolean, taken: { range: SlotRange; n: number }[]): Promise<void> {
    const ports = svc.spec?.ports ?? [];
    const oldHeld = new Set(heldNodePorts(old));
    const byPort = new Map<number, number>();
    const causes: StatusCause[] = [];
    for (const [i, p] of ports.entries()) {
      const requested = p.nodePort ?? 0;
      if (requested === 0 && !needsNodePorts(svc)) continue;
      if (requested !== 0) {
        byPort.set(p.port, requested);
        if (oldHeld.has(requested) || taken.some((t) => t.range === this.ports && t.n === requested)) continue;
        const field = `spec.ports[${i}].nodePort`;
        if (!this.ports.contains(requested)) {
          causes.push(fieldInvalid(field, requested, `provided port is not in the valid range. The range of valid ports is ${this.portRange.text}`));
          continue;
        }
        const fresh = !(await this.ports.holder(requested));
        if (!(await this.ports.take(requested, parent, dryRun))) {
          causes.push(fieldInvalid(field, requested, 'provided port is already allocated'));
          continue;
        }
        if (fresh && !dryRun) taken.push({ range: this.ports, n: requested });
        continue;
      }
      const sibling = byPort.get(p.port) ?? ports.find((q) => q.port === p.port && q.nodePort)?.nodePort;
      if (sibling) {
        p.nodePort = sibling;
        byPort.set(p.port, sibling);
        continue;
      }
      const avoid = new Set(ports.map((q) => q.nodePort ?? 0));
      const n = await this.ports.next(parent, dryRun, avoid);
      if (n === undefined) throw new StatusError(500, 'Internal error occurred: failed to allocate a nodePort: range is full', { reason: 'InternalError' });
      if (!dryRun) taken.push({ range: this.ports, n });
      p.nodePort = n;
      byPort.set(p.port, n);
    }
    if (causes.length) throw invalid('Service', parent.name, causes);
  }

  /** After an update: what the old version held and the new one does not is free again. */
  private async releaseUnused(old: Service, svc: Service): Promise<void> {
    const uid = old.metadata.uid ?? '';
    const keepPorts = new Set(heldNodePorts(svc));
    for (const port of heldNodePorts(old)) if (!keepPorts.has(port)) await this.ports.release(port, uid);
    const keepIPs = new Set(heldIPs(svc));
    for (const ip of heldIPs(old)) if (!keepIPs.has(ip)) await this.ips.release(ipv4ToNumber(ip), uid);
  }
}
