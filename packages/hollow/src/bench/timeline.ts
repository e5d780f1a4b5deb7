// When the churn's slow calls happened and what the API server was doing then: our client's
// slowest mutating call and slowest pod startup per window beside the API server's warnings
// (slow requests, event-loop stalls with their garbage collection, slow SQLite steps) and the
// hollow nodes' process's event-loop stalls, read from their log lines, and the churn's own
// scaling (pods added and removed by its scale patches), its largest random work.

/** One call of ours: when it started (ms since the epoch) and how long it took. */
export interface TimedCall {
  call: string;
  at: number;
  seconds: number;
}

export interface Slowest {
  what: string;
  seconds: number;
}

export interface TimelineWindow {
  /** seconds since the start of the churn */
  from: number;
  /** our client's slowest mutating call that started in the window */
  client?: Slowest;
  /** the API server's requests over its slow-request threshold that started in the window */
  slowRequests: number;
  server?: Slowest;
  /** event-loop stalls that began in the window: how many, the longest, its GC time and the API server's CPU time in it */
  stalls: number;
  longestStallMs: number;
  longestStallGcMs: number;
  longestStallCpuMs: number;
  /** pods created in the window that came to run: how many, how many took longer than slowStartupSeconds, the slowest (seconds) */
  startups: number;
  slowStartups: number;
  slowestStartup: number;
  /** the hollow nodes' process's event-loop stalls that began in the window: how many, the longest, its GC time and the process's CPU time in it */
  nodeStalls: number;
  longestNodeStallMs: number;
  longestNodeStallGcMs: number;
  longestNodeStallCpuMs: number;
  /** the share of the window in which some task of the machine waited for a CPU, for the disk (PSI) */
  cpuPressure?: number;
  ioPressure?: number;
  /** connections the kernel dropped from a full listen queue in the window (every listener of the machine) */
  listenOverflows?: number;
  /** slow synchronous store steps by what they were (commit, checkpoint...): how many, the longest */
  steps: Map<string, { count: number; maxMs: number }>;
  /** replicas the churn's scale patches of the window added and removed, over all controllers */
  scaledUp: number;
  scaledDown: number;
}

/** Kubernetes' pod startup SLO: a pod slower than this is counted apart. */
export const slowStartupSeconds = 5;

/** A component's warnings the timeline reads, with the time each began (ms since the epoch). */
export type LogWarning =
  | { kind: 'request'; at: number; call: string; seconds: number; object: string }
  | { kind: 'stall'; at: number; ms: number; gcMs: number; cpuMs: number }
  | { kind: 'step'; at: number; step: string; ms: number };

/** What a request addressed, as the slow-request line names it: NAMESPACE/NAME, either part empty when it had none. */
export function objectKey(namespace: unknown, name: unknown): string {
  return `${typeof namespace === 'string' ? namespace : ''}/${typeof name === 'string' ? name : ''}`;
}

/** The warnings among a component's log lines (JSON, one a line); other lines are skipped. */
export function logWarnings(logs: string): LogWarning[] {
  const out: LogWarning[] = [];
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"level":"warn"')) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const ts = Date.parse(String(r.ts));
    const msg = String(r.msg);
    if (msg === 'slow request') {
      const seconds = Number(r.seconds);
      const call = `${String(r.verb)} ${String(r.resource)}${r.subresource ? `/${String(r.subresource)}` : ''}`;
      out.push({ kind: 'request', at: ts - seconds * 1000, call, seconds, object: objectKey(r.namespace, r.name) });
    } else if (msg === 'event loop stalled') {
      out.push({ kind: 'stall', at: Date.parse(String(r.began)), ms: Number(r.ms), gcMs: Number(r.gcMs), cpuMs: Number(r.cpuMs) });
    } else if (msg.startsWith('slow SQLite ') || msg === 'slow garbage collection') {
      const ms = Number(r.ms);
      const step = msg === 'slow garbage collection' ? `GC ${String(r.kind)}` : msg.slice('slow SQLite '.length);
      out.push({ kind: 'step', at: ts - ms, step, ms });
    }
  }
  return out;
}

/** The machine's pressure stall totals (µs) and its count of listen queue overflows at a time (ms since the epoch). */
export interface PressureSample {
  at: number;
  cpuMicros?: number;
  ioMicros?: number;
  listenOverflows?: number;
}

/** One scale patch of the churn: when it was sent (ms since the epoch) and the replicas it added (negative: removed). */
export interface ScaleChange {
  at: number;
  delta: number;
}

/** What the timeline places in its windows. */
export interface TimelineSources {
  /** our client's calls */
  calls: TimedCall[];
  /** the API server's warnings */
  warnings: LogWarning[];
  /** the machine's pressure totals, sampled at the windows' bounds */
  pressure?: PressureSample[];
  /** pod startups, each at its pod's creation */
  startups?: TimedCall[];
  /** the hollow nodes' process's warnings (its stalls are read) */
  nodeWarnings?: LogWarning[];
  /** the churn's scale patches */
  scales?: ScaleChange[];
}

