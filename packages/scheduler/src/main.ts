#!/usr/bin/env node
// peapod-scheduler: flags and signals; the work is in run.ts.

import { Command, InvalidArgumentError } from 'commander';
import { clientFromFlags, createLogger, stopOnSignals, isLogLevel } from '@peapod/client';
import type { LogLevel } from '@peapod/client';
import { runScheduler } from './run';
import { defaultSchedulerName } from './scheduler';

function percentage(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be an integer from 0 to 100');
  return n;
}

function logLevel(value: string): LogLevel {
  if (isLogLevel(value)) return value;
  throw new InvalidArgumentError('must be debug, info, warn or error');
}

interface Flags {
  server?: string;
  token?: string;
  kubeconfig?: string;
  schedulerName: string;
  percentageOfNodesToScore: number;
  logLevel?: LogLevel;
}

const program = new Command('peapod-scheduler')
  .description('Binds unbound pods to nodes')
  .option('--server <url>', 'API server URL')
  .option('--token <token>', 'bearer token')
  .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config)')
  .option('--scheduler-name <name>', 'schedule the pods whose spec.schedulerName is this', defaultSchedulerName)
  .option(
    '--percentage-of-nodes-to-score <n>',
    'share of nodes to find feasible before scoring (0: adaptive)',
    percentage,
    0,
  )
  .option('--log-level <level>', 'debug, info, warn or error (default: PEAPOD_LOG_LEVEL, else warn)', logLevel)
  .parse();

const flags = program.opts<Flags>();
const logger = createLogger('scheduler', { level: flags.logLevel });

let connection: ReturnType<typeof clientFromFlags>;
try {
  connection = clientFromFlags({ server: flags.server, token: flags.token, kubeconfig: flags.kubeconfig });
} catch (err) {
  process.stderr.write(`peapod-scheduler: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const { client } = connection;

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
