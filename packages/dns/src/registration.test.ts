import { desiredService, desiredSlice, mirroredEndpoints } from './registration';

describe('kube-dns registration objects', () => {
  it('a selectorless kube-dns service on the given cluster IP, port 53 over UDP and TCP', () => {
    expect(desiredService('10.96.0.10').spec).toEqual({
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      ports: [
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 },
        { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 53 },
      ],
    });
  });

  it('one slice per instance with its address and port; the Endpoints mirror every instance, grouped by port', () => {
    const a = desiredSlice({ instance: 'a', address: '172.17.0.1', port: 53, nodeName: 'n1' });
    expect(a.metadata.name).toBe('kube-dns-a');
    expect(a.metadata.labels).toEqual({ 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'peapod-dns' });
    expect(a.ports).toEqual([
      { name: 'dns', protocol: 'UDP', port: 53 },
      { name: 'dns-tcp', protocol: 'TCP', port: 53 },
    ]);
    const b = desiredSlice({ instance: 'b', address: '172.17.0.2', port: 53 });
    const c = desiredSlice({ instance: 'c', address: '172.17.0.1', port: 1053 });
    const ep = mirroredEndpoints([a, b, c]);
    expect(ep.metadata.labels?.['endpointslice.kubernetes.io/skip-mirror']).toBe('true');
    expect(ep.subsets?.map((s) => [s.addresses?.map((x) => x.ip), s.ports?.[0].port])).toEqual([
      [['172.17.0.1', '172.17.0.2'], 53],
      [['172.17.0.1'], 1053],
    ]);
    expect(mirroredEndpoints([]).subsets).toEqual([]);
  });
});