/**
 * Windows of windowSeconds from `start` to `end` (ms since the epoch), each with what happened
 * in it; pressure samples taken at the windows' bounds give each its share of waiting.
 */
export function timeline(start: number, end: number, windowSeconds: number, sources: TimelineSources): TimelineWindow[] {
  const { calls, warnings, pressure = [], startups = [], nodeWarnings = [], scales = [] } = sources;
  const windows: TimelineWindow[] = [];
  for (let from = 0; start + from * 1000 < end; from += windowSeconds) {
    windows.push({
      from,
      slowRequests: 0,
      stalls: 0,
      longestStallMs: 0,
      longestStallGcMs: 0,
      longestStallCpuMs: 0,
      startups: 0,
      slowStartups: 0,
      slowestStartup: 0,
      nodeStalls: 0,
      longestNodeStallMs: 0,
      longestNodeStallGcMs: 0,
      longestNodeStallCpuMs: 0,
      steps: new Map(),
      scaledUp: 0,
      scaledDown: 0,
    });
  }
  for (let i = 1; i < pressure.length; i++) {
    const [a, b] = [pressure[i - 1], pressure[i]];
    const w = windows.find((x) => Math.abs(start + x.from * 1000 - a.at) < (windowSeconds * 1000) / 2);
    if (!w || b.at <= a.at) continue;
    const share = (x: number | undefined, y: number | undefined): number | undefined => (x === undefined || y === undefined ? undefined : (y - x) / 1000 / (b.at - a.at));
    w.cpuPressure = share(a.cpuMicros, b.cpuMicros);
    w.ioPressure = share(a.ioMicros, b.ioMicros);
    if (a.listenOverflows !== undefined && b.listenOverflows !== undefined) w.listenOverflows = b.listenOverflows - a.listenOverflows;
  }
  const windowOf = (at: number): TimelineWindow | undefined => (at < start || at >= end ? undefined : windows[Math.floor((at - start) / 1000 / windowSeconds)]);
  const slower = (a: Slowest | undefined, what: string, seconds: number): Slowest => (a && a.seconds >= seconds ? a : { what, seconds });
  for (const c of calls) {
    const w = windowOf(c.at);
    if (w) w.client = slower(w.client, c.call, c.seconds);
  }
  for (const s of startups) {
    const w = windowOf(s.at);
    if (!w) continue;
    w.startups++;
    if (s.seconds > slowStartupSeconds) w.slowStartups++;
    w.slowestStartup = Math.max(w.slowestStartup, s.seconds);
  }
  for (const x of scales) {
    const w = windowOf(x.at);
    if (!w) continue;
    if (x.delta > 0) w.scaledUp += x.delta;
    else w.scaledDown -= x.delta;
  }
  for (const x of nodeWarnings) {
    if (x.kind !== 'stall') continue;
    const w = windowOf(x.at);
    if (!w) continue;
    w.nodeStalls++;
    if (x.ms > w.longestNodeStallMs) {
      w.longestNodeStallMs = x.ms;
      w.longestNodeStallGcMs = x.gcMs;
      w.longestNodeStallCpuMs = x.cpuMs;
    }
  }
  for (const x of warnings) {
    const w = windowOf(x.at);
    if (!w) continue;
    if (x.kind === 'request') {
      w.slowRequests++;
      w.server = slower(w.server, x.call, x.seconds);
    } else if (x.kind === 'stall') {
      w.stalls++;
      if (x.ms > w.longestStallMs) {
        w.longestStallMs = x.ms;
        w.longestStallGcMs = x.gcMs;
        w.longestStallCpuMs = x.cpuMs;
      }
    } else {
      const s = w.steps.get(x.step) ?? { count: 0, maxMs: 0 };
      s.count++;
      s.maxMs = Math.max(s.maxMs, x.ms);
      w.steps.set(x.step, s);
    }
  }
  return windows;
}

/** When the first whole log line kept was written (ms since the epoch): the test harness keeps only the last MiBs. */
export function logsFrom(logs: string): number {
  const newline = logs.indexOf('\n');
  const first = logs.startsWith('{"ts":"') ? logs : logs.slice(newline + 1);
  return Date.parse(first.slice('{"ts":"'.length, first.indexOf('"', '{"ts":"'.length)));
}

/** Event-loop stalls between start and end: how many, their total and longest, and the GC time in them (ms). */
export function stallTotals(warnings: LogWarning[], start: number, end: number): { from: number; count: number; totalMs: number; longestMs: number; gcMs: number } {
  const stalls = warnings.filter((x): x is Extract<LogWarning, { kind: 'stall' }> => x.kind === 'stall' && x.at >= start && x.at < end);
  return {
    from: start,
    count: stalls.length,
    totalMs: stalls.reduce((a, s) => a + s.ms, 0),
    longestMs: stalls.reduce((a, s) => Math.max(a, s.ms), 0),
    gcMs: stalls.reduce((a, s) => a + s.gcMs, 0),
  };
}
