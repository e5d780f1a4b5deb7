#!/usr/bin/env node
// peapod-dns: flags, wiring and signals; the work is in cluster-dns.ts.
import fs from 'fs';
import { isIPv4 } from 'net';
import os from 'os';
import { Command } from 'commander';
import { parseResolvConf } from '@peapod/api';
import {
  Client,
  addCommonFlags,
  createLogger,
  durationOption,
  firstNonLoopbackIPv4,
  flagParser,
  ipv4Flag,
  optionsFromFlags,
  portFlag,
  stopOnSignals,
  type CommonFlags,
} from '@peapod/client';
import { ClusterDns } from './cluster-dns';
import { Forwarder, parseUpstream, type Upstream } from './forwarder';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error('must be a whole number of seconds');
  return n;
}

interface Flags extends CommonFlags {
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

const program = addCommonFlags(
  new Command('peapod-dns').description(
    "The cluster DNS: answers for services and pods in the cluster domain, forwards other names to the host's resolvers, and registers itself as the kube-dns service's endpoint",
  ),
)
  .option('--address <ip>', 'where to listen, reachable from pods (default: first non-loopback IPv4)', ipv4Flag)
  .option('--port <port>', 'UDP and TCP port (0: any free port)', portFlag, 53)
  .option('--cluster-domain <domain>', "the cluster's DNS domain", 'cluster.local')
  .option('--cluster-ip <ip>', "the kube-dns service's cluster IP (the agents' --cluster-dns)", ipv4Flag, '10.96.0.10')
  .option('--no-register', 'do not keep the kube-dns service and this endpoint in the API')
  .option('--instance <name>', "this server's name among kube-dns's endpoints (its EndpointSlice is kube-dns-NAME)", os.hostname().toLowerCase())
  .option('--node-name <name>', 'the node this server runs on, recorded on its endpoint')
  .option('--upstream <ips>', 'comma-separated IPV4[:PORT] resolvers for names outside the cluster (default: the nameservers of --resolv-conf)', flagParser((v) => v.split(',').filter((s) => s.trim() !== '').map(parseUpstream)))
  .option('--resolv-conf <file>', "the host's resolver configuration", '/etc/resolv.conf')
  .option('--ttl <seconds>', 'TTL of the cluster records', flagParser(seconds), 5)
  .addOption(durationOption('--resync-period <duration>', 'how often the registration is checked', '30s'))
  .parse();

const flags = program.opts<Flags>();
const log = createLogger('dns', { level: flags.logLevel });
if (flags.logLevel !== undefined) process.env.PEAPOD_LOG_LEVEL = flags.logLevel;

function fail(message: string): never {
  process.stderr.write(`peapod-dns: ${message}\n`);
  process.exit(1);
}

function upstreams(): Upstream[] {
  if (flags.upstream) return flags.upstream;
  let text: string;
  try {
    text = fs.readFileSync(flags.resolvConf, 'utf8');
  } catch (err) {
    fail(`--resolv-conf ${flags.resolvConf}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseResolvConf(text).nameservers.filter((ns) => isIPv4(ns)).map((ns) => ({ host: ns, port: 53 }));
}

let connection: ReturnType<typeof optionsFromFlags>;
try {
  connection = optionsFromFlags({ server: flags.server, token: flags.token, kubeconfig: flags.kubeconfig });
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
const client = new Client(connection.options);
const address = flags.address ?? firstNonLoopbackIPv4();
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
