#!/usr/bin/env node
// peapod-controller-manager: flags and signals; the work is in manager.ts.

import fs from 'fs';
import { Client, apiRateOptions, componentCommand, connectOrExit, createLogger, durationOption, flagValue, formatGoDuration, leaderElectionConfig, leaderElectionOptions, orExit, reportStart, runLeaderElected, stopOnSignals } from '@peapod/client';
import type { ComponentFlags, LeaderElectionFlags } from '@peapod/client';
import { runControllerManager } from './manager';
import { defaultEvictionPacing } from './nodelifecycle/zones';

interface Flags extends ComponentFlags, LeaderElectionFlags {
  nodeMonitorPeriod: number;
  nodeMonitorGracePeriod: number;
  podEvictionTimeout: number;
  nodeEvictionRate: number;
  secondaryNodeEvictionRate: number;
  largeClusterSizeThreshold: number;
  unhealthyZoneThreshold: number;
  concurrentRcSyncs: number;
  concurrentEndpointSyncs: number;
  concurrentServiceEndpointSyncs: number;
  maxEndpointsPerSlice: number;
  endpointUpdatesBatchPeriod: number;
  rootCaFile?: string;
}

const program = componentCommand(
  'peapod-controller-manager',
  'Runs the replication controller, the node lifecycle controller, the garbage collector, the endpoints and EndpointSlice controllers, and the controllers that give every namespace its default service account and kube-root-ca.crt',
)
  .addOption(durationOption('--node-monitor-period <duration>', 'how often node heartbeats are checked', '5s'))
  .addOption(durationOption('--node-monitor-grace-period <duration>', 'heartbeat silence after which a node is Unknown', '40s'))
  .addOption(durationOption('--pod-eviction-timeout <duration>', 'how long pods stay on an unreachable node before they are deleted', '5m'))
  .option('--node-eviction-rate <nodes/s>', 'unreachable nodes per second, in a healthy zone, given the taint that evicts their pods', flagValue.rate, defaultEvictionPacing.evictionRate)
  .option('--secondary-node-eviction-rate <nodes/s>', 'the same in a zone with many nodes down (0 in zones of at most --large-cluster-size-threshold nodes)', flagValue.rate, defaultEvictionPacing.secondaryEvictionRate)
  .option('--large-cluster-size-threshold <n>', 'zones of more nodes than this evict at the secondary rate when many nodes are down; smaller ones stop', flagValue.positiveInt, defaultEvictionPacing.largeClusterSizeThreshold)
  .option('--unhealthy-zone-threshold <share>', 'the share of not-ready nodes (at least 3) from which a zone counts as having many nodes down', flagValue.fraction, defaultEvictionPacing.unhealthyZoneThreshold)
  .option('--concurrent-rc-syncs <n>', 'replication controllers synced at once', flagValue.positiveInt, 5)
  .option('--concurrent-endpoint-syncs <n>', 'services whose Endpoints are synced at once', flagValue.positiveInt, 5)
  .option('--concurrent-service-endpoint-syncs <n>', 'services whose EndpointSlices are synced at once', flagValue.positiveInt, 5)
  .option('--max-endpoints-per-slice <n>', 'most endpoints in one EndpointSlice', flagValue.positiveInt, 100)
  .addOption(durationOption('--endpoint-updates-batch-period <duration>', 'how long pod changes are gathered before a service\'s endpoints are written', '0s'))
  .option('--root-ca-file <file>', "the CA published to every namespace as kube-root-ca.crt (default: the kubeconfig's certificate authority)");
apiRateOptions(leaderElectionOptions(program, 'kube-controller-manager'), { qps: 20, burst: 30 }).parse();

const flags = program.opts<Flags>();
const logger = createLogger('controller-manager', { level: flags.logLevel });
// The controllers and informers make their own loggers, which read the level from the environment.
if (flags.logLevel !== undefined) process.env.PEAPOD_LOG_LEVEL = flags.logLevel;

const { client, options } = connectOrExit('peapod-controller-manager', flags);
// Each controller's client of its own, so each has its own --kube-api-qps, as in Kubernetes.
const controllerClients = new Map<string, Client>();
const controllerClient = (name: string): Client => {
  let c = controllerClients.get(name);
  if (c === undefined) {
    c = new Client({ ...options, userAgent: options.userAgent ?? `peapod-controller-manager/${name}` });
    controllerClients.set(name, c);
  }
  return c;
};
const rootCA = orExit('peapod-controller-manager', () =>
  flags.rootCaFile ? fs.readFileSync(flags.rootCaFile, 'utf8') : (options.ca?.toString() ?? ''),
);

const election = orExit('peapod-controller-manager', () => leaderElectionConfig(flags, options, logger));

// The controllers run while this instance leads (always, without election), each term from fresh informers.
const work = runLeaderElected(election, () =>
  reportStart(
    runControllerManager(client, {
      nodeMonitorPeriodMs: flags.nodeMonitorPeriod,
      nodeMonitorGracePeriodMs: flags.nodeMonitorGracePeriod,
      podEvictionTimeoutMs: flags.podEvictionTimeout,
      evictionPacing: {
        evictionRate: flags.nodeEvictionRate,
        secondaryEvictionRate: flags.secondaryNodeEvictionRate,
        largeClusterSizeThreshold: flags.largeClusterSizeThreshold,
        unhealthyZoneThreshold: flags.unhealthyZoneThreshold,
      },
      concurrentRcSyncs: flags.concurrentRcSyncs,
      concurrentEndpointSyncs: flags.concurrentEndpointSyncs,
      concurrentServiceEndpointSyncs: flags.concurrentServiceEndpointSyncs,
      maxEndpointsPerSlice: flags.maxEndpointsPerSlice,
      endpointUpdatesBatchPeriodMs: flags.endpointUpdatesBatchPeriod,
      rootCA,
      logger,
      controllerClient,
    }),
    logger,
    () => ({
      server: client.server,
      nodeMonitorPeriod: formatGoDuration(flags.nodeMonitorPeriod),
      nodeMonitorGracePeriod: formatGoDuration(flags.nodeMonitorGracePeriod),
      podEvictionTimeout: formatGoDuration(flags.podEvictionTimeout),
      nodeEvictionRate: flags.nodeEvictionRate,
    }),
  ),
);

stopOnSignals({
  log: logger,
  stop: async () => {
    await work.stop();
    client.close();
    for (const c of controllerClients.values()) c.close();
    election?.client.close();
  },
});
