// Runtime state → PodStatus, as a pure function so it can be tested without Docker.
import { copyJson, isTerminalPhase, rfc3339, sameJson, setPodCondition } from '@peapod/api';
import type {
  Container,
  ContainerState,
  ContainerStateTerminated,
  ContainerStateWaiting,
  ContainerStatus,
  Pod,
  PodCondition,
  PodPhase,
  PodStatus,
} from '@peapod/api';
import type { ContainerProbeView } from './probe';
import type { RuntimeContainer } from './runtime';

export interface StatusInput {
  pod: Pod;
  /** The pod's runtime containers (app and infra, any attempt). */
  containers: RuntimeContainer[];
  hostIP: string;
  /** The runtime's name: the scheme of container and image IDs (`docker://ID`). */
  runtime: string;
  /** The infra container's IP, when the sandbox runs. */
  podIP?: string;
  /** Why a container is not running, as the sync decided (back-off, pull or config errors). */
  waiting?: ReadonlyMap<string, ContainerStateWaiting>;
  /** Startup and readiness verdicts; without them a running container counts as started and ready. */
  probes?: ContainerProbeView;
  now?: Date;
}

/** The Ready condition's reason while a pod terminates: it takes no new work, whatever its probes say. */
export const TERMINATING_REASON = 'PodTerminating';

export function runtimeID(runtime: string, id: string): string {
  return `${runtime}://${id}`;
}

/** The attempts of one container, newest first. */
export function attemptsOf(containers: RuntimeContainer[], name: string): RuntimeContainer[] {
  return containers
    .filter((c) => !c.isInfra && c.containerName === name)
    .sort((a, b) => b.restartCount - a.restartCount || b.createdAt.localeCompare(a.createdAt));
}

/** The runtime keeps milliseconds (they order attempts); the API's times are whole seconds, as Kubernetes' metav1.Time. */
function wireTime(runtimeTime: string): string {
  return rfc3339(new Date(runtimeTime));
}

export function terminatedState(c: RuntimeContainer, runtime: string): ContainerStateTerminated {
  const t: ContainerStateTerminated = { exitCode: c.exitCode ?? 0, containerID: runtimeID(runtime, c.id) };
  if (c.state === 'created') {
    // Created but never ran: Docker could not start it.
    t.exitCode = 128;
    t.reason = 'ContainerCannotRun';
    if (c.error) t.message = c.error;
  } else if (c.oomKilled) t.reason = 'OOMKilled';
  else t.reason = t.exitCode === 0 ? 'Completed' : 'Error';
  if (c.startedAt) t.startedAt = wireTime(c.startedAt);
  if (c.finishedAt) t.finishedAt = wireTime(c.finishedAt);
  return t;
}

interface StatusRules {
  /** Init containers run to completion: ready once they exited 0, never probed. */
  init: boolean;
  /** The waiting reason of a container not created yet. */
  notCreated: string;
  probes?: ContainerProbeView;
}

function containerStatus(
  runtime: string,
  name: string,
  image: string,
  attempts: RuntimeContainer[],
  waiting: ContainerStateWaiting | undefined,
  previous: ContainerStatus | undefined,
  rules: StatusRules,
): ContainerStatus {
  const [latest, before] = attempts;
  const status: ContainerStatus = {
    name,
    state: {},
    lastState: {},
    ready: false,
    restartCount: latest?.restartCount ?? previous?.restartCount ?? 0,
    image,
    imageID: latest ? runtimeID(runtime, latest.imageId) : (previous?.imageID ?? ''),
    started: false,
  };
  if (latest) status.containerID = runtimeID(runtime, latest.id);
  const lastFrom = (c: RuntimeContainer | undefined): ContainerState => (c ? { terminated: terminatedState(c, runtime) } : {});
  if (latest?.state === 'running') {
    status.state = { running: latest.startedAt ? { startedAt: wireTime(latest.startedAt) } : {} };
    status.lastState = lastFrom(before);
    status.started = rules.init || (rules.probes?.started(name, latest.id) ?? true);
    status.ready = !rules.init && status.started && (rules.probes?.ready(name, latest.id) ?? true);
  } else if (latest?.state === 'exited' || (latest?.state === 'created' && latest.error)) {
    if (waiting) {
      status.state = { waiting };
      status.lastState = lastFrom(latest);
    } else {
      status.state = { terminated: terminatedState(latest, runtime) };
      status.lastState = lastFrom(before);
      status.ready = rules.init && status.state.terminated?.exitCode === 0;
    }
  } else {
    status.state = { waiting: waiting ?? { reason: rules.notCreated } };
    status.lastState = previous?.lastState ?? {};
  }
  return status;
}

