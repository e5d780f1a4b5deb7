#!/usr/bin/env node
// peapod-hollow: flags, wiring and signals; the nodes are in hollow.ts.
import { InvalidArgumentError } from 'commander';
import { flags as agentFlags } from '@peapod/agent';
import { Client, componentCommand, connectionFlags, createLogger, flagValue, logEventLoopStalls, optionsFromFlags, orExit, stopOnSignals } from '@peapod/client';
import type { ComponentFlags } from '@peapod/client';
import { heartbeatConcurrency } from './heartbeats';
import { HollowNodes, eventWriteShare } from './hollow';

const { cidr, defaultAddress, delayOption, eventBurstOption, eventQpsOption, periodOption, quantity } = agentFlags;

function namePrefix(value: string): string {
  if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?-?$/.test(value)) throw new InvalidArgumentError('must start a DNS subdomain name, e.g. hollow-');
  return value;
}

interface Flags extends ComponentFlags {
  nodes: number;
  namePrefix: string;
  clusterCidr: string;
  address?: string;
  port: number;
  heartbeatInterval: number;
  nodeStatusReportInterval: number;
  fakeStartDelay: number;
  fakeTermDelay: number | null;
  backoffBase: number;
  allowPrivileged: boolean;
  cpu: string;
  memory: string;
  maxPods: number;
  maxConnections: number;
  eventQps: number;
  eventBurst: number;
}

const program = componentCommand('peapod-hollow', 'Runs many hollow nodes (agents with the fake runtime) in one process, for scale tests')
  .requiredOption('--nodes <n>', 'how many nodes', flagValue.positiveInt)
  .option('--name-prefix <prefix>', 'node i is called PREFIXi', namePrefix, 'hollow-')
  .option('--cluster-cidr <cidr>', "node i's podCIDR is the i-th /24 of this range", cidr, '10.128.0.0/9')
  .option('--address <ip>', 'the InternalIP every node reports (default: first non-loopback IPv4)')
  .option('--port <port>', 'the agent port every node reports (hollow nodes serve no logs)', flagValue.port, 10250)
  .addOption(periodOption('--heartbeat-interval <duration>', "how often each node's Lease is renewed and its status checked for changes", '10s'))
  .addOption(periodOption('--node-status-report-interval <duration>', 'the longest time between a node\'s status posts when nothing changed', '5m'))
  .addOption(delayOption('--fake-start-delay <duration>', 'from container start to running', '1s'))
  .addOption(delayOption('--fake-term-delay <duration>', 'from TERM to exit ("never": containers ignore TERM until KILL)', '0', { never: true }))
  .addOption(periodOption('--backoff-base <duration>', 'first container restart back-off; doubles up to 5 min', '10s'))
  .option('--allow-privileged [bool]', 'run pods with privileged containers', flagValue.bool, true)
  .option('--cpu <quantity>', 'cpu capacity of each node', quantity, '4')
  .option('--memory <quantity>', 'memory capacity of each node', quantity, '16Gi')
  .option('--max-pods <n>', 'pod capacity of each node', flagValue.positiveInt, 110)
  .option('--max-connections <n>', "HTTP connections to the API server for the pods' work, shared by all nodes (their heartbeats have their own)", flagValue.positiveInt, 64)
  .addOption(eventQpsOption())
  .addOption(eventBurstOption())
  .parse();

const flags = program.opts<Flags>();
const log = createLogger('hollow', { level: flags.logLevel });
// Thousands of nodes share one thread: a pause of it delays every node's heartbeats and pod starts.
logEventLoopStalls(log);

// Clients shared by every node, their connections bounded: the identity must watch every pod and write every node.
const options = orExit('peapod-hollow', () => optionsFromFlags(connectionFlags(flags)).options);
const client = new Client({ ...options, maxSockets: flags.maxConnections });
// A connection for each heartbeat in flight, and one for the node informer's watch.
const heartbeatClient = new Client({ ...options, maxSockets: heartbeatConcurrency(flags.nodes, flags.heartbeatInterval) + 1 });

const hollow = new HollowNodes({
  client,
  heartbeatClient,
  log,
  nodes: flags.nodes,
  namePrefix: flags.namePrefix,
  clusterCIDR: flags.clusterCidr,
  address: flags.address ?? defaultAddress(),
  port: flags.port,
  heartbeatIntervalMs: flags.heartbeatInterval,
  statusReportIntervalMs: flags.nodeStatusReportInterval,
  startDelayMs: flags.fakeStartDelay,
  termDelayMs: flags.fakeTermDelay,
  backoffBaseMs: flags.backoffBase,
  allowPrivileged: flags.allowPrivileged,
  cpu: flags.cpu,
  memory: flags.memory,
  maxPods: flags.maxPods,
  eventQps: flags.eventQps,
  eventBurst: flags.eventBurst,
  eventWrites: eventWriteShare(flags.maxConnections),
});

hollow.start().then(
  (started) => {
    if (!started) return;
    // Tests and benches wait for this line: written at any log level.
    createLogger('hollow', { level: 'info' }).info('nodes running', { nodes: flags.nodes, prefix: flags.namePrefix });
  },
  (err: unknown) => {
    log.error('hollow nodes failed to start', { error: err });
    process.exit(1);
  },
);

stopOnSignals({
  log,
  stop: () =>
    hollow.stop().then(() => {
      // How many events were written and dropped: written at any log level.
      createLogger('hollow', { level: 'info' }).info('events', { ...hollow.eventCounts() });
      client.close();
      heartbeatClient.close();
    }),
});
