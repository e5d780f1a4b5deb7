// One way to build a component's command: the shared connection and log flags, the value
// grammars (Go's durations and booleans, as Kubernetes flags spell them), defaults declared
// once, and connect-or-exit. Each main.ts adds its own flags on top.

import { isIPv4 } from 'net';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseBool, parseDuration, type DurationOptions } from './flag-values';
import { optionsFromFlags, type ConnectionFlags } from './kubeconfig';
import { Client, type ClientOptions } from './rest';
import { isLogLevel, type Logger, type LogLevel } from './log';
import { checkLeaderElectionTimings, type LeaderElectionConfig, type Term } from './leader-election';

/** A flag parser from a function that throws: its message becomes the flag's usage error. */
export function flagParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  };
}

/** Commander argument parsers for component flags; a bad value is a usage error naming the flag. */
export const flagValue = {
  /** A boolean; a flag given without a value (`--allow-privileged`) is true. */
  bool: (value: string | undefined): boolean => (value === undefined ? true : flagParser(parseBool)(value)),
  /** A Go duration, in milliseconds. */
  duration: (opts: DurationOptions = {}) => flagParser((value: string) => parseDuration(value, opts)),
  positiveInt(value: string): number {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
    return n;
  },
  count(value: string): number {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
    return n;
  },
  /** A number of things per second, 0 or more (0: none). */
  rate(value: string): number {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number, 0 or more');
    return n;
  },
  /** A share, from 0 to 1. */
  fraction(value: string): number {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
    return n;
  },
  port(value: string): number {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0: any free port)');
    return n;
  },
  logLevel(value: string): LogLevel {
    if (isLogLevel(value)) return value;
    throw new InvalidArgumentError('must be debug, info, warn or error');
  },
  ipv4(value: string): string {
    if (!isIPv4(value)) throw new InvalidArgumentError('must be an IPv4 address');
    return value;
  },
  /** Comma-separated values, blanks dropped. */
  list(value: string): string[] {
    return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  },
  /** Comma-separated IPv4 addresses. */
  ipv4List(value: string): string[] {
    const ips = flagValue.list(value);
    for (const ip of ips) if (!isIPv4(ip)) throw new InvalidArgumentError(`${ip} is not an IPv4 address`);
    return ips;
  },
};

/** --log-level, which every component and the API server take; without it, PEAPOD_LOG_LEVEL, else fallback. */
export function logLevelOption(fallback: LogLevel = 'warn'): Option {
  return new Option('--log-level <level>', `debug, info, warn or error (default: PEAPOD_LOG_LEVEL, else ${fallback})`).argParser(flagValue.logLevel);
}

/** A Go-duration flag, parsed to milliseconds, its default shown as written. */
export function durationOption(flags: string, description: string, fallback: string, opts: DurationOptions = {}): Option {
  return new Option(flags, description).argParser(flagValue.duration(opts)).default(parseDuration(fallback, opts), fallback);
}

/** The flags every component that talks to the API server takes. */
export interface ComponentFlags extends Omit<ConnectionFlags, 'namespace' | 'context'> {
  logLevel?: LogLevel;
  /** --kube-api-qps and --kube-api-burst, for the components that take them (apiRateOptions) */
  kubeApiQps?: number;
  kubeApiBurst?: number;
}

/**
 * A component's command with the shared flags: --server, --token, --kubeconfig, the TLS flags
 * as kubectl names them, --log-level.
 */
export function componentCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option('--server <url>', 'API server URL; several servers of the cluster comma-separated (the client moves to the next when one fails)')
    .option('--token <token>', 'bearer token')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config)')
    .option('--certificate-authority <file>', "CA certificate (PEM) that signs the API server's certificate")
    .option('--client-certificate <file>', 'client certificate (PEM) for TLS authentication')
    .option('--client-key <file>', 'key (PEM) of --client-certificate')
    .option('--insecure-skip-tls-verify [bool]', "don't check the API server's certificate", flagValue.bool)
    .addOption(logLevelOption());
}

