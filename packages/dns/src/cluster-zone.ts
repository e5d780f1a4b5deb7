// The cluster's DNS zone (cluster.local by default), following Kubernetes' DNS-based service
// discovery specification (the schema CoreDNS's kubernetes plugin serves):
//   SERVICE.NS.svc.ZONE                A: the cluster IP; for a headless service, its ready endpoints' IPs
//   HOST.SERVICE.NS.svc.ZONE           A: a headless service's endpoint, HOST its hostname or dashed IP
//   _PORT._PROTO.SERVICE.NS.svc.ZONE   SRV: a named port (per ready endpoint for a headless service)
//   A-B-C-D.NS.pod.ZONE                A: the pod IP A.B.C.D (as CoreDNS's "pods insecure")
//   dns-version.ZONE                   TXT: the schema version
//   ZONE                               SOA
// and PTR records for cluster IPs and headless endpoints. A name in the zone that is none of
// these is NXDOMAIN; a name that exists without records of the asked type is NODATA (the SOA
// in the authority section either way, for negative caching). Names outside the zone are not
// answered here (undefined): the server forwards them.

import { isIPv4 } from 'node:net';
import { endpointConditions, hasClusterIP, isHeadlessService, serviceNameLabel } from '@peapod/api';
import type { EndpointSlice, Service } from '@peapod/api';
import type { Answer, SrvAnswer } from 'dns-packet';
import { objectKey } from '@peapod/client';

export interface ZoneAnswer {
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** The version of the Kubernetes DNS specification these records follow. */
const schemaVersion = '1.1.0';

/** One record set of a name: every record it has, whatever the type. */
interface NameRecords {
  records: Answer[];
  /** A records of SRV targets, for the additional section */
  additionals: Answer[];
}

const exists: NameRecords = { records: [], additionals: [] };

function dashedIP(ip: string): string {
  return ip.replace(/\./g, '-');
}

function undashedIP(label: string): string | undefined {
  const ip = label.replace(/-/g, '.');
  return isIPv4(ip) ? ip : undefined;
}

interface ReadyEndpoint {
  ip: string;
  /** the endpoint's own name under its service: its hostname, else its dashed IP */
  host: string;
}

export class ClusterZone {
  private readonly services = new Map<string, Service>();
  private readonly servicesPerNamespace = new Map<string, number>();
  /** slices by their service's namespace/name, then by their own key */
  private readonly slices = new Map<string, Map<string, EndpointSlice>>();
  /** IP -> names it resolves from (PTR), rebuilt after a change on the next reverse lookup */
  private reverse?: Map<string, string[]>;

  constructor(
    readonly domain: string,
    private readonly ttl: number,
  ) {}

  setService(svc: Service): void {
    const key = objectKey(svc);
    if (!this.services.has(key)) this.countNamespace(svc.metadata.namespace ?? '', 1);
    this.services.set(key, svc);
    this.reverse = undefined;
  }

  deleteService(svc: Service): void {
    if (this.services.delete(objectKey(svc))) this.countNamespace(svc.metadata.namespace ?? '', -1);
    this.reverse = undefined;
  }

  setSlice(old: EndpointSlice | undefined, slice: EndpointSlice | undefined): void {
    if (old) this.slices.get(this.serviceKeyOf(old))?.delete(objectKey(old));
    if (slice?.metadata.labels?.[serviceNameLabel]) {
      const key = this.serviceKeyOf(slice);
      let byName = this.slices.get(key);
      if (!byName) this.slices.set(key, (byName = new Map()));
      byName.set(objectKey(slice), slice);
    }
    this.reverse = undefined;
  }

  /** The answer for a question (qtype as dns-packet names types: A, SRV, ANY...), or undefined when the name is not this server's to answer. */
  lookup(qname: string, qtype: string): ZoneAnswer | undefined {
    const name = qname.toLowerCase().replace(/\.$/, '');
    if (name.endsWith('.in-addr.arpa')) return this.reverseLookup(qname, name, qtype);
    if (name !== this.domain && !name.endsWith(`.${this.domain}`)) return undefined;
    const labels = name === this.domain ? [] : name.slice(0, -(this.domain.length + 1)).split('.');
    const found = this.recordsOf(labels);
    const answers = (found?.records ?? []).filter((r) => qtype === 'ANY' || r.type === qtype).map((r) => ({ ...r, name: qname }) as Answer);
    return {
      rcode: found ? 'NOERROR' : 'NXDOMAIN',
      answers,
      authorities: answers.length === 0 ? [this.soa()] : [],
      additionals: answers.length > 0 && qtype === 'SRV' ? (found?.additionals ?? []) : [],
    };
  }

  private countNamespace(ns: string, delta: number): void {
    const n = (this.servicesPerNamespace.get(ns) ?? 0) + delta;
    if (n > 0) this.servicesPerNamespace.set(ns, n);
    else this.servicesPerNamespace.delete(ns);
  }

  private serviceKeyOf(slice: EndpointSlice): string {
    return `${slice.metadata.namespace}/${slice.metadata.labels?.[serviceNameLabel] ?? ''}`;
  }

  private soa(): Answer {
    return {
      name: this.domain,
      type: 'SOA',
      ttl: this.ttl,
      data: {
        mname: `ns.dns.${this.domain}`,
        rname: `hostmaster.${this.domain}`,
        serial: Math.floor(Date.now() / 1000),
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: this.ttl,
      },
    };
  }

  private a(name: string, ip: string): Answer {
    return { name, type: 'A', ttl: this.ttl, data: ip };
  }

