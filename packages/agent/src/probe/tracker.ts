// The decision logic of one probe of one container, without I/O or timers: what a run of
// results means given the thresholds, when the next probe is due, and whether a probe runs
// at all. The worker feeds it; the tests drive it directly.
import type { ProbeTiming } from '@peapod/api';
import type { ProbeKind } from './types';

/** What a probe says about its container: 'unknown' before a startup probe has decided. */
export type ProbeState = 'success' | 'failure' | 'unknown';

export interface Tracker {
  /** The container attempt this state belongs to; a new attempt starts afresh. */
  containerId: string;
  state: ProbeState;
  /** The last raw result and how many times in a row it came. */
  last?: 'success' | 'failure';
  run: number;
  /** A failed liveness or startup probe waits for the container to be replaced. */
  onHold: boolean;
}

/**
 * Before its first decisive run: a readiness probe says not ready, a liveness probe says
 * alive (a container is not killed before its probe had its chances), a startup probe
 * has not decided.
 */
export function initialState(kind: ProbeKind): ProbeState {
  if (kind === 'readiness') return 'failure';
  if (kind === 'liveness') return 'success';
  return 'unknown';
}

export function newTracker(kind: ProbeKind, containerId: string): Tracker {
  return { containerId, state: initialState(kind), run: 0, onHold: false };
}

/**
 * One probe result. The state changes once successThreshold successes or failureThreshold
 * failures come in a row; a liveness or startup probe that fails then holds until the
 * container is replaced.
 */
export function observe(t: Tracker, kind: ProbeKind, timing: ProbeTiming, result: 'success' | 'failure'): { tracker: Tracker; changed: boolean } {
  const run = t.last === result ? t.run + 1 : 1;
  const next: Tracker = { ...t, last: result, run };
  const threshold = result === 'success' ? timing.successThreshold : timing.failureThreshold;
  if (run < threshold) return { tracker: next, changed: false };
  next.state = result;
  if (result === 'failure' && kind !== 'readiness') {
    next.onHold = true;
    next.run = 0;
  }
  return { tracker: next, changed: next.state !== t.state };
}

/**
 * Whether a probe of this kind runs for a container: liveness and readiness wait for the
 * startup probe to pass, a startup probe stops once it has, and a held probe waits.
 */
export function shouldProbe(kind: ProbeKind, t: Tracker, started: boolean): boolean {
  if (t.onHold) return false;
  return kind === 'startup' ? !started : started;
}

/**
 * When the next probe is due (epoch ms): initialDelaySeconds after the container started,
 * then every periodSeconds after the previous probe began.
 */
export function nextProbeAt(timing: ProbeTiming, startedAtMs: number, lastProbeAtMs: number | undefined): number {
  const firstAt = startedAtMs + timing.initialDelaySeconds * 1000;
  if (lastProbeAtMs === undefined) return firstAt;
  return Math.max(firstAt, lastProbeAtMs + timing.periodSeconds * 1000);
}