/** What a command's start-up needs (a file, a client): without it, one line of why and exit 1. */
export function orExit<T>(name: string, get: () => T): T {
  try {
    return get();
  } catch (err) {
    process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

/** The client the shared flags name; a component that cannot have one says why in one line and exits 1. */
export function connectOrExit(name: string, flags: ComponentFlags): { client: Client; options: ClientOptions } {
  return orExit(name, () => {
    const { options: connection } = optionsFromFlags(connectionFlags(flags));
    const options: ClientOptions = flags.kubeApiQps !== undefined ? { ...connection, qps: flags.kubeApiQps, burst: flags.kubeApiBurst } : connection;
    return { client: new Client(options), options };
  });
}

/** The connection part of a component's flags. */
export function connectionFlags(flags: ComponentFlags): ConnectionFlags {
  const { server, token, kubeconfig, certificateAuthority, clientCertificate, clientKey, insecureSkipTlsVerify } = flags;
  return { server, token, kubeconfig, certificateAuthority, clientCertificate, clientKey, insecureSkipTlsVerify };
}

/**
 * Kubernetes' client rate limit flags, with the component's defaults (the controller
 * manager's 20 and 30, the scheduler's 50 and 100): its requests past the burst wait their
 * turn, so that a burst of its writes leaves the API server to everyone else too.
 */
export function apiRateOptions(cmd: Command, defaults: { qps: number; burst: number }): Command {
  return cmd
    .option('--kube-api-qps <n>', 'requests per second to the API server once the burst is spent (0: no limit)', flagValue.rate, defaults.qps)
    .option('--kube-api-burst <n>', 'requests the component may send at once before --kube-api-qps applies', flagValue.positiveInt, defaults.burst);
}

/** The leader election flags of the scheduler and the controller manager. */
export interface LeaderElectionFlags {
  leaderElect: boolean;
  leaderElectLeaseDuration: number;
  leaderElectRenewDeadline: number;
  leaderElectRetryPeriod: number;
  leaderElectResourceName: string;
  leaderElectResourceNamespace: string;
}

/** Adds Kubernetes' leader election flags, with client-go's timings; the lease is named as Kubernetes names the component's. */
export function leaderElectionOptions(cmd: Command, resourceName: string): Command {
  return cmd
    .option('--leader-elect [bool]', 'act only while holding the leader lease, so that one of several instances acts at a time', flagValue.bool, true)
    .addOption(durationOption('--leader-elect-lease-duration <duration>', "how long other candidates wait after the leader's last renewal before taking the lease", '15s'))
    .addOption(durationOption('--leader-elect-renew-deadline <duration>', 'how long the leader tries to renew before it stops leading (shorter than the lease duration)', '10s'))
    .addOption(durationOption('--leader-elect-retry-period <duration>', 'how often candidates try to take the lease and the leader renews it', '2s'))
    .option('--leader-elect-resource-name <name>', 'the Lease the instances compete for', resourceName)
    .option('--leader-elect-resource-namespace <namespace>', "the Lease's namespace", 'kube-system');
}

/**
 * The election the flags ask for (none with --leader-elect=false), on its own client to the
 * servers of `connection`; throws on timings that cannot work. That client gives each request
 * half the renew deadline: a request stuck on a server that died without closing its
 * connections then moves to the next server in time for the renewal, and a candidate stops
 * asking the dead one long before the lease runs out. Close the config's client when done.
 */
export function leaderElectionConfig(flags: LeaderElectionFlags, connection: ClientOptions, log: Logger): LeaderElectionConfig | undefined {
  if (!flags.leaderElect) return undefined;
  const timings = { leaseDurationMs: flags.leaderElectLeaseDuration, renewDeadlineMs: flags.leaderElectRenewDeadline, retryPeriodMs: flags.leaderElectRetryPeriod };
  checkLeaderElectionTimings(timings);
  return {
    client: new Client({ ...connection, timeoutMs: Math.ceil(timings.renewDeadlineMs / 2) }),
    log,
    name: flags.leaderElectResourceName,
    namespace: flags.leaderElectResourceNamespace,
    ...timings,
  };
}

/** A component's work once begun: `started` resolves when it works, rejects if it cannot (or was stopped first). */
export interface RunningWork extends Term {
  readonly started: Promise<void>;
}

/** Says 'started' with `fields` once the work has begun; work that cannot begin (and was not stopped) ends the process with 1. */
export function reportStart(running: RunningWork, log: Logger, fields: () => Record<string, unknown>): Term {
  let stopped = false;
  running.started.then(
    () => log.info('started', fields()),
    (err: unknown) => {
      if (stopped) return;
      log.error('could not start', { error: err });
      process.exit(1);
    },
  );
  return {
    stop: () => {
      stopped = true;
      return running.stop();
    },
  };
}
