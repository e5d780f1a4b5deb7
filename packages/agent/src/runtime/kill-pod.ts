import type { Pod } from '@peapod/api';
import { handlerKind, runHandler, type HttpGetFn } from './hooks';
import { podIdentity } from './labels';
import type { OnSignal } from './stop';
import type {
  ContainerKillReport,
  ExecResult,
  HookResult,
  KillPodOptions,
  KillPodReport,
  RuntimeContainer,
  StopResult,
} from './types';

/** Extra time a container gets when its preStop hook used up the grace period. */
export const PRESTOP_EXTENSION_MS = 2000;
/** The infra container only holds namespaces and exits on TERM; this bounds a stuck one. */
const INFRA_GRACE_MS = 2000;

export interface KillPodDeps {
  listPodContainers(uid: string): Promise<RuntimeContainer[]>;
  podIP(uid: string): Promise<string>;
  terminate(id: string, killAtMs: number, onSignal?: OnSignal): Promise<StopResult>;
  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  removeContainer(id: string): Promise<void>;
  /** How httpGet hooks are sent (default: over the network). */
  httpGet?: HttpGetFn;
}

/**
 * One app container's stop: its preStop hook (if it has one and hooks run), then the stop
 * signal, SIGKILL at the deadline (2 s after the hook when the hook used the grace period
 * up). Each step is reported as it happens.
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
  const spec = pod.spec.containers.find((c) => c.name === name);
  const preStopHandler = opts.runPreStop !== false ? spec?.lifecycle?.preStop : undefined;
  let preStop: HookResult | undefined;
  let killAt = deadline;
  let extended = false;
  if (spec && preStopHandler) {
    const ctx = { container: spec, containerId: target.id, podIP, exec: deps.exec, httpGet: deps.httpGet };
    opts.onStep?.({ kind: 'preStopStarted', container: name, handler: handlerKind(preStopHandler), at: Date.now() });
    preStop = await runHandler(preStopHandler, ctx, deadline - Date.now());
    opts.onStep?.({ kind: 'preStopFinished', container: name, result: preStop, at: Date.now() });
    if (preStop.status === 'timed-out') {
      // The hook ate the whole grace period: TERM now, and a short extension before KILL.
      killAt = Date.now() + PRESTOP_EXTENSION_MS;
      extended = true;
    }
  }
  let signalledAt = 0;
  const stop = await deps.terminate(target.id, killAt, (signal, at) => {
    signalledAt = at;
    opts.onStep?.({ kind: 'signalSent', container: name, signal, at });
  });
  if (stop.ended !== 'not-running') {
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
 * preStop hook then the stop signal, SIGKILL when the (possibly extended) grace period
 * ends; then the infra container is stopped and removed. Exited app containers stay, so
 * their exit codes remain readable until removePod.
 */
export async function killPod(
  pod: Pod,
  gracePeriodSeconds: number,
  opts: KillPodOptions,
  deps: KillPodDeps,
): Promise<KillPodReport> {
  const start = Date.now();
  const deadline = start + Math.max(0, gracePeriodSeconds) * 1000;
  const { uid } = podIdentity(pod);
  const all = await deps.listPodContainers(uid);
  const running = all.filter((c) => !c.isInfra && c.state === 'running');
  const podIP = running.length > 0 ? await deps.podIP(uid) : '';
  const containers = await Promise.all(
    running.map(async (c) => {
      const report = await killContainer(pod, c, start, deadline, podIP, deps, opts);
      opts.onContainer?.(report);
      return report;
    }),
  );
  const result: KillPodReport = { podUid: uid, gracePeriodSeconds, containers, durationMs: 0 };
  const infra = all.find((c) => c.isInfra);
  if (infra) {
    const stop = await deps.terminate(infra.id, Date.now() + INFRA_GRACE_MS);
    await deps.removeContainer(infra.id);
    result.infra = { id: infra.id, stop, removed: true };
  }
  result.durationMs = Date.now() - start;
  return result;
}
