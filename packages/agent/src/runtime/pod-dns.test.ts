import type { Pod } from '@peapod/api';
import { podHostsFile, podResolvConf, type NodeDNS } from './pod-dns';

function pod(spec: Partial<Pod['spec']> = {}, namespace = 'shop'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace, uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'busybox' }], ...spec },
  };
}

const node: NodeDNS = {
  clusterDNS: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  host: { nameservers: ['192.168.1.1'], searches: ['corp.example'], options: ['timeout:2'] },
};

describe('podResolvConf', () => {
  it('ClusterFirst (the default): the cluster DNS, the namespace search path, then the node\'s search domains, ndots:5', () => {
    const expected = 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:5\n';
    expect(podResolvConf(pod(), node)).toBe(expected);
    expect(podResolvConf(pod({ dnsPolicy: 'ClusterFirst' }), node)).toBe(expected);
    expect(podResolvConf(pod({ dnsPolicy: 'ClusterFirstWithHostNet' }), node)).toBe(expected);
  });

  it('ClusterFirst without a cluster DNS falls back to the node\'s resolvers, as kubelet does', () => {
    expect(podResolvConf(pod(), { ...node, clusterDNS: [] })).toBeUndefined();
  });

  it('Default keeps Docker\'s file unless dnsConfig adds to the node\'s', () => {
    expect(podResolvConf(pod({ dnsPolicy: 'Default' }), node)).toBeUndefined();
    expect(podResolvConf(pod({ dnsPolicy: 'Default', dnsConfig: { searches: ['x.example'] } }), node)).toBe(
      'nameserver 192.168.1.1\nsearch corp.example x.example\noptions timeout:2\n',
    );
  });

  it('None: dnsConfig alone', () => {
    const conf = podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['a.example'], options: [{ name: 'edns0' }] } }), node);
    expect(conf).toBe('nameserver 1.2.3.4\nsearch a.example\noptions edns0\n');
  });

  it('merges dnsConfig: nameservers and searches appended without repeats, options replaced by name', () => {
    const conf = podResolvConf(
      pod({ dnsConfig: { nameservers: ['10.96.0.10', '1.1.1.1', '8.8.8.8'], searches: ['cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '2' }, { name: 'single-request' }] } }),
      node,
    );
    // At most three nameservers reach the file.
    expect(conf).toBe(
      'nameserver 10.96.0.10\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example extra.example\noptions ndots:2 single-request\n',
    );
  });

  it('drops search domains past 32 or 2048 characters', () => {
    const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const conf = podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: many } }), node) ?? '';
    expect(conf.split('\n')[1].split(' ').length - 1).toBe(32);
    const long = Array.from({ length: 20 }, (_, i) => `${'x'.repeat(60)}.d${i}.${'y'.repeat(60)}.example`);
    const line = (podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: long } }), node) ?? '').split('\n')[1];
    expect(line.length - 'search '.length).toBeLessThanOrEqual(2048);
  });
});

describe('podHostsFile', () => {
  it('names the pod at its IP, with loopback names first', () => {
    const hosts = podHostsFile(pod(), '10.0.0.5', 'cluster.local');
    expect(hosts.split('\n')).toEqual([
      '# Managed by peapod-agent.',
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes',
      'ff02::2\tip6-allrouters',
      '10.0.0.5\tweb-1',
      '',
    ]);
  });

  it('gives the FQDN under a subdomain and the host aliases', () => {
    const hosts = podHostsFile(
      pod({ hostname: 'db-0', subdomain: 'db', hostAliases: [{ ip: '10.1.1.1', hostnames: ['foo.local', 'bar'] }, { ip: '10.1.1.2' }] }),
      '10.0.0.6',
      'cluster.local',
    );
    expect(hosts).toContain('10.0.0.6\tdb-0.db.shop.svc.cluster.local\tdb-0\n');
    expect(hosts.endsWith('# Entries added by HostAliases.\n10.1.1.1\tfoo.local\tbar\n')).toBe(true);
  });
});
