// Flag values as kubectl spells them: Go durations ("30s", "1m30s", "0") and booleans
// that accept `--flag=false`.

import { CliError } from './errors';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration in milliseconds; a bare number means seconds. */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    total += Number(m[1]) * units[m[2]];
    matched = re.lastIndex;
  }
  if (t === '' || matched !== t.length) throw new CliError(`invalid argument "${text}" for "${flag}" flag: time: invalid duration "${text}"`);
  return total;
}

export function parseBool(text: string | boolean | undefined, flag: string): boolean {
  if (text === undefined || text === true || text === '') return true;
  if (text === false) return false;
  if (/^(true|t|1)$/i.test(text)) return true;
  if (/^(false|f|0)$/i.test(text)) return false;
  throw new CliError(`invalid argument "${text}" for "${flag}" flag: strconv.ParseBool: parsing "${text}": invalid syntax`);
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
