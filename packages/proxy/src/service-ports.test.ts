import type { EndpointSlice, Service, SliceEndpoint } from '@peapod/api';
import { servicePortEntries } from './service-ports';

function service(name: string, spec: Service['spec'], namespace = 'default'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec };
}

function slice(name: string, endpoints: SliceEndpoint[], ports: EndpointSlice['ports'], addressType: EndpointSlice['addressType'] = 'IPv4'): EndpointSlice {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'default' }, addressType, endpoints, ports };
}

const ep = (ip: string, conditions?: SliceEndpoint['conditions']): SliceEndpoint => ({ addresses: [ip], ...(conditions ? { conditions } : {}) });

describe('servicePortEntries', () => {
  it('gives each port of a service with a cluster IP its ready endpoints, ordered, deduplicated across slices', () => {
    const web = service('web', { type: 'NodePort', clusterIP: '10.96.0.20', externalIPs: ['192.0.2.7'], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP' }] });
    const slices = [
      slice('web-a', [ep('10.0.0.9'), ep('10.0.0.10', { ready: false, serving: false, terminating: false })], [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }]),
      slice('web-b', [ep('10.0.0.9'), ep('10.0.0.2', { ready: true })], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
    ];
    const entries = servicePortEntries([web], (key) => (key === 'default/web' ? slices : []));
    expect(entries).toEqual([
      { id: 'default/web/tcp/80', protocol: 'tcp', addresses: ['10.96.0.20', '192.0.2.7'], port: 80, nodePort: 30080, endpoints: [{ ip: '10.0.0.2', port: 8080 }, { ip: '10.0.0.9', port: 8080 }] },
      { id: 'default/web/udp/53', protocol: 'udp', addresses: ['10.96.0.20', '192.0.2.7'], port: 53, endpoints: [{ ip: '10.0.0.9', port: 5353 }] },
    ]);
  });

  it('uses serving terminating endpoints only when none is ready, as Kubernetes does', () => {
    const web = service('web', { clusterIP: '10.96.0.20', ports: [{ port: 80 }] });
    const leaving = ep('10.0.0.3', { ready: false, serving: true, terminating: true });
    const gone = ep('10.0.0.4', { ready: false, serving: false, terminating: true });
    const ports = [{ port: 80, protocol: 'TCP' as const }];
    const with1Ready = servicePortEntries([web], () => [slice('s', [leaving, gone, ep('10.0.0.5')], ports)]);
    expect(with1Ready[0].endpoints).toEqual([{ ip: '10.0.0.5', port: 80 }]);
    const noneReady = servicePortEntries([web], () => [slice('s', [leaving, gone], ports)]);
    expect(noneReady[0].endpoints).toEqual([{ ip: '10.0.0.3', port: 80 }]);
  });

  it('skips headless services, other address types and IPv6; keeps ports without endpoints; reads sessionAffinity', () => {
    const headless = service('db', { clusterIP: 'None', ports: [{ port: 5432 }] });
    const sticky = service('cart', { clusterIP: '10.96.0.30', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] });
    const custom = service('api', { clusterIP: '10.96.0.31', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] }, 'shop');
    const entries = servicePortEntries([headless, sticky, custom], () => [slice('s', [ep('fd00::1')], [{ port: 80 }], 'IPv6'), slice('f', [ep('10.0.0.1')], [{ port: 80 }], 'FQDN')]);
    expect(entries.map((e) => [e.id, e.affinitySeconds, e.endpoints.length])).toEqual([
      ['default/cart/tcp/80', 10800, 0],
      ['shop/api/tcp/80', 60, 0],
    ]);
  });
});
