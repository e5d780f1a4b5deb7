#!/usr/bin/env node
// peapod-scheduler: flags and signals; the work is in run.ts.

import { InvalidArgumentError } from 'commander';
import { Client, apiRateOptions, componentCommand, connectOrExit, createLogger, leaderElectionConfig, leaderElectionOptions, orExit, reportStart, runLeaderElected, stopOnSignals } from '@peapod/client';
import type { ComponentFlags, LeaderElectionFlags } from '@peapod/client';
import { runScheduler } from './run';
import { defaultSchedulerName } from './scheduler';

function percentage(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be an integer from 0 to 100');
  return n;
}

interface Flags extends ComponentFlags, LeaderElectionFlags {
  schedulerName: string;
  percentageOfNodesToScore: number;
}

const program = componentCommand('peapod-scheduler', 'Binds unbound pods to nodes')
  .option('--scheduler-name <name>', 'schedule the pods whose spec.schedulerName is this', defaultSchedulerName)
  .option(
    '--percentage-of-nodes-to-score <n>',
    'share of nodes to find feasible before scoring (0: adaptive)',
    percentage,
    0,
  );
apiRateOptions(leaderElectionOptions(program, 'kube-scheduler'), { qps: 50, burst: 100 }).parse();

const flags = program.opts<Flags>();
const logger = createLogger('scheduler', { level: flags.logLevel });

const { client, options } = connectOrExit('peapod-scheduler', flags);
// Events on a client (and a --kube-api-qps) of their own, as Kubernetes' scheduler writes them.
const eventClient = new Client({ ...options, userAgent: options.userAgent ?? 'peapod-scheduler/events' });
const election = orExit('peapod-scheduler', () => leaderElectionConfig(flags, options, logger));

// Scheduling runs while this instance leads (always, without election); a new term starts
// from fresh informers, so its cache holds every pod bound meanwhile.
const work = runLeaderElected(election, () =>
  reportStart(
    runScheduler(client, { schedulerName: flags.schedulerName, percentageOfNodesToScore: flags.percentageOfNodesToScore, logger, eventClient }),
    logger,
    () => ({ server: client.server, schedulerName: flags.schedulerName }),
  ),
);

// Requests still on their way get this long to finish; a second signal ends at once.
const stopGraceMs = 10_000;

stopOnSignals({
  log: logger,
  graceMs: stopGraceMs,
  secondSignalExits: true,
  stop: async () => {
    await work.stop();
    client.close();
    eventClient.close();
    election?.client.close();
  },
});