/** Init containers that have not completed (exited 0), in order. */
function incompleteInit(statuses: ContainerStatus[]): string[] {
  return statuses.filter((s) => s.state?.terminated?.exitCode !== 0).map((s) => s.name);
}

/** An init container failed (it or its last attempt exited non-zero). */
function initFailed(statuses: ContainerStatus[]): boolean {
  return statuses.some((s) => {
    const exit = s.state?.terminated?.exitCode ?? (s.state?.waiting ? s.lastState?.terminated?.exitCode : undefined);
    return exit !== undefined && exit !== 0;
  });
}

/**
 * The phase from container states, with the pod's restart policy deciding what stopped
 * containers mean. A container waiting to be restarted counts as stopped, not pending.
 */
export function podPhase(pod: Pod, statuses: ContainerStatus[]): PodPhase {
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === 0) return 'Pending';
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (policy === 'Always') return 'Running';
  if (stopped === succeeded) return 'Succeeded';
  if (policy === 'Never') return 'Failed';
  return 'Running';
}

/** The pod's status from what runs on the node, keeping what it had where nothing changed. */
export function computePodStatus(input: StatusInput): PodStatus {
  const { pod } = input;
  const now = input.now ?? new Date();
  const old = pod.status ?? {};
  const status: PodStatus = copyJson(old);
  // A message of ours from an earlier refusal no longer applies to a pod that runs.
  delete status.message;
  const initContainers = pod.spec.initContainers ?? [];
  const statusOf = (c: Container, previous: ContainerStatus[] | undefined, rules: StatusRules): ContainerStatus =>
    containerStatus(
      input.runtime,
      c.name,
      c.image ?? '',
      attemptsOf(input.containers, c.name),
      input.waiting?.get(c.name),
      previous?.find((s) => s.name === c.name),
      rules,
    );
  // Kubernetes says PodInitializing of every container of a pod with init containers that is not created yet.
  const notCreated = initContainers.length > 0 ? 'PodInitializing' : 'ContainerCreating';
  const initStatuses = initContainers.map((c) => statusOf(c, old.initContainerStatuses, { init: true, notCreated }));
  if (initStatuses.length > 0) status.initContainerStatuses = initStatuses;
  const containerStatuses = pod.spec.containers.map((c) => statusOf(c, old.containerStatuses, { init: false, notCreated, probes: input.probes }));
  status.containerStatuses = containerStatuses;
  // Debugging containers are reported apart: they count for neither phase nor readiness.
  const ephemeral = pod.spec.ephemeralContainers ?? [];
  if (ephemeral.length > 0) {
    status.ephemeralContainerStatuses = ephemeral.map((c) => statusOf(c, old.ephemeralContainerStatuses, { init: false, notCreated: 'ContainerCreating' }));
  }
  if (isTerminalPhase(old.phase)) {
    // A finished pod stays finished (its containers are never started again).
    status.phase = old.phase;
  } else if (initFailed(initStatuses) && pod.spec.restartPolicy === 'Never') {
    status.phase = 'Failed';
  } else {
    status.phase = podPhase(pod, containerStatuses);
  }
  status.hostIP = input.hostIP;
  status.hostIPs = [{ ip: input.hostIP }];
  if (input.podIP) {
    status.podIP = input.podIP;
    status.podIPs = [{ ip: input.podIP }];
  }
  status.startTime ??= rfc3339(now);

  const at = rfc3339(now);
  setPodCondition(status, { type: 'PodScheduled', status: 'True', lastTransitionTime: at }, now);
  const incomplete = incompleteInit(initStatuses);
  setPodCondition(
    status,
    incomplete.length === 0
      ? { type: 'Initialized', status: 'True', lastTransitionTime: at }
      : { type: 'Initialized', status: 'False', lastTransitionTime: at, reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` },
    now,
  );
  const unready = containerStatuses.filter((s) => !s.ready).map((s) => s.name);
  const ready = unready.length === 0 && status.phase === 'Running';
  const notReady =
    isTerminalPhase(status.phase)
      ? { reason: 'PodCompleted' }
      : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  const readyCondition = (type: string): PodCondition =>
    ready ? { type, status: 'True', lastTransitionTime: at } : { type, status: 'False', lastTransitionTime: at, ...notReady };
  setPodCondition(status, readyCondition('ContainersReady'), now);
  // A terminating pod is out of service at once; its containers' readiness still shows in ContainersReady.
  const terminating = pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
  setPodCondition(
    status,
    terminating ? { type: 'Ready', status: 'False', lastTransitionTime: at, reason: TERMINATING_REASON, message: 'the pod is terminating' } : readyCondition('Ready'),
    now,
  );
  for (const cond of status.conditions ?? []) cond.lastProbeTime ??= null;
  return status;
}

/** The status of a pod this node refuses to run: Pending, saying why. */
export function refusedPodStatus(pod: Pod, hostIP: string, message: string, now = new Date()): PodStatus {
  const status: PodStatus = copyJson(pod.status ?? {});
  status.phase = 'Pending';
  status.message = message;
  status.hostIP = hostIP;
  status.hostIPs = [{ ip: hostIP }];
  setPodCondition(status, { type: 'PodScheduled', status: 'True', lastTransitionTime: rfc3339(now) }, now);
  for (const cond of status.conditions ?? []) cond.lastProbeTime ??= null;
  return status;
}

export function sameStatus(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  return sameJson(a ?? {}, b ?? {});
}

/** The conditions the agent sets (others', such as readiness gates or DisruptionTarget, are carried over). */
const AGENT_CONDITIONS = new Set(['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']);

/** The fields of a pod status the agent computes; the rest is left to whoever set it. */
const AGENT_FIELDS = ['phase', 'message', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses'] as const;

function agentPart(status: PodStatus | undefined): unknown {
  const s = status ?? {};
  const conditions = (s.conditions ?? [])
    .filter((c) => AGENT_CONDITIONS.has(c.type))
    // Transition and probe times are left out: only a different state, reason or message means someone else wrote.
    .map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }))
    .sort((a, b) => a.type.localeCompare(b.type));
  return [...AGENT_FIELDS.map((f) => s[f]), conditions];
}

/**
 * The API's status says what the agent last reported, in what the agent owns: when it does
 * not (the node lifecycle controller marked the pod NodeNotReady, say), the agent writes its
 * status again, as the kubelet's status manager reconciles.
 */
function agreesWithReport(api: PodStatus | undefined, reported: PodStatus): boolean {
  return sameJson(agentPart(api), agentPart(reported));
}

/**
 * The API's status against the agent's last report: whether it agrees in what the agent owns,
 * and the report to keep from now on, which is the API's own object when the two are equal:
 * a node then holds one status per pod rather than two (about a kilobyte each, 150,000 pods
 * in a hollow process). The API's object is never written to (informers share it).
 */
export function checkReport(api: PodStatus | undefined, reported: PodStatus): { agrees: boolean; reported: PodStatus } {
  if (api !== undefined && sameStatus(api, reported)) return { agrees: true, reported: api };
  return { agrees: agreesWithReport(api, reported), reported };
}

/**
 * A merge patch turning `from` into `to` at the top level of status: fields that
 * disappeared are set to null, changed ones replaced whole (arrays included).
 */
export function statusMergePatch(from: PodStatus | undefined, to: PodStatus): { status: Record<string, unknown> } {
  const patch: Record<string, unknown> = {};
  const before = (from ?? {}) as Record<string, unknown>;
  const after = to as Record<string, unknown>;
  for (const key of Object.keys(before)) if (after[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(after)) {
    if (value !== undefined && !sameJson(value, before[key])) patch[key] = value;
  }
  return { status: patch };
}
