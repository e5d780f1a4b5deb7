// Pod and node summaries as kubectl shows them (READY, STATUS, RESTARTS, AGE), plus the
// condition and resource helpers the agent, scheduler and server share.

import { parseBytes, parseCpuMillis } from './quantity';
import { rfc3339 } from './time';
import type { Container, Node, Pod, PodCondition, PodPhase, PodStatus } from './types';

interface PodSummary {
  ready: number;
  total: number;
  restarts: number;
  /** When the containers counted in `restarts` last ended (epoch ms; 0: never). */
  lastRestart: number;
  status: string;
}

function lastEnded(cs: { lastState?: { terminated?: { finishedAt?: string } } }, latest: number): number {
  const at = Date.parse(cs.lastState?.terminated?.finishedAt ?? '');
  return Number.isNaN(at) ? latest : Math.max(latest, at);
}

function summarizePod(pod: Pod): PodSummary {
  const status = pod.status ?? {};
  const total = pod.spec?.containers?.length ?? 0;
  let reason: string = status.reason || status.phase || '';
  let restarts = 0;
  let lastRestart = 0;
  let ready = 0;

  const initCount = pod.spec?.initContainers?.length ?? 0;
  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    restarts += cs.restartCount ?? 0;
    lastRestart = lastEnded(cs, lastRestart);
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (terminated) {
      if (terminated.reason) reason = `Init:${terminated.reason}`;
      else if (terminated.signal) reason = `Init:Signal:${terminated.signal}`;
      else reason = `Init:ExitCode:${terminated.exitCode}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || getPodCondition(pod, 'Initialized')?.status === 'True') {
    restarts = 0;
    lastRestart = 0;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    // Walk backwards so the first container's state is the one shown, as kubectl does.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      restarts += cs.restartCount ?? 0;
      lastRestart = lastEnded(cs, lastRestart);
      const waiting = cs.state?.waiting;
      const terminated = cs.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      } else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    // A container still running after another completed: the pod is not done.
    if (reason === 'Completed' && hasRunning) {
      reason = getPodCondition(pod, 'Ready')?.status === 'True' ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && !isPodTerminal(pod)) reason = 'Terminating';
  return { ready, total, restarts, lastRestart, status: reason || 'Unknown' };
}

/** What kubectl prints before deleting with grace 0 and --force; the dashboard shows it too. */
export const immediateDeletionWarning =
  'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.';

/** "ready/total" containers, as in kubectl's READY column. */
export function podReadyCount(pod: Pod): string {
  const s = summarizePod(pod);
  return `${s.ready}/${s.total}`;
}

/** The RESTARTS column: restarts of the app containers (of init containers while initializing). */
export function podRestarts(pod: Pod): number {
  return summarizePod(pod).restarts;
}

/** When a container counted in RESTARTS last ended (epoch ms), if one did: kubectl's "(5m ago)". */
export function podLastRestart(pod: Pod): number | undefined {
  return summarizePod(pod).lastRestart || undefined;
}

/** The STATUS column, following kubectl's rules. */
export function podDisplayStatus(pod: Pod): string {
  return summarizePod(pod).status;
}

export function getPodCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

/**
 * Sets a condition in a status (mutating it), keeping the previous lastTransitionTime when the
 * condition's status did not change. Returns whether anything changed.
 */
export function setPodCondition(status: PodStatus, cond: PodCondition, now: Date = new Date()): boolean {
  const conditions = (status.conditions ??= []);
  const i = conditions.findIndex((c) => c.type === cond.type);
  if (i < 0) {
    conditions.push({ ...cond, lastTransitionTime: cond.lastTransitionTime ?? rfc3339(now) });
    return true;
  }
  const old = conditions[i];
  const next: PodCondition = {
    ...cond,
    lastTransitionTime:
      old.status === cond.status ? old.lastTransitionTime : (cond.lastTransitionTime ?? rfc3339(now)),
  };
  if (
    old.status === next.status &&
    old.reason === next.reason &&
    old.message === next.message &&
    old.lastTransitionTime === next.lastTransitionTime &&
    (old.lastProbeTime ?? null) === (next.lastProbeTime ?? null)
  ) {
    return false;
  }
  conditions[i] = next;
  return true;
}

/** The pod's Ready condition is True: it may receive traffic (Kubernetes' podutil.IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return getPodCondition(pod, 'Ready')?.status === 'True';
}

/**
 * Whether the pod would serve traffic: its readiness, also while it terminates. The agent
 * turns Ready false as soon as a pod terminates (so it leaves endpoints at once), while
 * ContainersReady keeps following the readiness probes until the containers stop.
 */
export function isPodServing(pod: Pod): boolean {
  if (pod.metadata.deletionTimestamp === undefined) return isPodReady(pod);
  return getPodCondition(pod, 'ContainersReady')?.status === 'True';
}

/**
 * Ready for more than minReadySeconds (Kubernetes' podutil.IsPodAvailable): with a minimum,
 * a Ready condition that does not say since when does not count.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = Date.parse(getPodCondition(pod, 'Ready')?.lastTransitionTime ?? '');
  return !Number.isNaN(since) && since + minReadySeconds * 1000 < now;
}

/**
 * A container's imagePullPolicy when it sets none, as Kubernetes defaults it: a floating tag
 * (`:latest` or none) is pulled every time, a pinned tag or a digest only when missing.
 */
export function defaultImagePullPolicy(image: string | undefined): NonNullable<Container['imagePullPolicy']> {
  if (!image) return 'IfNotPresent';
  // A colon before the last slash belongs to a registry's host:port, not to a tag.
  const afterSlash = image.slice(image.lastIndexOf('/') + 1);
  if (afterSlash.includes('@')) return 'IfNotPresent';
  const colon = afterSlash.lastIndexOf(':');
  const tag = colon < 0 ? '' : afterSlash.slice(colon + 1);
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** terminationGracePeriodSeconds when a pod's spec gives none, as in Kubernetes. */
export const defaultTerminationGracePeriodSeconds = 30;

/** The seconds a pod's containers get to stop unless a deletion asks otherwise: its spec's, else the default. */
export function specGracePeriodSeconds(pod: Pod): number {
  return pod.spec?.terminationGracePeriodSeconds ?? defaultTerminationGracePeriodSeconds;
}

/** The grace a pod's containers get to stop: what its deletion set, else its spec's. */
export function podGracePeriodSeconds(pod: Pod): number {
  return pod.metadata.deletionGracePeriodSeconds ?? specGracePeriodSeconds(pod);
}

/** Succeeded or Failed: its containers will not run again (Kubernetes' podutil.IsPodTerminal). */
export function isPodTerminal(pod: Pod): boolean {
  return isTerminalPhase(pod.status?.phase);
}

export function isTerminalPhase(phase: PodPhase | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

export interface PodResourceRequests {
  cpuMillis: number;
  memoryBytes: number;
}

export interface PodRequestsOptions {
  /**
   * What a container that asks nothing of a resource (no request, no limit) counts for.
   * A scheduler scores with such defaults so that pods without requests still spread out
   * instead of all landing on the node that looks empty. Default: nothing.
   */
  unsetDefaults?: PodResourceRequests;
  /** Count an unparsable quantity as 0 instead of throwing (for objects the server already validated). */
  lenient?: boolean;
}

function quantity(value: unknown, parse: (s: string) => number, lenient: boolean): number {
  if (!lenient) return parse(String(value));
  try {
    return parse(String(value));
  } catch {
    return 0;
  }
}

function containerRequests(c: Container, opts: PodRequestsOptions): PodResourceRequests {
  const requests = c.resources?.requests ?? {};
  const limits = c.resources?.limits ?? {};
  const cpu = requests.cpu ?? limits.cpu;
  const memory = requests.memory ?? limits.memory;
  const lenient = opts.lenient ?? false;
  return {
    cpuMillis: cpu === undefined ? (opts.unsetDefaults?.cpuMillis ?? 0) : quantity(cpu, parseCpuMillis, lenient),
    memoryBytes: memory === undefined ? (opts.unsetDefaults?.memoryBytes ?? 0) : quantity(memory, parseBytes, lenient),
  };
}

/**
 * What a pod asks of a node: the sum over its containers, but at least what any single init
 * container asks (init containers run one at a time, before the others). A resource with
 * only a limit requests its limit. Throws on an invalid quantity (validation rejects those)
 * unless `opts.lenient`.
 */
export function podRequests(pod: Pod, opts: PodRequestsOptions = {}): PodResourceRequests {
  const total: PodResourceRequests = { cpuMillis: 0, memoryBytes: 0 };
  for (const c of pod.spec?.containers ?? []) {
    const r = containerRequests(c, opts);
    total.cpuMillis += r.cpuMillis;
    total.memoryBytes += r.memoryBytes;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c, opts);
    total.cpuMillis = Math.max(total.cpuMillis, r.cpuMillis);
    total.memoryBytes = Math.max(total.memoryBytes, r.memoryBytes);
  }
  return total;
}

/** A duration in kubectl's short form: "5s", "3m20s", "2d3h", "45d", "3y". */
export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (years < 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/** The AGE column for a timestamp; "<unknown>" when there is none. */
export function formatAge(fromIso: string | undefined | null, now: number = Date.now()): string {
  if (!fromIso) return '<unknown>';
  const from = Date.parse(fromIso);
  if (Number.isNaN(from)) return '<unknown>';
  return formatDuration(now - from);
}

/** The STATUS column of `get nodes`: Ready / NotReady / Unknown, plus ",SchedulingDisabled". */
export function nodeDisplayStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const parts = [ready === undefined ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}
