import type { Readable } from 'stream';
import type { Container, Pod } from '@peapod/api';
import type { RunProbe } from '../probe/handlers';

/** Told each signal sent, with when (epoch ms). */
export type OnSignal = (signal: string, at: number) => void;

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface EnsureImageResult {
  /** True when a pull from the registry succeeded. */
  pulled: boolean;
  /** Policy Always, the pull failed, and the image already present locally is used instead. */
  usedLocalAfterPullFailure?: boolean;
  /** The pull failure that was tolerated (set with usedLocalAfterPullFailure). */
  pullError?: string;
}

export interface SandboxOptions {
  infraImage: string;
  /**
   * Root under which each pod gets its own cgroup parent (`<root>/pod<uid>`), default
   * `/peapod`; the empty string disables pod cgroups (per-container limits only).
   */
  cgroupParent?: string;
  /** Docker network the pod's IP lives on (default `bridge`). */
  network?: string;
  /** The pod's volumes: the infra container holds the file volumes mounted while the pod lives. */
  volumes?: PodVolumes;
}

export interface PodCgroupLimits {
  memoryBytes?: number;
  /** CFS quota per period, in microseconds. */
  cpuQuotaMicros?: number;
  cpuPeriodMicros?: number;
}

/** What the pod-level cgroup ended up being on this daemon. */
export interface PodCgroupInfo {
  /** Cgroup parent every container of the pod is created under; absent: none. */
  parent?: string;
  /** Pod-level limits written to the parent cgroup (the summed container limits). */
  applied?: PodCgroupLimits;
  /** Why no parent or no pod-level limits, when that is the case. */
  note?: string;
}

export interface SandboxInfo {
  id: string;
  /** The pod IP (infra container's address on `network`). */
  ip: string;
  network: string;
  cgroup: PodCgroupInfo;
}

/** Where each pod volume comes from, by volume name (see DockerRuntime.prepareVolumes). */
export type PodVolumes = Record<string, PodVolumeSource>;

export type PodVolumeSource =
  | { kind: 'emptyDir'; dockerVolume: string }
  | { kind: 'hostPath'; path: string }
  /**
   * configMap, secret, downwardAPI, projected: a tmpfs volume the agent writes (see
   * volume-files.ts); mountpoint is where the daemon keeps its files, which subPath mounts bind
   */
  | { kind: 'files'; dockerVolume: string; mountpoint?: string };

export interface CreateContainerOptions {
  restartCount: number;
  volumes: PodVolumes;
  /** The container's environment, resolved by the agent (env.ts). */
  env: Map<string, string>;
  /** id of a container whose process namespace this one joins (an ephemeral container's target) */
  pidNamespaceOf?: string;
}

export type RuntimeContainerState = 'created' | 'running' | 'exited';

export interface RuntimeContainer {
  id: string;
  podNamespace: string;
  podName: string;
  podUid: string;
  node: string;
  /** Container name from the pod spec, or INFRA_CONTAINER_NAME for the infra container. */
  containerName: string;
  isInfra: boolean;
  state: RuntimeContainerState;
  exitCode?: number;
  /** RFC 3339; absent when never started / not finished. */
  startedAt?: string;
  finishedAt?: string;
  createdAt: string;
  restartCount: number;
  /** Image as given in the spec, and the resolved image ID. */
  image: string;
  imageId: string;
  oomKilled: boolean;
  /** Docker's error for a container that failed to start, if any. */
  error?: string;
  /** Hash of the container spec it was created from (containerSpecHash). */
  specHash?: string;
  /** Docker cgroup parent it runs under (the pod cgroup), if any. */
  cgroupParent?: string;
}

/** A container's identity and state as Docker's list reports it (no inspect): cheap enough to poll. */
export interface ContainerStateSummary {
  id: string;
  podUid: string;
  state: RuntimeContainerState;
}

export interface ListFilter {
  uid?: string;
}

export interface StopResult {
  /**
   * exited: ended after the stop signal; killed: SIGKILL was needed at the deadline;
   * not-running: it was not running when asked; interrupted: the wait was given up (the
   * termination is entered again with an earlier deadline) while it still ran.
   */
  ended: 'exited' | 'killed' | 'not-running' | 'interrupted';
  signal?: string;
  exitCode?: number;
  /** RFC 3339, when the process ended (Docker's FinishedAt). */
  finishedAt?: string;
  /** From the stop signal to the end (0 for not-running). */
  durationMs: number;
}

export interface StopOptions {
  onSignal?: OnSignal;
  /** Aborted: stop waiting for the end (the process keeps what it was sent). */
  signal?: AbortSignal;
  /** When the stop signal already went (an earlier entry of the same termination): not sent again. */
  stopSignalSentAt?: number;
}

export interface ExecResult {
  /** Null when the timeout fired before the command ended. */
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr interleaved, truncated to a bounded size. */
  output: string;
  durationMs: number;
}

/** 'invalid': a handler naming none of exec, httpGet, sleep. */
export type HookHandlerKind = 'exec' | 'httpGet' | 'sleep' | 'invalid';

export interface HookResult {
  handler: HookHandlerKind;
  status: 'ok' | 'failed' | 'timed-out' | 'aborted';
  message?: string;
  durationMs: number;
}

