import type { Pod } from '@peapod/api';
import { runHandler } from './hooks';
import { podIdentity } from './labels';
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
  terminate(id: string, killAtMs: number): Promise<StopResult>;
  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  removeContainer(id: string): Promise<void>;
}

async function killContainer(
  pod: Pod,
  target: RuntimeContainer,
  start: number,
  deadline: number,
  podIP: string,
  deps: KillPodDeps,
  runPreStop: boolean,
): Promise<ContainerKillReport> {
  const spec = pod.spec.containers.find((c) => c.name === target.containerName);
  const preStopHandler = runPreStop ? spec?.lifecycle?.preStop : undefined;
  let preStop: HookResult | undefined;
  let killAt = deadline;
  let extended = false;
  if (spec && preStopHandler) {
    const ctx = { container: spec, containerId: target.id, podIP, exec: deps.exec };
    preStop = await runHandler(preStopHandler, ctx, deadline - Date.now());
    if (preStop.status === 'timed-out') {
      // The hook ate the whole grace period: TERM now, and a short extension before KILL.
      killAt = Date.now() + PRESTOP_EXTENSION_MS;
      extended = true;
    }
  }
  const stop = await deps.terminate(target.id, killAt);
  const report: ContainerKillReport = {
    name: target.containerName,
    id: target.id,
    stop,
    extended,
    durationMs: Date.now() - start,
  };
  if (preStop) report.preStop = preStop;
  return report;
}

/**
 * A pod's termination (design §3 step 4): per running app container, in parallel, the
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
      const report = await killContainer(pod, c, start, deadline, podIP, deps, opts.runPreStop !== false);
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