  /** The records of a name inside the zone (its labels before the zone), or undefined when it does not exist. */
  private recordsOf(labels: string[]): NameRecords | undefined {
    const n = labels.length;
    if (n === 0) return { records: [this.soa()], additionals: [] };
    const kind = labels[n - 1];
    if (n === 1) {
      if (kind === 'svc' || kind === 'pod') return exists;
      if (kind === 'dns-version') return { records: [{ name: '', type: 'TXT', ttl: this.ttl, data: schemaVersion }], additionals: [] };
      return undefined;
    }
    const ns = labels[n - 2];
    if (kind === 'pod') {
      if (n === 2) return exists;
      const ip = n === 3 ? undashedIP(labels[0]) : undefined;
      return ip ? { records: [this.a('', ip)], additionals: [] } : undefined;
    }
    if (kind !== 'svc') return undefined;
    if (n === 2) return this.servicesPerNamespace.has(ns) ? exists : undefined;
    const svc = this.services.get(`${ns}/${labels[n - 3]}`);
    if (!svc) return undefined;
    const svcName = `${labels[n - 3]}.${ns}.svc.${this.domain}`;
    if (n === 3) {
      if (isHeadlessService(svc)) return { records: this.readyEndpoints(svc).map((e) => this.a('', e.ip)), additionals: [] };
      return hasClusterIP(svc) ? { records: [this.a('', svc.spec!.clusterIP!)], additionals: [] } : exists;
    }
    if (n === 4) {
      if (labels[0].startsWith('_')) return this.protocolExists(svc, labels[0]) ? exists : undefined;
      const host = isHeadlessService(svc) ? this.readyEndpoints(svc).filter((e) => e.host === labels[0]) : [];
      return host.length > 0 ? { records: host.map((e) => this.a('', e.ip)), additionals: [] } : undefined;
    }
    if (n === 5 && labels[0].startsWith('_') && labels[1].startsWith('_')) return this.srv(svc, svcName, labels[0].slice(1), labels[1].slice(1));
    return undefined;
  }

  private protocolExists(svc: Service, protoLabel: string): boolean {
    return (svc.spec?.ports ?? []).some((p) => p.name && (p.protocol ?? 'TCP').toLowerCase() === protoLabel.slice(1));
  }

  private srv(svc: Service, svcName: string, portName: string, proto: string): NameRecords | undefined {
    const sp = (svc.spec?.ports ?? []).find((p) => p.name === portName && (p.protocol ?? 'TCP').toLowerCase() === proto);
    if (!sp) return undefined;
    const srv = (port: number, target: string, weight: number): SrvAnswer => ({ name: '', type: 'SRV', ttl: this.ttl, data: { priority: 0, weight, port, target } });
    if (!isHeadlessService(svc)) {
      const additionals = hasClusterIP(svc) ? [this.a(svcName, svc.spec!.clusterIP!)] : [];
      return { records: [srv(sp.port, svcName, 100)], additionals };
    }
    // A headless service's port is the endpoints' port: each slice says which number the name has.
    const records: Answer[] = [];
    const additionals: Answer[] = [];
    const targets = this.readyEndpoints(svc, sp.name, sp.protocol ?? 'TCP');
    const weight = Math.max(1, Math.floor(100 / Math.max(1, targets.length)));
    for (const e of targets) {
      const target = `${e.host}.${svcName}`;
      records.push(srv(e.port ?? sp.port, target, weight));
      additionals.push(this.a(target, e.ip));
    }
    return { records, additionals };
  }

  /** A headless service's ready endpoints, one per IP; with a port name, only those of slices that have that port. */
  private readyEndpoints(svc: Service, portName?: string, protocol?: string): (ReadyEndpoint & { port?: number })[] {
    const out = new Map<string, ReadyEndpoint & { port?: number }>();
    for (const slice of this.slices.get(objectKey(svc))?.values() ?? []) {
      if (slice.addressType !== 'IPv4') continue;
      let port: number | undefined;
      if (portName !== undefined) {
        port = slice.ports?.find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol)?.port;
        if (port === undefined) continue;
      }
      for (const ep of slice.endpoints ?? []) {
        const ip = ep.addresses?.[0];
        if (!ip || !isIPv4(ip) || !endpointConditions(ep).ready || out.has(ip)) continue;
        out.set(ip, { ip, host: ep.hostname ?? dashedIP(ip), ...(port !== undefined ? { port } : {}) });
      }
    }
    return [...out.values()];
  }

  private reverseLookup(qname: string, name: string, qtype: string): ZoneAnswer | undefined {
    const octets = name.slice(0, -'.in-addr.arpa'.length).split('.');
    const ip = octets.length === 4 ? octets.reverse().join('.') : '';
    const names = isIPv4(ip) ? this.reverseIndex().get(ip) : undefined;
    // Addresses that are not the cluster's belong to the upstream resolvers.
    if (!names) return undefined;
    const answers: Answer[] = qtype === 'PTR' || qtype === 'ANY' ? names.map((target) => ({ name: qname, type: 'PTR', ttl: this.ttl, data: target })) : [];
    return { rcode: 'NOERROR', answers, authorities: answers.length === 0 ? [this.soa()] : [], additionals: [] };
  }

  private reverseIndex(): Map<string, string[]> {
    if (this.reverse) return this.reverse;
    const index = new Map<string, string[]>();
    const add = (ip: string, target: string) => index.set(ip, [...(index.get(ip) ?? []), target]);
    for (const svc of this.services.values()) {
      const svcName = `${svc.metadata.name}.${svc.metadata.namespace}.svc.${this.domain}`;
      if (hasClusterIP(svc) && isIPv4(svc.spec!.clusterIP!)) add(svc.spec!.clusterIP!, svcName);
      if (isHeadlessService(svc)) for (const e of this.readyEndpoints(svc)) add(e.ip, `${e.host}.${svcName}`);
    }
    this.reverse = index;
    return index;
  }
}