export interface ContainerKillReport {
  name: string;
  id: string;
  /** Absent when the container has no preStop hook (or hooks were not run). */
  preStop?: HookResult;
  stop: StopResult;
  /** Whether the 2 s extension after a grace period eaten by preStop was used. */
  extended: boolean;
  /** From the start of killPod (the grace period's clock) to this container's end. */
  durationMs: number;
}

/** One step of stopping a container, with the moment it happened (epoch ms), as it happens. */
export type KillStep =
  | { kind: 'preStopStarted'; container: string; handler: HookHandlerKind; at: number }
  | { kind: 'preStopFinished'; container: string; result: HookResult; at: number }
  /** The stop signal (the image's STOPSIGNAL, else SIGTERM) or SIGKILL was sent. */
  | { kind: 'signalSent'; container: string; signal: string; at: number }
  /** The container's process ended (at: when Docker saw it end). */
  | { kind: 'stopped'; container: string; stop: StopResult; at: number };

/**
 * What one termination of a pod already did, kept by its caller across entries: a kill
 * entered again with an earlier deadline waits for the preStop hook already running rather
 * than starting it again, and only brings the SIGKILL of a signalled container nearer.
 */
export interface KillProgress {
  /** preStop hooks under way or done, by container id. */
  preStop: Map<string, Promise<HookResult>>;
  /** When each container was sent its stop signal, by container id. */
  stopSignalSentAt: Map<string, number>;
}

export interface KillPodOptions {
  /** Run preStop hooks (default true). */
  runPreStop?: boolean;
  /** Aborted when the deadline moves earlier: the kill stops waiting and reports itself interrupted. */
  signal?: AbortSignal;
  /** Shared by the entries of one termination (see KillProgress); a fresh one when absent. */
  progress?: KillProgress;
  /** Called as each container finishes, so the caller can record events as they happen. */
  onContainer?: (report: ContainerKillReport) => void;
  /** Called at each step of each container's stop, as it happens. */
  onStep?: (step: KillStep) => void;
}

export interface KillPodReport {
  podUid: string;
  /** The deadline it was given (epoch ms). */
  deadline: number;
  /** The signal aborted it before every container ended; the infra container was left alone. */
  interrupted: boolean;
  containers: ContainerKillReport[];
  /** The infra container, stopped and removed after the app containers. */
  infra?: { id: string; stop: StopResult; removed: boolean };
  durationMs: number;
}

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  timestamps?: boolean;
  sinceSeconds?: number;
}

export interface RemovePodResult {
  containers: number;
  volumes: number;
}

export interface PodVolumeRecord {
  name: string;
  podUid: string;
  volumeName: string;
}

/** What a pod worker needs from a container runtime. */
export interface ContainerRuntime {
  /** `docker`, `fake`: the scheme of container and image IDs in pod status (`docker://ID`). */
  readonly name: string;
  /** What the node reports as its container runtime, e.g. `docker://24.0.7`. */
  version(): Promise<string>;
  /** Whether the runtime answers; a node whose runtime does not is not Ready. */
  healthy(): Promise<boolean>;
  /**
   * A runtime that reports its containers' own changes (an exit) calls listener with the
   * pod's uid, and needs no polling; one without this method is polled (see Relister).
   */
  watchChanges?(listener: (podUid: string) => void): void;
  /**
   * A runtime whose containers no network reaches (the fake one) answers probes itself;
   * without this method, probes run for real (exec through execInContainer, httpGet and
   * tcpSocket over the network).
   */
  runProbe?: RunProbe;
  ensureImage(image: string, pullPolicy?: PullPolicy): Promise<EnsureImageResult>;
  imagePresent(image: string): Promise<boolean>;
  createSandbox(pod: Pod, opts: SandboxOptions): Promise<SandboxInfo>;
  findSandbox(uid: string): Promise<SandboxInfo | undefined>;
  prepareVolumes(pod: Pod): Promise<PodVolumes>;
  /** Extracts a tar archive into a file volume of the pod, through its infra container. */
  writeVolumeFiles(sandbox: SandboxInfo, volume: string, archive: Buffer): Promise<void>;
  createContainer(pod: Pod, container: Container, sandbox: SandboxInfo, opts: CreateContainerOptions): Promise<string>;
  startContainer(id: string): Promise<void>;
  inspect(id: string): Promise<RuntimeContainer>;
  listPodContainers(filter?: ListFilter): Promise<RuntimeContainer[]>;
  listPodVolumes(): Promise<PodVolumeRecord[]>;
  /** Every container of this node's pods, from one list call. */
  podContainerStates(): Promise<ContainerStateSummary[]>;
  /** Stops a container: its stop signal now, SIGKILL at the deadline (epoch ms; at once when it has passed). */
  stopContainer(id: string, deadline: number, onSignal?: OnSignal): Promise<StopResult>;
  /** Stops one app container of a running pod as a pod's termination does: its preStop hook, then the stop, SIGKILL at the deadline. */
  killContainer(pod: Pod, container: RuntimeContainer, deadline: number, opts?: KillPodOptions): Promise<ContainerKillReport>;
  removeContainer(id: string): Promise<void>;
  execInContainer(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  /** Stops every container of the pod within one deadline (epoch ms; see kill-pod.ts). */
  killPod(pod: Pod, deadline: number, opts?: KillPodOptions): Promise<KillPodReport>;
  removePod(uid: string): Promise<RemovePodResult>;
  logs(id: string, opts?: LogOptions): Promise<Readable>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type RuntimeLogger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;
