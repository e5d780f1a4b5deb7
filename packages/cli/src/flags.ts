// Flag values as kubectl spells them: Go durations ("30s", "1m30s", "0") and booleans
// that accept `--flag=false`.

import { parseBool as goBool, parseDuration as goDuration } from '@peapod/client/flag-values';
import { CliError } from './errors';

/** A Go duration in milliseconds; a bare number means seconds. */
export function parseDuration(text: string, flag: string): number {
  try {
    return goDuration(text, { bareSeconds: true });
  } catch {
    throw new CliError(`invalid argument "${text}" for "${flag}" flag: time: invalid duration "${text}"`);
  }
}

export function parseBool(text: string | boolean | undefined, flag: string): boolean {
  if (text === undefined || text === true || text === '') return true;
  if (text === false) return false;
  try {
    return goBool(text);
  } catch (err) {
    throw new CliError(`invalid argument "${text}" for "${flag}" flag: ${(err as Error).message}`);
  }
}

export function parseInteger(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new CliError(`invalid argument "${text}" for "${flag}" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
  return Number(text);
}

/** Commander collector for repeatable flags (-f a -f b). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Commander collector for kubectl's string-slice flags: repeatable, and each value split at commas. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',')];
}
