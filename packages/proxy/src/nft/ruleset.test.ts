import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import type { ServicePortEntry } from '../service-ports';
import { nftCommand } from './nft';
import { deleteScript, syncScript, type ProxyTable } from './ruleset';

const web: ServicePortEntry = {
  id: 'default/web/tcp/80',
  protocol: 'tcp',
  addresses: ['10.96.0.20'],
  port: 80,
  nodePort: 30080,
  endpoints: [
    { ip: '10.0.0.2', port: 8080 },
    { ip: '10.0.0.9', port: 8080 },
  ],
};
const dns: ServicePortEntry = { id: 'kube-system/kube-dns/udp/53', protocol: 'udp', addresses: ['10.96.0.10'], port: 53, endpoints: [{ ip: '10.0.0.1', port: 53 }] };
const empty: ServicePortEntry = { id: 'default/none/tcp/80', protocol: 'tcp', addresses: ['10.96.0.21'], port: 80, endpoints: [] };
const table: ProxyTable = { name: 'peapod-proxy-n1', clusterCIDR: '10.0.0.0/24', serviceCIDR: '10.96.0.0/16', nodePortAddresses: ['10.0.0.254'] };

function lines(script: string): string[] {
  return script.trim().split('\n');
}

describe('syncScript', () => {
  it('spreads a port over its endpoints at random, DNATs in each endpoint chain, and maps addresses and node ports to it', () => {
    const { script, objects } = syncScript(table, [web, dns, empty], undefined);
    const l = lines(script);
    expect(l).toContain('add rule ip peapod-proxy-n1 svc-default/web/tcp/80 numgen random mod 2 vmap { 0 : goto ep-default/web/tcp/80__10.0.0.2/8080, 1 : goto ep-default/web/tcp/80__10.0.0.9/8080 }');
    expect(l).toContain('add rule ip peapod-proxy-n1 ep-default/web/tcp/80__10.0.0.9/8080 meta l4proto tcp dnat to 10.0.0.9:8080');
    expect(l).toContain('add rule ip peapod-proxy-n1 ep-default/web/tcp/80__10.0.0.9/8080 ip saddr 10.0.0.9 jump mark-for-masquerade');
    expect(l).toContain('add rule ip peapod-proxy-n1 svc-kube-system/kube-dns/udp/53 goto ep-kube-system/kube-dns/udp/53__10.0.0.1/53');
    expect(l).toContain(
      'add element ip peapod-proxy-n1 service-ips { 10.96.0.20 . tcp . 80 : goto svc-default/web/tcp/80, 10.96.0.10 . udp . 53 : goto svc-kube-system/kube-dns/udp/53 }',
    );
    expect(l).toContain('add element ip peapod-proxy-n1 service-nodeports { tcp . 30080 : goto svc-default/web/tcp/80 }');
    expect(l).toContain('add element ip peapod-proxy-n1 nodeport-ips { 10.0.0.254 }');
    // Only the pod network's traffic to cluster IPs; what no rule takes into the service range is refused.
    expect(l).toContain('add rule ip peapod-proxy-n1 services ip saddr 10.0.0.0/24 ip daddr . meta l4proto . th dport vmap @service-ips');
    expect(l).toContain('add rule ip peapod-proxy-n1 filter-forward ip saddr 10.0.0.0/24 ip daddr 10.96.0.0/16 ct status & dnat == 0 reject');
    // A port without endpoints has no chain and no map element.
    expect(script).not.toContain('default/none');
    expect(objects.chains).toContain('svc-default/web/tcp/80');
    expect(l.filter((x) => x.startsWith('delete'))).toEqual([]);
  });

  it('keeps affinity sets (declared, never flushed) and checks them before spreading', () => {
    const sticky = { ...web, affinitySeconds: 60 };
    const { script } = syncScript(table, [sticky], undefined);
    const l = lines(script);
    expect(l).toContain('add set ip peapod-proxy-n1 aff-60s-default/web/tcp/80__10.0.0.2/8080 { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }');
    expect(l).toContain('add rule ip peapod-proxy-n1 svc-default/web/tcp/80 ip saddr @aff-60s-default/web/tcp/80__10.0.0.2/8080 goto ep-default/web/tcp/80__10.0.0.2/8080');
    expect(l).toContain('add rule ip peapod-proxy-n1 ep-default/web/tcp/80__10.0.0.2/8080 update @aff-60s-default/web/tcp/80__10.0.0.2/8080 { ip saddr }');
    expect(l.some((x) => x.startsWith('flush set') && x.includes('aff-'))).toBe(false);
  });

  it('empties, then deletes, what the table holds and is no longer wanted', () => {
    const first = syncScript(table, [{ ...web, affinitySeconds: 60 }], undefined);
    const second = syncScript(table, [{ ...web, endpoints: [web.endpoints[0]] }], first.objects);
    const l = lines(second.script);
    expect(l).toContain('flush chain ip peapod-proxy-n1 ep-default/web/tcp/80__10.0.0.9/8080');
    expect(l.filter((x) => x.startsWith('delete'))).toEqual([
      'delete chain ip peapod-proxy-n1 ep-default/web/tcp/80__10.0.0.9/8080',
      'delete set ip peapod-proxy-n1 aff-60s-default/web/tcp/80__10.0.0.2/8080',
      'delete set ip peapod-proxy-n1 aff-60s-default/web/tcp/80__10.0.0.9/8080',
    ]);
    expect(l.slice(-3)).toEqual(l.filter((x) => x.startsWith('delete')));
  });
});

