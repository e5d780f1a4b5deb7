#!/usr/bin/env node
// peapod-dns: flags, wiring and signals; the work is in cluster-dns.ts.
import fs from 'fs';
import { isIPv4 } from 'net';
import os from 'os';
import { parseResolvConf } from '@peapod/api';
import { componentCommand, connectOrExit, createLogger, durationOption, flagParser, flagValue, hostIPv4, orExit, stopOnSignals } from '@peapod/client';
import type { ComponentFlags } from '@peapod/client';
import { ClusterDns } from './cluster-dns';
import { Forwarder, parseUpstream, type Upstream } from './forwarder';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error('must be a whole number of seconds');
  return n;
}

interface Flags extends ComponentFlags {
  address?: string;
  port: number;
  clusterDomain: string;
  clusterIp: string;
  register: boolean;
  instance: string;
  nodeName?: string;
  upstream?: Upstream[];
  resolvConf: string;
  ttl: number;
  resyncPeriod: number;
}

const program = componentCommand(
  'peapod-dns',
  "The cluster DNS: answers for services and pods in the cluster domain, forwards other names to the host's resolvers, and registers itself as the kube-dns service's endpoint",
)
  .option('--address <ip>', 'where to listen, reachable from pods (default: first non-loopback IPv4)', flagValue.ipv4)
  .option('--port <port>', 'UDP and TCP port (0: any free port)', flagValue.port, 53)
  .option('--cluster-domain <domain>', "the cluster's DNS domain", 'cluster.local')
  .option('--cluster-ip <ip>', "the kube-dns service's cluster IP (the agents' --cluster-dns)", flagValue.ipv4, '10.96.0.10')
  .option('--no-register', 'do not keep the kube-dns service and this endpoint in the API')
  .option('--instance <name>', "this server's name among kube-dns's endpoints (its EndpointSlice is kube-dns-NAME)", os.hostname().toLowerCase())
  .option('--node-name <name>', 'the node this server runs on, recorded on its endpoint')
  .option('--upstream <ips>', 'comma-separated IPV4[:PORT] resolvers for names outside the cluster (default: the nameservers of --resolv-conf)', flagParser((v) => v.split(',').filter((u) => u.trim() !== '').map(parseUpstream)))
  .option('--resolv-conf <file>', "the host's resolver configuration", '/etc/resolv.conf')
  .option('--ttl <seconds>', 'TTL of the cluster records', flagParser(seconds), 5)
  .addOption(durationOption('--resync-period <duration>', 'how often the registration is checked', '30s'))
  .parse();

const flags = program.opts<Flags>();
const log = createLogger('dns', { level: flags.logLevel });
if (flags.logLevel !== undefined) process.env.PEAPOD_LOG_LEVEL = flags.logLevel;

function upstreams(): Upstream[] {
  if (flags.upstream) return flags.upstream;
  const text = orExit('peapod-dns', () => fs.readFileSync(flags.resolvConf, 'utf8'));
  return parseResolvConf(text).nameservers.filter((ns) => isIPv4(ns)).map((ns) => ({ host: ns, port: 53 }));
}

const { client } = connectOrExit('peapod-dns', flags);
const address = flags.address ?? hostIPv4();
const forwarder = new Forwarder(upstreams());
const dns = new ClusterDns({
  client,
  domain: flags.clusterDomain.toLowerCase().replace(/\.$/, ''),
  ttl: flags.ttl,
  forwarder,
  address,
  port: flags.port,
  ...(flags.register ? { register: { clusterIP: flags.clusterIp, instance: flags.instance, ...(flags.nodeName ? { nodeName: flags.nodeName } : {}) } } : {}),
  resyncMs: flags.resyncPeriod,
  log,
});

stopOnSignals({ log, stop: () => dns.stop().then(() => client.close()) });
dns.start().then(
  () => {
    // Port 0 here: stopped before it served.
    if (dns.port !== 0) log.info('serving', { address: `${address}:${dns.port}`, domain: flags.clusterDomain, upstreams: forwarder.upstreams.map((u) => `${u.host}:${u.port}`) });
  },
  (err: unknown) => {
    log.error('dns failed to start', { error: err });
    process.exit(1);
  },
);
