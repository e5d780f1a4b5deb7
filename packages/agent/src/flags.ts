// Flag values of peapod-agent that peapod-hollow takes too (it runs the same nodes), on top
// of the shared grammars in @peapod/client. Each parser throws commander's InvalidArgumentError.

import os from 'os';
import { InvalidArgumentError, Option } from 'commander';
import { isValidQuantity } from '@peapod/api';
import { flagValue } from '@peapod/client';
import { DEFAULT_EVENT_BURST, DEFAULT_EVENT_QPS } from './events';
import { parseCidr } from './runtime/pod-cidr';

const durationMs = flagValue.duration({ bareSeconds: true });

/** A period: a Go duration or a bare number of seconds ("10", "0.5", "2s", "500ms"), more than zero. */
export function period(value: string): number {
  const ms = durationMs(value);
  if (ms <= 0) throw new InvalidArgumentError('must be a positive duration');
  return ms;
}

export function periodOption(flags: string, description: string, fallback: string): Option {
  return new Option(flags, description).argParser(period).default(period(fallback), fallback);
}

/** A delay in milliseconds (0 allowed), or "never": null. */
function delayOrNever(value: string): number | null {
  return value === 'never' ? null : durationMs(value);
}

/** A delay flag (a duration, 0 allowed); with `never`, "never" is a value too (null). */
export function delayOption(flags: string, description: string, fallback: string, opts: { never?: boolean } = {}): Option {
  const parse = opts.never ? delayOrNever : durationMs;
  return new Option(flags, description).argParser(parse).default(parse(fallback), fallback);
}

/** --event-qps, with the kubelet's default. */
export function eventQpsOption(): Option {
  return new Option('--event-qps <n>', 'event writes per second of each node (0: no limit)').argParser(flagValue.count).default(DEFAULT_EVENT_QPS);
}

/** --event-burst, with the kubelet's default. */
export function eventBurstOption(): Option {
  return new Option('--event-burst <n>', 'event writes a node may make at once beyond --event-qps').argParser(flagValue.positiveInt).default(DEFAULT_EVENT_BURST);
}

export function quantity(value: string): string {
  if (!isValidQuantity(value)) throw new InvalidArgumentError('must be a quantity such as 2, 1500m, 4Gi');
  return value;
}

export function cidr(value: string): string {
  try {
    parseCidr(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

/** The host's first non-loopback IPv4 address, else loopback. */
export function defaultAddress(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