const nftWorks = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).status === 0;
const onHost = nftWorks ? describe : describe.skip;

onHost('against the kernel (a table of its own, addresses from the documentation ranges)', () => {
  const nft = nftCommand();
  const name = `peapod-proxy-test-${randomBytes(4).toString('hex')}`;
  // 198.18.0.0/15 and 198.51.100.0/24 are reserved for tests: no real traffic uses them.
  const t: ProxyTable = { name, clusterCIDR: '198.18.0.0/24', serviceCIDR: '198.51.100.0/24', nodePortAddresses: ['198.18.0.1'] };
  const entry = (endpoints: ServicePortEntry['endpoints'], affinitySeconds?: number): ServicePortEntry => ({
    id: 'default/web/tcp/80',
    protocol: 'tcp',
    addresses: ['198.51.100.20'],
    port: 80,
    nodePort: 30080,
    endpoints,
    ...(affinitySeconds ? { affinitySeconds } : {}),
  });
  const listing = () => spawnSync('nft', ['list', 'table', 'ip', name], { encoding: 'utf8' }).stdout;

  afterAll(async () => {
    await nft.apply(deleteScript(name));
  });

  it('applies, converges from any previous state without duplicates, and removes itself', async () => {
    const two = [entry([{ ip: '198.18.0.2', port: 8080 }, { ip: '198.18.0.3', port: 8080 }], 60)];
    const first = syncScript(t, two, await nft.listTable(name));
    await nft.apply(first.script);
    const once = listing();
    expect(once).toContain('numgen random mod 2 vmap');
    // The same state again, from a fresh listing (a restarted proxy): the same table.
    await nft.apply(syncScript(t, two, await nft.listTable(name)).script);
    expect(listing()).toBe(once);
    expect(await nft.listTable(name)).toEqual({ chains: expect.arrayContaining(first.objects.chains), sets: expect.arrayContaining(first.objects.sets), maps: expect.arrayContaining(first.objects.maps) });
    // One endpoint fewer, no affinity: its chain and both affinity sets go.
    const one = syncScript(t, [entry([{ ip: '198.18.0.2', port: 8080 }])], first.objects);
    await nft.apply(one.script);
    const after = listing();
    expect(after).not.toContain('198.18.0.3');
    expect(after).not.toContain('aff-');
    expect((await nft.listTable(name))?.chains.sort()).toEqual([...one.objects.chains].sort());
    await nft.apply(deleteScript(name));
    expect(await nft.listTable(name)).toBeUndefined();
    // Deleting what is not there is fine (a second clean-up).
    await nft.apply(deleteScript(name));
  });
});
