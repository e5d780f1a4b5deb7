// The nftables table one proxy owns, written as one transaction per sync (nft -f applies a
// file atomically: traffic sees the old rules or the new ones, never a mix).
//
// Invariants:
// - Everything lives in the proxy's own table (family ip); nothing here names another
//   table, so a sync or a clean-up can never touch Docker's or anyone else's rules.
// - A sync declares every object it wants (add is a no-op for one that exists), flushes
//   the chains and maps it rewrites, and deletes what it no longer wants: the same state
//   gives the same table, however many times it is applied and whatever the table held
//   (a proxy restarted after SIGKILL converges, with no duplicate rules).
// - Affinity sets are declared but never flushed, so clients keep their endpoint across
//   syncs; a set goes only with its endpoint.
// - Cluster IPs are matched only for traffic from the pod network (--cluster-cidr): other
//   Peapod clusters on the same host use the same service range from their own networks.
//   Traffic from the pod network or this host into the service range that no rule took is
//   refused here, so a virtual address is never routed off the machine.
//
// Packet path: nat prerouting/output jump to `services`, which looks up the destination in
// the verdict maps (cluster IP and port, or node port on a node-port address) and goes to
// the service port's chain; that one picks an endpoint (the client's affinity first, else
// numgen random) and goes to the endpoint's chain, which DNATs. A pod reaching itself
// through its service (hairpin) is marked and masqueraded in nat postrouting, so that the
// reply comes back through the host.

import type { Endpoint, ServicePortEntry } from '../service-ports';

export interface ProxyTable {
  /** the nftables table (family ip) this proxy owns */
  name: string;
  /** the pods' addresses (CIDR): their traffic to cluster IPs is sent to endpoints */
  clusterCIDR: string;
  /** the service range (CIDR) */
  serviceCIDR: string;
  /** addresses whose node ports lead to services (this node's address, the host's on the pod network) */
  nodePortAddresses: string[];
}

/** The named objects of a table, as a sync leaves it or `nft list` reports it. */
export interface TableObjects {
  chains: string[];
  sets: string[];
  maps: string[];
}

/** The packet mark bit that asks nat postrouting to masquerade (kube-proxy's). */
const masqueradeBit = '0x4000';

const baseChains: Record<string, string> = {
  'nat-prerouting': 'type nat hook prerouting priority -100 ; policy accept ;',
  'nat-output': 'type nat hook output priority -100 ; policy accept ;',
  'nat-postrouting': 'type nat hook postrouting priority 100 ; policy accept ;',
  'filter-forward': 'type filter hook forward priority -1 ; policy accept ;',
  'filter-output': 'type filter hook output priority -1 ; policy accept ;',
};

const fixedMaps: Record<string, string> = {
  'service-ips': 'type ipv4_addr . inet_proto . inet_service : verdict ;',
  'service-nodeports': 'type inet_proto . inet_service : verdict ;',
};

const nodePortSet = 'nodeport-ips';

function serviceChain(entry: ServicePortEntry): string {
  return `svc-${entry.id}`;
}

function endpointSuffix(entry: ServicePortEntry, ep: Endpoint): string {
  return `${entry.id}__${ep.ip}/${ep.port}`;
}

function endpointChain(entry: ServicePortEntry, ep: Endpoint): string {
  return `ep-${endpointSuffix(entry, ep)}`;
}

/** Named with its timeout: a set's timeout cannot change, so a new timeout means a new set. */
function affinitySet(entry: ServicePortEntry, ep: Endpoint): string {
  return `aff-${entry.affinitySeconds}s-${endpointSuffix(entry, ep)}`;
}

