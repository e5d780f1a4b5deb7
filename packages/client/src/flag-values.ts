// The value grammars of every command's flags, as Kubernetes flags spell them: Go's
// durations ("40s", "5m", "300ms", "1h30m", "1.5s", "0") and Go's booleans. Nothing here
// loads anything, so that peactl's commands that do not connect stay quick to start.

const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export interface DurationOptions {
  /** A bare number is seconds (flags that took seconds before they took durations: "10", "0.5"). */
  bareSeconds?: boolean;
}

/** Milliseconds in a Go duration string; throws on anything else (negative durations included). */
export function parseDuration(text: string, opts: DurationOptions = {}): number {
  const s = text.trim();
  if (s === '0') return 0;
  if (opts.bareSeconds && /^(\d+(\.\d*)?|\.\d+)$/.test(s)) return Number(s) * 1000;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    part.lastIndex = at;
    const m = part.exec(s);
    if (m === null) throw new Error(`invalid duration "${text}": expected a number and a unit (ns, us, ms, s, m, h), e.g. 40s, 2m, 300ms`);
    total += Number(m[1]) * unitMs[m[2]];
    at = part.lastIndex;
  }
  if (at === 0) throw new Error(`invalid duration "${text}"`);
  return total;
}

const trueWords = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const falseWords = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool: 1, t, T, TRUE, true, True and their false twins. */
export function parseBool(text: string): boolean {
  if (trueWords.has(text)) return true;
  if (falseWords.has(text)) return false;
  throw new Error(`strconv.ParseBool: parsing "${text}": invalid syntax`);
}

/** The duration in Go's notation, for logs and messages: 40000 → "40s", 90000 → "1m30s". */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  let out = '';
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  out += `${rest / 1000}s`;
  return out;
}
