#!/usr/bin/env node
// peapod-scheduler: flags and signals; the work is in run.ts.

import { InvalidArgumentError } from 'commander';
import { componentCommand, connectOrExit, createLogger, stopOnSignals } from '@peapod/client';
import type { ComponentFlags } from '@peapod/client';
import { runScheduler } from './run';
import { defaultSchedulerName } from './scheduler';

function percentage(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be an integer from 0 to 100');
  return n;
}

interface Flags extends ComponentFlags {
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
  )
  .parse();

const flags = program.opts<Flags>();
const logger = createLogger('scheduler', { level: flags.logLevel });

const { client } = connectOrExit('peapod-scheduler', flags);

const running = runScheduler(client, {
  schedulerName: flags.schedulerName,
  percentageOfNodesToScore: flags.percentageOfNodesToScore,
  logger,
});

// Requests still on their way get this long to finish; a second signal ends at once.
const stopGraceMs = 10_000;

let stopping = false;
stopOnSignals({
  log: logger,
  graceMs: stopGraceMs,
  secondSignalExits: true,
  stop: () => {
    stopping = true;
    return running.stop().then(() => client.close());
  },
});

running.started.then(
  () => logger.info('started', { server: client.server, schedulerName: flags.schedulerName }),
  (err: unknown) => {
    if (stopping) return;
    logger.error('could not start', { error: err });
    process.exit(1);
  },
);
