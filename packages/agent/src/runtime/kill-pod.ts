import type { Container, LifecycleHandler, Pod } from '@peapod/api';
import { handlerKind, runHandler, type HttpGetFn } from './hooks';
import { podIdentity } from './labels';
import { awaitWithin, type WaitOutcome } from './stop';
import type {
  ContainerKillReport,
  ExecResult,
  HookResult,
  KillPodOptions,
  KillPodReport,
  KillProgress,
  RuntimeContainer,
  StopOptions,
  StopResult,
} from './types';

/** Extra time a container gets when its preStop hook used up the grace period. */
export const PRESTOP_EXTENSION_MS = 2000;
/** The infra container only holds namespaces and exits on TERM; this bounds a stuck one. */
const INFRA_GRACE_MS = 2000;

export interface KillPodDeps {
  listPodContainers(uid: string): Promise<RuntimeContainer[]>;
  podIP(uid: string): Promise<string>;
  terminate(id: string, killAtMs: number, opts?: StopOptions): Promise<StopResult>;
  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  removeContainer(id: string): Promise<void>;
  /** How httpGet hooks are sent (default: over the network). */
  httpGet?: HttpGetFn;
}

export function newKillProgress(): KillProgress {
  return { preStop: new Map(), stopSignalSentAt: new Map() };
}

/** The container's preStop hook, started once per termination; a later entry waits for the same one. */
async function preStopHook(
  handler: LifecycleHandler,
  spec: Container,
  target: RuntimeContainer,
  deadline: number,
  podIP: string,
  deps: Pick<KillPodDeps, 'exec' | 'httpGet'>,
  opts: KillPodOptions,
  progress: KillProgress,
): Promise<{ result?: HookResult; outcome: WaitOutcome }> {
  const name = target.containerName;
  let hook = progress.preStop.get(target.id);
  // A hook started now is bounded by its own timeout (its timing out earns the extension);
  // one started by an earlier entry is waited for until this entry's nearer deadline only.
  const bound = hook ? deadline - Date.now() : Infinity;
  if (!hook) {
    const ctx = { container: spec, containerId: target.id, podIP, exec: deps.exec, httpGet: deps.httpGet };
    opts.onStep?.({ kind: 'preStopStarted', container: name, handler: handlerKind(handler), at: Date.now() });
    hook = runHandler(handler, ctx, deadline - Date.now()).then((result) => {
      opts.onStep?.({ kind: 'preStopFinished', container: name, result, at: Date.now() });
      return result;
    });
    progress.preStop.set(target.id, hook);
  }
  let result: HookResult | undefined;
  const outcome = await awaitWithin(
    hook.then((r) => (result = r)),
    bound,
    opts.signal,
  );
  return result ? { result, outcome: 'settled' } : { outcome };
}

/**
 * One app container's stop: its preStop hook (if it has one and hooks run), then the stop
 * signal, SIGKILL at the deadline (2 s after the hook when the hook used the grace period
 * it was started with up). Each step is reported as it happens. Entered again with an
 * earlier deadline (opts.progress), a hook still running is waited for until that deadline
 * only, and then SIGKILL goes at once.
 */
export async function killContainer(
  pod: Pod,
  target: RuntimeContainer,
  start: number,
  deadline: number,
  podIP: string,
  deps: Pick<KillPodDeps, 'terminate' | 'exec' | 'httpGet'>,
  opts: KillPodOptions,
): Promise<ContainerKillReport> {
  const name = target.containerName;
  const progress = opts.progress ?? newKillProgress();
  const spec = pod.spec.containers.find((c) => c.name === name);
  const preStopHandler = opts.runPreStop !== false ? spec?.lifecycle?.preStop : undefined;
  let preStop: HookResult | undefined;
  let killAt = deadline;
  let extended = false;
  const interrupted = (): ContainerKillReport => ({ name, id: target.id, stop: { ended: 'interrupted', durationMs: 0 }, extended, durationMs: Date.now() - start });
  if (spec && preStopHandler) {
    const hook = await preStopHook(preStopHandler, spec, target, deadline, podIP, deps, opts, progress);
    if (hook.outcome === 'aborted') return interrupted();
    preStop = hook.result;
    if (hook.outcome === 'timed-out') {
      // An earlier entry's hook still runs at this entry's deadline: KILL at once, no stop
      // signal, even when the wait's timer fired a millisecond before the clock reached it.
      killAt = Math.min(deadline, Date.now());
    } else if (preStop?.status === 'timed-out') {
      // The hook ate the whole grace period: TERM now, and a short extension before KILL.
      killAt = Date.now() + PRESTOP_EXTENSION_MS;
      extended = true;
    }
  }
  let signalledAt = 0;
  const stop = await deps.terminate(target.id, killAt, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(progress.stopSignalSentAt.has(target.id) ? { stopSignalSentAt: progress.stopSignalSentAt.get(target.id) } : {}),
    onSignal: (signal, at) => {
      signalledAt = at;
      if (signal !== 'SIGKILL') progress.stopSignalSentAt.set(target.id, at);
      opts.onStep?.({ kind: 'signalSent', container: name, signal, at });
    },
  });
  if (stop.ended === 'exited' || stop.ended === 'killed') {
    // Docker's clock and ours can disagree by a hair: the end never reads as before its cause.
    const endedAt = stop.finishedAt !== undefined ? Date.parse(stop.finishedAt) : Date.now();
    opts.onStep?.({ kind: 'stopped', container: name, stop, at: Math.max(endedAt, signalledAt) });
  }
  const report: ContainerKillReport = { name, id: target.id, stop, extended, durationMs: Date.now() - start };
  if (preStop) report.preStop = preStop;
  return report;
}

/**
 * A pod's termination (docs/architecture.md, a pod's path, step 12): per running app container, in parallel, the
 * preStop hook then the stop signal, SIGKILL when the deadline (possibly extended) comes;
 * then the infra container is stopped and removed. Exited app containers stay, so their
 * exit codes remain readable until removePod. Aborted (opts.signal), it returns as soon as
 * it stops waiting, reported interrupted, the infra container untouched.
 */
export async function killPod(pod: Pod, deadline: number, opts: KillPodOptions, deps: KillPodDeps): Promise<KillPodReport> {
  const start = Date.now();
  const { uid } = podIdentity(pod);
  const all = await deps.listPodContainers(uid);
  const running = all.filter((c) => !c.isInfra && c.state === 'running');
  const podIP = running.length > 0 ? await deps.podIP(uid) : '';
  const progress = opts.progress ?? newKillProgress();
  const containers = await Promise.all(
    running.map(async (c) => {
      const report = await killContainer(pod, c, start, deadline, podIP, deps, { ...opts, progress });
      if (report.stop.ended !== 'interrupted') opts.onContainer?.(report);
      return report;
    }),
  );
  const interrupted = opts.signal?.aborted === true || containers.some((c) => c.stop.ended === 'interrupted');
  const result: KillPodReport = { podUid: uid, deadline, interrupted, containers, durationMs: 0 };
  const infra = all.find((c) => c.isInfra);
  if (infra && !interrupted) {
    const stop = await deps.terminate(infra.id, Date.now() + INFRA_GRACE_MS);
    await deps.removeContainer(infra.id);
    result.infra = { id: infra.id, stop, removed: true };
  }
  result.durationMs = Date.now() - start;
  return result;
}

/** The deadline a grace period of this many seconds gives, counted from now. */
export function deadlineAfter(gracePeriodSeconds: number, now = Date.now()): number {
  return now + Math.max(0, gracePeriodSeconds) * 1000;
}