/** The transaction that makes the table hold exactly `entries`, given what it holds now (undefined: unknown or absent). */
export function syncScript(table: ProxyTable, entries: ServicePortEntry[], existing: TableObjects | undefined): { script: string; objects: TableObjects } {
  const t = `ip ${table.name}`;
  const declare: string[] = [`add table ${t}`];
  const flush: string[] = [];
  const fill: string[] = [];
  const chains = new Map<string, string[]>();
  const sets: string[] = [nodePortSet];
  const maps = Object.keys(fixedMaps);

  for (const [name, spec] of Object.entries(baseChains)) declare.push(`add chain ${t} ${name} { ${spec} }`);
  for (const [name, spec] of Object.entries(fixedMaps)) declare.push(`add map ${t} ${name} { ${spec} }`);
  declare.push(`add set ${t} ${nodePortSet} { type ipv4_addr ; }`);

  chains.set('nat-prerouting', ['jump services']);
  chains.set('nat-output', ['jump services']);
  chains.set('nat-postrouting', [`meta mark & ${masqueradeBit} == ${masqueradeBit} meta mark set meta mark ^ ${masqueradeBit} masquerade fully-random`]);
  chains.set('filter-forward', [`ip saddr ${table.clusterCIDR} ip daddr ${table.serviceCIDR} ct status & dnat == 0 reject`]);
  chains.set('filter-output', [`ip daddr ${table.serviceCIDR} ct status & dnat == 0 reject`]);
  chains.set('mark-for-masquerade', [`meta mark set meta mark | ${masqueradeBit}`]);
  chains.set('services', [
    `ip saddr ${table.clusterCIDR} ip daddr . meta l4proto . th dport vmap @service-ips`,
    `ip daddr @${nodePortSet} meta l4proto . th dport vmap @service-nodeports`,
  ]);

  const serviceIPs: string[] = [];
  const nodePorts: string[] = [];
  for (const entry of entries) {
    // A port without endpoints gets no chain: its traffic is refused by the filter chains.
    if (entry.endpoints.length === 0) continue;
    const svc = serviceChain(entry);
    const rules: string[] = [];
    for (const ep of entry.endpoints) {
      const epRules = [`ip saddr ${ep.ip} jump mark-for-masquerade`];
      if (entry.affinitySeconds !== undefined) {
        const set = affinitySet(entry, ep);
        sets.push(set);
        declare.push(`add set ${t} ${set} { type ipv4_addr ; flags dynamic,timeout ; timeout ${entry.affinitySeconds}s ; }`);
        rules.push(`ip saddr @${set} goto ${endpointChain(entry, ep)}`);
        epRules.push(`update @${set} { ip saddr }`);
      }
      epRules.push(`meta l4proto ${entry.protocol} dnat to ${ep.ip}:${ep.port}`);
      chains.set(endpointChain(entry, ep), epRules);
    }
    const targets = entry.endpoints.map((ep) => `goto ${endpointChain(entry, ep)}`);
    rules.push(targets.length === 1 ? targets[0] : `numgen random mod ${targets.length} vmap { ${targets.map((g, i) => `${i} : ${g}`).join(', ')} }`);
    chains.set(svc, rules);
    for (const ip of entry.addresses) serviceIPs.push(`${ip} . ${entry.protocol} . ${entry.port} : goto ${svc}`);
    if (entry.nodePort !== undefined) nodePorts.push(`${entry.protocol} . ${entry.nodePort} : goto ${svc}`);
  }

  for (const name of chains.keys()) {
    if (!(name in baseChains)) declare.push(`add chain ${t} ${name}`);
  }
  const stale = {
    chains: (existing?.chains ?? []).filter((c) => !chains.has(c)),
    sets: (existing?.sets ?? []).filter((s) => !sets.includes(s)),
    maps: (existing?.maps ?? []).filter((m) => !maps.includes(m)),
  };
  // Stale chains are emptied first: their rules may name other stale chains and sets.
  for (const name of [...chains.keys(), ...stale.chains]) flush.push(`flush chain ${t} ${name}`);
  for (const name of maps) flush.push(`flush map ${t} ${name}`);
  flush.push(`flush set ${t} ${nodePortSet}`);

  for (const [name, rules] of chains) for (const rule of rules) fill.push(`add rule ${t} ${name} ${rule}`);
  if (serviceIPs.length > 0) fill.push(`add element ${t} service-ips { ${serviceIPs.join(', ')} }`);
  if (nodePorts.length > 0) fill.push(`add element ${t} service-nodeports { ${nodePorts.join(', ')} }`);
  if (table.nodePortAddresses.length > 0) fill.push(`add element ${t} ${nodePortSet} { ${table.nodePortAddresses.join(', ')} }`);

  const remove = [
    ...stale.chains.map((c) => `delete chain ${t} ${c}`),
    ...stale.sets.map((s) => `delete set ${t} ${s}`),
    ...stale.maps.map((m) => `delete map ${t} ${m}`),
  ];
  const script = [...declare, ...flush, ...fill, ...remove].join('\n') + '\n';
  return { script, objects: { chains: [...chains.keys()], sets, maps } };
}

/** Removes the table and everything in it; absent already is fine (`add` first makes it exist). */
export function deleteScript(tableName: string): string {
  return `add table ip ${tableName}\ndelete table ip ${tableName}\n`;
}
