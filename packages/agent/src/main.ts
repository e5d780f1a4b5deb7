#!/usr/bin/env node
// peapod-agent: flags, wiring and signals; the work is in agent.ts and the modules it uses.
import os from 'os';
import { Command, InvalidArgumentError } from 'commander';
import { isValidQuantity } from '@peapod/api';
import { Client, createLogger, optionsFromFlags, stopOnSignals, isLogLevel } from '@peapod/client';
import type { LogLevel } from '@peapod/client';
import { Agent } from './agent';
import { DockerRuntime } from './runtime';

function bool(value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError('must be true or false');
}

/** Seconds, fractions allowed, optionally with an "s" suffix ("10", "0.5", "2s"). */
function seconds(value: string): number {
  const n = Number(value.replace(/s$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0: any free port)');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function quantity(value: string): string {
  if (!isValidQuantity(value)) throw new InvalidArgumentError('must be a quantity such as 2, 1500m, 4Gi');
  return value;
}

function logLevel(value: string): LogLevel {
  if (isLogLevel(value)) return value;
  throw new InvalidArgumentError('must be debug, info, warn or error');
}

function runtimeName(value: string): 'docker' {
  if (value !== 'docker') throw new InvalidArgumentError('only docker is supported');
  return value;
}

/** The host's first non-loopback IPv4 address, else loopback. */
function defaultAddress(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

interface Flags {
  server?: string;
  token?: string;
  kubeconfig?: string;
  nodeName: string;
  runtime: 'docker';
  port: number;
  address?: string;
  allowPrivileged: boolean;
  infraImage: string;
  network: string;
  heartbeatInterval: number;
  backoffBase: number;
  relistPeriod: number;
  volumeResyncPeriod: number;
  cpu?: string;
  memory?: string;
  maxPods: number;
  cgroupRoot: string;
  logLevel?: LogLevel;
}

const program = new Command('peapod-agent')
  .description('Runs the pods bound to this node in Docker and reports their status')
  .option('--server <url>', 'API server URL')
  .option('--token <token>', 'bearer token')
  .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config)')
  .option('--node-name <name>', 'name of this node', os.hostname())
  .option('--runtime <name>', 'container runtime', runtimeName, 'docker')
  .option('--port <port>', 'port of the log server the API server proxies to', port, 10250)
  .option('--address <ip>', "this node's InternalIP, where the log server listens (default: first non-loopback IPv4)")
  .option('--allow-privileged [bool]', 'run pods with privileged containers', bool, true)
  .option('--infra-image <image>', 'image of the infra container holding each pod’s namespaces', 'peapod/pause:latest')
  .option('--network <name>', 'Docker network pod IPs live on', 'bridge')
  .option('--heartbeat-interval <seconds>', 'how often the node status is posted', seconds, 10)
  .option('--backoff-base <seconds>', 'first container restart back-off; doubles up to 5 min', seconds, 10)
  .option('--relist-period <seconds>', 'how often the runtime is polled for container changes', seconds, 1)
  .option('--volume-resync-period <seconds>', 'how often mounted ConfigMaps and Secrets are read again', seconds, 30)
  .option('--cpu <quantity>', 'cpu capacity to report (default: the host’s cores)', quantity)
  .option('--memory <quantity>', 'memory capacity to report (default: the host’s memory)', quantity)
  .option('--max-pods <n>', 'pod capacity to report', positiveInt, 110)
  .option('--cgroup-root <path>', 'cgroup under which each pod gets its parent ("" disables pod cgroups)', '/peapod')
  .option('--log-level <level>', 'debug, info, warn or error (default: PEAPOD_LOG_LEVEL, else warn)', logLevel)
  .parse();

const flags = program.opts<Flags>();
const log = createLogger('agent', { level: flags.logLevel });

let connection: ReturnType<typeof optionsFromFlags>;
try {
  connection = optionsFromFlags({ server: flags.server, token: flags.token, kubeconfig: flags.kubeconfig });
} catch (err) {
  process.stderr.write(`peapod-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const client = new Client(connection.options);

const runtime = new DockerRuntime({
  nodeName: flags.nodeName,
  logger: (level, msg, fields) => log[level](msg, fields),
});

const agent = new Agent({
  client,
  runtime,
  log,
  nodeName: flags.nodeName,
  address: flags.address ?? defaultAddress(),
  port: flags.port,
  allowPrivileged: flags.allowPrivileged,
  infraImage: flags.infraImage,
  network: flags.network,
  heartbeatIntervalMs: flags.heartbeatInterval * 1000,
  backoffBaseMs: flags.backoffBase * 1000,
  relistPeriodMs: flags.relistPeriod * 1000,
  volumeResyncMs: flags.volumeResyncPeriod * 1000,
  cpu: flags.cpu,
  memory: flags.memory,
  maxPods: flags.maxPods,
  cgroupParent: flags.cgroupRoot,
  // A cluster with credentials has authentication: then only the API server may read logs here.
  authenticateCallers: connection.options.token !== undefined,
});

agent.start().then(
  () => {
    // Tests and scripts read the port from here when --port 0 was asked.
    process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'info', component: 'agent', msg: 'listening', node: flags.nodeName, address: `http://${flags.address ?? defaultAddress()}:${agent.port}` })}\n`);
  },
  (err: unknown) => {
    log.error('agent failed to start', { error: err });
    process.exit(1);
  },
);

stopOnSignals({ log, stop: () => agent.stop().then(() => client.close()) });
