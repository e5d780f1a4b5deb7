#!/usr/bin/env node
// peapod-proxy: flags, wiring and signals; the work is in proxier.ts.
import os from 'os';
import { Option } from 'commander';
import { parseIPv4CIDR } from '@peapod/api';
import { componentCommand, connectOrExit, createLogger, durationOption, flagParser, flagValue, formatGoDuration, orExit, stopOnSignals } from '@peapod/client';
import type { ComponentFlags } from '@peapod/client';
import { deleteScript } from './nft/ruleset';
import { nftCommand } from './nft/nft';
import { podNetworkOfCIDR, podNetworkOfDocker, type PodNetwork } from './pod-network';
import { Proxier, tableName } from './proxier';

interface Flags extends ComponentFlags {
  nodeName: string;
  network: string;
  clusterCidr?: string;
  serviceClusterIpRange: string;
  nodeportAddresses?: string[];
  syncPeriod: number;
  hairpinMode: 'hairpin-veth' | 'none';
  cleanup?: boolean;
}

const program = componentCommand(
  'peapod-proxy',
  "Makes services' cluster IPs and node ports reach their endpoints from this node's pods (nftables rules in the host's network namespace)",
)
  .option('--node-name <name>', 'the node this proxy serves', os.hostname())
  .option('--network <name>', "the Docker network pods live on (the agents' --network); its subnet is the cluster CIDR", 'bridge')
  .option('--cluster-cidr <cidr>', "the pods' addresses, instead of asking Docker about --network", flagParser((v) => parseIPv4CIDR(v, 'cluster CIDR').cidr))
  .option('--service-cluster-ip-range <cidr>', "the API server's service range", flagParser((v) => parseIPv4CIDR(v, 'service cluster IP range').cidr), '10.96.0.0/16')
  .option('--nodeport-addresses <ips>', "comma-separated addresses that answer on node ports (default: the node's InternalIP unless loopback, and the host's address on the pod network)", flagValue.ipv4List)
  .addOption(durationOption('--sync-period <duration>', 'how often the rules are rewritten even without changes', '30s'))
  .addOption(new Option('--hairpin-mode <mode>', "hairpin-veth: the pod bridge's ports get hairpin mode, so a pod can reach itself through its service").choices(['hairpin-veth', 'none']).default('hairpin-veth'))
  .option('--cleanup', "remove this node's rules and exit")
  .parse();

const flags = program.opts<Flags>();
const log = createLogger('proxy', { level: flags.logLevel });
if (flags.logLevel !== undefined) process.env.PEAPOD_LOG_LEVEL = flags.logLevel;
const nft = nftCommand();
const table = tableName(flags.nodeName);

async function main(): Promise<void> {
  if (flags.cleanup) {
    await nft.apply(deleteScript(table));
    log.info('rules removed', { table });
    return;
  }
  const { client } = connectOrExit('peapod-proxy', flags);
  let network: PodNetwork;
  try {
    network = flags.clusterCidr ? podNetworkOfCIDR(flags.clusterCidr) : await podNetworkOfDocker(flags.network);
  } catch (err) {
    // Said in one line, as a start-up problem of the command.
    return orExit('peapod-proxy', () => {
      throw err;
    });
  }
  const proxier = new Proxier({
    client,
    nodeName: flags.nodeName,
    nft,
    table,
    network,
    serviceCIDR: flags.serviceClusterIpRange,
    ...(flags.nodeportAddresses ? { nodePortAddresses: flags.nodeportAddresses } : {}),
    hairpin: flags.hairpinMode === 'hairpin-veth',
    syncPeriodMs: flags.syncPeriod,
    log,
  });
  stopOnSignals({ log, stop: () => proxier.stop().then(() => client.close()) });
  log.info('starting', { node: flags.nodeName, table, clusterCIDR: network.cidr, bridge: network.bridge, serviceCIDR: flags.serviceClusterIpRange, syncPeriod: formatGoDuration(flags.syncPeriod) });
  await proxier.start();
}

main().catch((err: unknown) => {
  log.error('proxy failed', { error: err });
  process.exit(1);
});
