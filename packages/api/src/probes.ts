// Probe and handler defaults as Kubernetes fills them (SetDefaults_Probe, SetDefaults_HTTPGetAction).
// The API server applies them on create; the node agent applies them again when it reads a
// probe, so a pod stored without them (an older object, a fake) is probed the same way.

import type { HTTPGetAction, Probe } from './types';

/** The probe timings a spec leaves unset (or sets to 0) get, in seconds and counts. */
export const PROBE_DEFAULTS = {
  initialDelaySeconds: 0,
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
} as const;

export type ProbeTiming = { -readonly [K in keyof typeof PROBE_DEFAULTS]: number };

/** A probe's timings with the defaults filled in; 0 means "the default", as in Kubernetes. */
export function probeTiming(probe: Probe): ProbeTiming {
  const pick = (value: unknown, fallback: number): number => (typeof value === 'number' && value > 0 ? value : fallback);
  return {
    initialDelaySeconds: pick(probe.initialDelaySeconds, PROBE_DEFAULTS.initialDelaySeconds),
    timeoutSeconds: pick(probe.timeoutSeconds, PROBE_DEFAULTS.timeoutSeconds),
    periodSeconds: pick(probe.periodSeconds, PROBE_DEFAULTS.periodSeconds),
    successThreshold: pick(probe.successThreshold, PROBE_DEFAULTS.successThreshold),
    failureThreshold: pick(probe.failureThreshold, PROBE_DEFAULTS.failureThreshold),
  };
}

/** Fills an httpGet action's path ("/") and scheme (HTTP) in place. Tolerant of bad input. */
export function defaultHttpGet(action: HTTPGetAction | undefined): void {
  if (typeof action !== 'object' || action === null) return;
  if (!action.path) action.path = '/';
  if (!action.scheme) action.scheme = 'HTTP';
}

/** Fills a probe's defaults in place (the API server's defaulting). Tolerant of bad input. */
export function defaultProbe(probe: Probe | undefined): void {
  if (typeof probe !== 'object' || probe === null) return;
  const timing = probeTiming(probe);
  // initialDelaySeconds has no stored default in Kubernetes: it stays absent.
  if (!probe.timeoutSeconds) probe.timeoutSeconds = timing.timeoutSeconds;
  if (!probe.periodSeconds) probe.periodSeconds = timing.periodSeconds;
  if (!probe.successThreshold) probe.successThreshold = timing.successThreshold;
  if (!probe.failureThreshold) probe.failureThreshold = timing.failureThreshold;
  defaultHttpGet(probe.httpGet);
}
