import type { EndpointSlice, Service, SliceEndpoint } from '@peapod/api';
import { ClusterZone } from './cluster-zone';

function service(name: string, namespace: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec };
}

function slice(name: string, namespace: string, svc: string, endpoints: SliceEndpoint[], ports: EndpointSlice['ports']): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

function zone(): ClusterZone {
  const z = new ClusterZone('cluster.local', 5);
  z.setService(service('web', 'default', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 81 }] }));
  z.setService(service('db', 'shop', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }));
  z.setSlice(
    undefined,
    slice('db-a', 'shop', 'db', [
      { addresses: ['10.0.0.7'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.0.0.8'], conditions: { ready: true } },
      { addresses: ['10.0.0.9'], conditions: { ready: false, serving: true, terminating: true } },
    ], [{ name: 'pg', port: 6432, protocol: 'TCP' }]),
  );
  return z;
}

const data = (answer: ReturnType<ClusterZone['lookup']>) => answer?.answers.map((a) => `${a.type} ${JSON.stringify((a as { data: unknown }).data)}`);

describe('ClusterZone', () => {
  it('answers A for a service with its cluster IP, keeping the asker\'s case in the answer', () => {
    const r = zone().lookup('Web.Default.svc.cluster.local', 'A');
    expect(r?.rcode).toBe('NOERROR');
    expect(r?.answers).toEqual([{ name: 'Web.Default.svc.cluster.local', type: 'A', ttl: 5, data: '10.96.0.20' }]);
  });

  it('answers a headless service with its ready endpoints, and each endpoint by hostname or dashed IP', () => {
    const z = zone();
    expect(data(z.lookup('db.shop.svc.cluster.local', 'A'))).toEqual(['A "10.0.0.7"', 'A "10.0.0.8"']);
    expect(data(z.lookup('db-0.db.shop.svc.cluster.local', 'A'))).toEqual(['A "10.0.0.7"']);
    expect(data(z.lookup('10-0-0-8.db.shop.svc.cluster.local', 'A'))).toEqual(['A "10.0.0.8"']);
    // Terminating endpoints are not ready: no name.
    expect(z.lookup('10-0-0-9.db.shop.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
  });

  it('answers SRV for named ports: the service name for a cluster IP, each ready endpoint for a headless service', () => {
    const z = zone();
    const web = z.lookup('_http._tcp.web.default.svc.cluster.local', 'SRV');
    expect(web?.answers).toEqual([{ name: '_http._tcp.web.default.svc.cluster.local', type: 'SRV', ttl: 5, data: { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' } }]);
    expect(web?.additionals).toEqual([{ name: 'web.default.svc.cluster.local', type: 'A', ttl: 5, data: '10.96.0.20' }]);
    const db = z.lookup('_pg._tcp.db.shop.svc.cluster.local', 'SRV');
    expect(db?.answers.map((a) => (a as { data: { port: number; target: string } }).data)).toEqual([
      { priority: 0, weight: 50, port: 6432, target: 'db-0.db.shop.svc.cluster.local' },
      { priority: 0, weight: 50, port: 6432, target: '10-0-0-8.db.shop.svc.cluster.local' },
    ]);
    expect(db?.additionals.map((a) => `${a.name} ${(a as { data: string }).data}`)).toEqual(['db-0.db.shop.svc.cluster.local 10.0.0.7', '10-0-0-8.db.shop.svc.cluster.local 10.0.0.8']);
    // An unnamed port has no SRV name; a wrong protocol neither.
    expect(z.lookup('_81._tcp.web.default.svc.cluster.local', 'SRV')?.rcode).toBe('NXDOMAIN');
    expect(z.lookup('_http._udp.web.default.svc.cluster.local', 'SRV')?.rcode).toBe('NXDOMAIN');
    expect(z.lookup('_tcp.web.default.svc.cluster.local', 'SRV')?.rcode).toBe('NOERROR');
  });

  it('answers pods by their dashed IP, the zone\'s SOA and the schema version', () => {
    const z = zone();
    expect(data(z.lookup('10-244-1-5.default.pod.cluster.local', 'A'))).toEqual(['A "10.244.1.5"']);
    expect(z.lookup('10-244-1.default.pod.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    expect(z.lookup('cluster.local', 'SOA')?.answers[0].type).toBe('SOA');
    expect(data(z.lookup('dns-version.cluster.local', 'TXT'))).toEqual(['TXT "1.1.0"']);
  });

  it('is NXDOMAIN for names in the zone that do not exist, NODATA (with the SOA) for other types of names that do', () => {
    const z = zone();
    const missing = z.lookup('nope.default.svc.cluster.local', 'A');
    expect(missing?.rcode).toBe('NXDOMAIN');
    expect(missing?.authorities.map((a) => a.type)).toEqual(['SOA']);
    expect(z.lookup('web.nope.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    expect(z.lookup('nope.default.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    const aaaa = z.lookup('web.default.svc.cluster.local', 'AAAA');
    expect([aaaa?.rcode, aaaa?.answers.length, aaaa?.authorities[0].type]).toEqual(['NOERROR', 0, 'SOA']);
    // Names above the records exist (empty non-terminals), so a resolver walking its search list goes on.
    expect(z.lookup('default.svc.cluster.local', 'A')?.rcode).toBe('NOERROR');
    expect(z.lookup('svc.cluster.local', 'A')?.rcode).toBe('NOERROR');
  });

  it('leaves names outside the zone to the forwarder, and reverse names of addresses it does not know', () => {
    const z = zone();
    expect(z.lookup('example.com', 'A')).toBeUndefined();
    expect(z.lookup('svc.cluster.local.example.com', 'A')).toBeUndefined();
    expect(z.lookup('1.1.1.1.in-addr.arpa', 'PTR')).toBeUndefined();
    expect(data(z.lookup('20.0.96.10.in-addr.arpa', 'PTR'))).toEqual(['PTR "web.default.svc.cluster.local"']);
    expect(data(z.lookup('7.0.0.10.in-addr.arpa', 'PTR'))).toEqual(['PTR "db-0.db.shop.svc.cluster.local"']);
  });

  it('follows changes: a deleted service is gone, a slice update replaces its endpoints', () => {
    const z = zone();
    z.deleteService(service('web', 'default', {}));
    expect(z.lookup('web.default.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    expect(z.lookup('default.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    const old = slice('db-a', 'shop', 'db', [], []);
    z.setSlice(old, slice('db-a', 'shop', 'db', [{ addresses: ['10.0.0.10'] }], [{ name: 'pg', port: 6432, protocol: 'TCP' }]));
    expect(data(z.lookup('db.shop.svc.cluster.local', 'A'))).toEqual(['A "10.0.0.10"']);
    expect(z.lookup('7.0.0.10.in-addr.arpa', 'PTR')).toBeUndefined();
  });
});
