#!/usr/bin/env node
// peapod-agent: flags, wiring and signals; the work is in agent.ts and the modules it uses.
import fs from 'fs';
import os from 'os';
import { InvalidArgumentError } from 'commander';
import { parseResolvConf } from '@peapod/api';
import type { ResolvConf } from '@peapod/api';
import { Client, apiRateOptions, componentCommand, connectOrExit, createLogger, flagValue, orExit, stopOnSignals } from '@peapod/client';
import type { ComponentFlags } from '@peapod/client';
import { Agent } from './agent';
import { cidr, defaultAddress, delayOption, eventBurstOption, eventQpsOption, periodOption, quantity } from './flags';
import { DockerRuntime, FakeRuntime, defaultPodCidr } from './runtime';
import type { ContainerRuntime } from './runtime';

/** The node's resolvers, as pods with dnsPolicy Default see them; "": none. */
function readResolvConf(file: string): ResolvConf {
  return parseResolvConf(file === '' ? '' : orExit('peapod-agent', () => fs.readFileSync(file, 'utf8')));
}

type RuntimeName = 'docker' | 'fake';

function runtimeName(value: string): RuntimeName {
  if (value !== 'docker' && value !== 'fake') throw new InvalidArgumentError('must be docker or fake');
  return value;
}

interface Flags extends ComponentFlags {
  nodeName: string;
  runtime: RuntimeName;
  podCidr?: string;
  fakeStartDelay: number;
  fakeTermDelay: number | null;
  port: number;
  address?: string;
  allowPrivileged: boolean;
  infraImage: string;
  network: string;
  heartbeatInterval: number;
  nodeStatusReportInterval: number;
  backoffBase: number;
  relistPeriod: number;
  volumeResyncPeriod: number;
  cpu?: string;
  memory?: string;
  maxPods: number;
  cgroupRoot: string;
  clusterDns: string[];
  clusterDomain: string;
  resolvConf: string;
  eventQps: number;
  eventBurst: number;
}

const command = componentCommand('peapod-agent', 'Runs the pods bound to this node in Docker and reports their status')
  .option('--node-name <name>', 'name of this node', os.hostname())
  .option('--runtime <name>', 'container runtime: docker, or fake (pods without containers, for scale tests)', runtimeName, 'docker')
  .option('--pod-cidr <cidr>', 'fake runtime: the range pod IPs come from (default: a /24 in 10.128.0.0/9 derived from the node name)', cidr)
  .addOption(delayOption('--fake-start-delay <duration>', 'fake runtime: from container start to running', '1s'))
  .addOption(delayOption('--fake-term-delay <duration>', 'fake runtime: from TERM to exit ("never": containers ignore TERM until KILL)', '0', { never: true }))
  .option('--port <port>', 'port of the log server the API server proxies to', flagValue.port, 10250)
  .option('--address <ip>', "this node's InternalIP, where the log server listens (default: first non-loopback IPv4)")
  .option('--allow-privileged [bool]', 'run pods with privileged containers', flagValue.bool, true)
  .option('--infra-image <image>', 'image of the infra container holding each pod’s namespaces', 'peapod/pause:latest')
  .option('--network <name>', 'Docker network pod IPs live on', 'bridge')
  .addOption(periodOption('--heartbeat-interval <duration>', "how often the node's Lease is renewed and its status checked for changes", '10s'))
  .addOption(periodOption('--node-status-report-interval <duration>', 'the longest time between node status posts when nothing changed', '5m'))
  .addOption(periodOption('--backoff-base <duration>', 'first container restart back-off; doubles up to 5 min', '10s'))
  .addOption(periodOption('--relist-period <duration>', 'how often the runtime is polled for container changes', '1s'))
  .addOption(periodOption('--volume-resync-period <duration>', 'how often mounted ConfigMaps and Secrets are read again', '30s'))
  .option('--cpu <quantity>', 'cpu capacity to report (default: the host’s cores)', quantity)
  .option('--memory <quantity>', 'memory capacity to report (default: the host’s memory)', quantity)
  .option('--max-pods <n>', 'pod capacity to report', flagValue.positiveInt, 110)
  .option('--cgroup-root <path>', 'cgroup under which each pod gets its parent ("" disables pod cgroups)', '/peapod')
  .option('--cluster-dns <ips>', "comma-separated cluster DNS addresses for pods with dnsPolicy ClusterFirst (none: they get the node's resolvers)", flagValue.ipv4List, [])
  .option('--cluster-domain <domain>', "the cluster's DNS domain", 'cluster.local')
  .option('--resolv-conf <file>', 'the node\'s resolver configuration, for its search domains and dnsPolicy Default ("" for none)', '/etc/resolv.conf')
  .addOption(eventQpsOption())
  .addOption(eventBurstOption());
// The kubelet's defaults.
const program = apiRateOptions(command, { qps: 50, burst: 100 }).parse();

const flags = program.opts<Flags>();
const log = createLogger('agent', { level: flags.logLevel });

const { client, options } = connectOrExit('peapod-agent', flags);
// As the kubelet's: the heartbeat never waits behind the pods' requests, events keep to --event-qps alone.
const heartbeatClient = new Client({ ...options, qps: 0 });
const eventClient = new Client({ ...options, qps: 0 });

const podCIDR = flags.podCidr ?? defaultPodCidr(flags.nodeName);
const runtime: ContainerRuntime =
  flags.runtime === 'fake'
    ? new FakeRuntime({ nodeName: flags.nodeName, podCIDR, startDelayMs: flags.fakeStartDelay, termDelayMs: flags.fakeTermDelay })
    : new DockerRuntime({
        nodeName: flags.nodeName,
        logger: (level, msg, fields) => log[level](msg, fields),
        dns: { clusterDNS: flags.clusterDns, clusterDomain: flags.clusterDomain, host: readResolvConf(flags.resolvConf) },
      });

const agent = new Agent({
  client,
  heartbeatClient,
  eventClient,
  runtime,
  log,
  nodeName: flags.nodeName,
  address: flags.address ?? defaultAddress(),
  port: flags.port,
  allowPrivileged: flags.allowPrivileged,
  infraImage: flags.infraImage,
  network: flags.network,
  heartbeatIntervalMs: flags.heartbeatInterval,
  statusReportIntervalMs: flags.nodeStatusReportInterval,
  backoffBaseMs: flags.backoffBase,
  relistPeriodMs: flags.relistPeriod,
  volumeResyncMs: flags.volumeResyncPeriod,
  cpu: flags.cpu,
  memory: flags.memory,
  maxPods: flags.maxPods,
  cgroupParent: flags.cgroupRoot,
  ...(flags.runtime === 'fake' ? { nodeSpec: { podCIDR, podCIDRs: [podCIDR] } } : {}),
  // A cluster with credentials has authentication: then only the API server may read logs here.
  authenticateCallers: options.token !== undefined,
  eventQps: flags.eventQps,
  eventBurst: flags.eventBurst,
});

agent.start().then(
  (started) => {
    if (!started) return;
    // Tests and scripts read the port from here when --port 0 was asked: written at any log level.
    createLogger('agent', { level: 'info' }).info('listening', { node: flags.nodeName, address: `http://${flags.address ?? defaultAddress()}:${agent.port}` });
  },
  (err: unknown) => {
    log.error('agent failed to start', { error: err });
    process.exit(1);
  },
);

stopOnSignals({
  log,
  stop: () =>
    agent.stop().then(() => {
      for (const c of [client, heartbeatClient, eventClient]) c.close();
    }),
});
