// The fake container runtime (`peapod-agent --runtime fake`, and every peapod-hollow node):
// pods run without containers, as kubemark's hollow nodes and kwok run them, so that a
// control plane can be tried with thousands of nodes on one machine. Pod workers, status,
// restarts with back-off and graceful termination are the agent's own code; only the
// containers are records in memory whose state changes on timers, as the runtime's options
// and these pod annotations say:
//
//   peapod.io/fake-start-seconds  from start to running (default: startDelayMs)
//   peapod.io/fake-run-seconds    each container exits on its own after this long (default: never)
//   peapod.io/fake-exit-code      ...with this code (default 0)
//   peapod.io/fake-term-seconds   a container exits this long after TERM, with 143; "never": it
//                                 ignores TERM and the KILL at the end of the grace period ends
//                                 it, with 137 (default: termDelayMs)
//   peapod.io/fake-ready          "false": its readiness probes fail (exec, httpGet, tcpSocket alike)
//   peapod.io/fake-live           "false": its liveness probes fail (so the agent restarts it)
//
// Probes and hooks are answered here, not over a network (no pod IP leads anywhere).
// A bad value is the container's CreateContainerConfigError. Invariant: container state
// changes only here, and a change no caller asked for (an exit after fake-run-seconds) is
// reported to the watchChanges listeners, so the pod's worker syncs it at once (no polling).

import { createHash, randomBytes } from 'crypto';
import { Readable } from 'stream';
import type { Container, Pod, Probe } from '@peapod/api';
import type { ProbeOutcome, ProbeTarget } from '../probe/types';
import { ContainerConfigError } from './errors';
import { killContainer, killPod, type KillPodDeps } from './kill-pod';
import { INFRA_CONTAINER_NAME, containerSpecHash, emptyDirVolumeName, podIdentity } from './labels';
import { IpPool } from './pod-cidr';
import { awaitWithin } from './stop';
import type {
  ContainerKillReport,
  ContainerRuntime,
  ContainerStateSummary,
  CreateContainerOptions,
  EnsureImageResult,
  ExecResult,
  KillPodOptions,
  KillPodReport,
  ListFilter,
  OnSignal,
  LogOptions,
  PodVolumeRecord,
  PodVolumes,
  RemovePodResult,
  RuntimeContainer,
  SandboxInfo,
  StopOptions,
  StopResult,
} from './types';

export const FAKE_START_SECONDS = 'peapod.io/fake-start-seconds';
export const FAKE_RUN_SECONDS = 'peapod.io/fake-run-seconds';
export const FAKE_EXIT_CODE = 'peapod.io/fake-exit-code';
export const FAKE_TERM_SECONDS = 'peapod.io/fake-term-seconds';
export const FAKE_READY = 'peapod.io/fake-ready';
export const FAKE_LIVE = 'peapod.io/fake-live';

/** What a process ended by a signal exits with: 128 + the signal's number. */
export const EXIT_ON_TERM = 143;
export const EXIT_ON_KILL = 137;

const FAKE_VERSION = '0.1.0';
/** Lines of lifecycle log kept per container. */
const MAX_LOG_LINES = 100;
/** setTimeout fires at once beyond this; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface FakeRuntimeOptions {
  nodeName: string;
  /** The node's pod range (its podCIDR): pod IPs are taken from it. */
  podCIDR: string;
  /** From start to running, unless the pod says otherwise (default 0). */
  startDelayMs?: number;
  /** From TERM to exit, unless the pod says otherwise; null: containers ignore TERM (default 0). */
  termDelayMs?: number | null;
}

interface Behaviour {
  startMs: number;
  runMs?: number;
  exitCode: number;
  /** null: ignores TERM. */
  termMs: number | null;
  /** What its readiness and liveness probes answer. */
  ready: boolean;
  live: boolean;
}

interface FakeContainer {
  info: RuntimeContainer;
  behaviour: Behaviour;
  /** When it exits by itself, after TERM, or by KILL (whichever comes first happens). */
  runEndAt?: number;
  termExitAt?: number;
  killAt?: number;
  killed: boolean;
  /** When TERM was sent (once). */
  termSentAt?: number;
  /** Told when KILL is sent. */
  onKill: OnSignal[];
  timer?: NodeJS.Timeout;
  exitWaiters: (() => void)[];
  log: { at: string; line: string }[];
}

class FakeNotFoundError extends Error {
  /** What Docker's errors carry, so isNotFound() reads both runtimes' alike. */
  readonly statusCode = 404;
  constructor(id: string) {
    super(`no such container: ${id}`);
  }
}

function flag(value: string | undefined, annotation: string): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new ContainerConfigError(`annotation ${annotation}: ${JSON.stringify(value)} is neither "true" nor "false"`);
}

function seconds(value: string, annotation: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new ContainerConfigError(`annotation ${annotation}: ${JSON.stringify(value)} is not a non-negative number of seconds`);
  }
  return n * 1000;
}

const FAKE_ANNOTATIONS = [FAKE_START_SECONDS, FAKE_RUN_SECONDS, FAKE_EXIT_CODE, FAKE_TERM_SECONDS, FAKE_READY, FAKE_LIVE];

/** What a container does when its pod asks nothing of the fake runtime. */
export function defaultBehaviour(startDelayMs: number, termDelayMs: number | null): Behaviour {
  return { startMs: startDelayMs, exitCode: 0, termMs: termDelayMs, ready: true, live: true };
}

/**
 * The behaviour a pod's annotations ask for, on top of the runtime's defaults: the defaults'
 * own object when it asks nothing (behaviours are never written to), so that a hollow
 * process's 300,000 containers do not each keep a copy.
 */
export function fakeBehaviour(pod: Pod, defaults: Behaviour): Behaviour {
  const a = pod.metadata.annotations ?? {};
  if (FAKE_ANNOTATIONS.every((k) => a[k] === undefined)) return defaults;
  const behaviour: Behaviour = { ...defaults, ready: flag(a[FAKE_READY], FAKE_READY), live: flag(a[FAKE_LIVE], FAKE_LIVE) };
  if (a[FAKE_START_SECONDS] !== undefined) behaviour.startMs = seconds(a[FAKE_START_SECONDS], FAKE_START_SECONDS);
  if (a[FAKE_RUN_SECONDS] !== undefined) behaviour.runMs = seconds(a[FAKE_RUN_SECONDS], FAKE_RUN_SECONDS);
  const code = a[FAKE_EXIT_CODE];
  if (code !== undefined) {
    if (!/^\d{1,3}$/.test(code) || Number(code) > 255) {
      throw new ContainerConfigError(`annotation ${FAKE_EXIT_CODE}: ${JSON.stringify(code)} is not an exit code from 0 to 255`);
    }
    behaviour.exitCode = Number(code);
  }
  const term = a[FAKE_TERM_SECONDS];
  if (term !== undefined) behaviour.termMs = term === 'never' ? null : seconds(term, FAKE_TERM_SECONDS);
  return behaviour;
}

/** One string per image, not one per container: a hollow process runs 150,000 of them. */
const imageIds = new Map<string, string>();

function imageId(image: string): string {
  let id = imageIds.get(image);
  if (id === undefined) {
    id = `sha256:${createHash('sha256').update(image).digest('hex')}`;
    imageIds.set(image, id);
  }
  return id;
}

function nowIso(): string {
  return new Date().toISOString();
}

/** Containers as records in memory, for one node. */
export class FakeRuntime implements ContainerRuntime {
  readonly name = 'fake';
  private readonly nodeName: string;
  private readonly defaults: Behaviour;
  private readonly ips: IpPool;
  private readonly containers = new Map<string, FakeContainer>();
  private readonly byPod = new Map<string, Set<FakeContainer>>();
  private readonly podIPs = new Map<string, string>();
  private readonly listeners: ((podUid: string) => void)[] = [];

  constructor(opts: FakeRuntimeOptions) {
    this.nodeName = opts.nodeName;
    this.ips = new IpPool(opts.podCIDR);
    this.defaults = defaultBehaviour(opts.startDelayMs ?? 0, opts.termDelayMs === undefined ? 0 : opts.termDelayMs);
  }

  async version(): Promise<string> {
    return `fake://${FAKE_VERSION}`;
  }

  async healthy(): Promise<boolean> {
    return true;
  }

  watchChanges(listener: (podUid: string) => void): void {
    this.listeners.push(listener);
  }

  async ensureImage(): Promise<EnsureImageResult> {
    return { pulled: false };
  }

  async imagePresent(): Promise<boolean> {
    return true;
  }

  async createSandbox(pod: Pod): Promise<SandboxInfo> {
    const { uid } = podIdentity(pod);
    for (const c of this.byPod.get(uid) ?? []) if (c.info.isInfra && c.info.state !== 'running') this.remove(c);
    let ip = this.podIPs.get(uid);
    if (ip === undefined) {
      ip = this.ips.allocate();
      this.podIPs.set(uid, ip);
    }
    const infra = this.add(pod, INFRA_CONTAINER_NAME, 'peapod/pause:latest', 0, { startMs: 0, exitCode: 0, termMs: 0, ready: true, live: true });
    this.run(infra);
    return { id: infra.info.id, ip, network: 'fake', cgroup: {} };
  }

  async findSandbox(uid: string): Promise<SandboxInfo | undefined> {
    for (const c of this.byPod.get(uid) ?? []) {
      if (c.info.isInfra && c.info.state === 'running') return { id: c.info.id, ip: this.podIPs.get(uid) ?? '', network: 'fake', cgroup: {} };
    }
    return undefined;
  }

  async prepareVolumes(pod: Pod): Promise<PodVolumes> {
    const { uid } = podIdentity(pod);
    const volumes: PodVolumes = {};
    for (const v of pod.spec.volumes ?? []) {
      if (v.hostPath) {
        volumes[v.name] = { kind: 'hostPath', path: v.hostPath.path };
        continue;
      }
      const files = !v.emptyDir && (v.configMap || v.secret || v.downwardAPI || v.projected) !== undefined;
      volumes[v.name] = { kind: files ? 'files' : 'emptyDir', dockerVolume: emptyDirVolumeName(uid, v.name) };
    }
    return volumes;
  }

  /** No filesystem: the files of configMap, secret and projected volumes are read and dropped. */
  async writeVolumeFiles(): Promise<void> {}

  async createContainer(pod: Pod, container: Container, _sandbox: SandboxInfo, opts: CreateContainerOptions): Promise<string> {
    const behaviour = fakeBehaviour(pod, this.defaults);
    const c = this.add(pod, container.name, container.image ?? '', opts.restartCount, behaviour);
    c.info.specHash = containerSpecHash(container);
    return c.info.id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.find(id);
    if (c.info.state !== 'created') throw new Error(`container ${id} is ${c.info.state}: only a created container starts`);
    if (c.behaviour.startMs > 0) {
      await new Promise<void>((resolve) => setTimeout(resolve, c.behaviour.startMs).unref());
      if (this.containers.get(id) !== c || c.info.state !== 'created') throw new FakeNotFoundError(id);
    }
    this.run(c);
  }

  async inspect(id: string): Promise<RuntimeContainer> {
    return { ...this.find(id).info };
  }

  async listPodContainers(filter: ListFilter = {}): Promise<RuntimeContainer[]> {
    const source = filter.uid !== undefined ? (this.byPod.get(filter.uid) ?? []) : this.containers.values();
    return [...source].map((c) => ({ ...c.info }));
  }

  async listPodVolumes(): Promise<PodVolumeRecord[]> {
    return [];
  }

  async podContainerStates(): Promise<ContainerStateSummary[]> {
    return [...this.containers.values()].map((c) => ({ id: c.info.id, podUid: c.info.podUid, state: c.info.state }));
  }

  stopContainer(id: string, deadline: number, onSignal?: OnSignal): Promise<StopResult> {
    return this.terminate(id, deadline, onSignal ? { onSignal } : {});
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c) this.remove(c);
  }

  async execInContainer(id: string): Promise<ExecResult> {
    const c = this.find(id);
    if (c.info.state !== 'running') throw Object.assign(new Error(`container ${id} is not running`), { statusCode: 409 });
    return { exitCode: 0, timedOut: false, output: '', durationMs: 0 };
  }

  killPod(pod: Pod, deadline: number, opts: KillPodOptions = {}): Promise<KillPodReport> {
    return killPod(pod, deadline, opts, this.killDeps());
  }

  killContainer(pod: Pod, container: RuntimeContainer, deadline: number, opts: KillPodOptions = {}): Promise<ContainerKillReport> {
    const podIP = this.podIPs.get(container.podUid) ?? '';
    return killContainer(pod, container, Date.now(), deadline, podIP, this.killDeps(), opts);
  }

  /** Probes answer what the container's pod annotations say (see the file header). */
  async runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
    const c = this.containers.get(target.containerId);
    if (!c || c.info.state !== 'running') return { result: 'error', output: `container ${target.containerId} is not running` };
    if (probe === target.container.readinessProbe && !c.behaviour.ready) return { result: 'failure', output: `fake runtime: ${FAKE_READY} is "false"` };
    if (probe === target.container.livenessProbe && !c.behaviour.live) return { result: 'failure', output: `fake runtime: ${FAKE_LIVE} is "false"` };
    return { result: 'success', output: '' };
  }

  private killDeps(): KillPodDeps {
    return {
      listPodContainers: (uid) => this.listPodContainers({ uid }),
      podIP: async (uid) => this.podIPs.get(uid) ?? '',
      terminate: (id, killAtMs, opts) => this.terminate(id, killAtMs, opts),
      exec: (id) => this.execInContainer(id),
      removeContainer: (id) => this.removeContainer(id),
      httpGet: async (action) => ({ ok: true, message: `GET ${action.path ?? '/'}: answered by the fake runtime` }),
    };
  }

  async removePod(uid: string): Promise<RemovePodResult> {
    const containers = [...(this.byPod.get(uid) ?? [])];
    for (const c of containers) this.remove(c);
    const ip = this.podIPs.get(uid);
    if (ip !== undefined) this.ips.release(ip);
    this.podIPs.delete(uid);
    return { containers: containers.length, volumes: 0 };
  }

  /** The container's lifecycle as log lines: started, signals, exits. */
  async logs(id: string, opts: LogOptions = {}): Promise<Readable> {
    let lines = this.find(id).log;
    if (opts.sinceSeconds !== undefined) {
      const since = new Date(Date.now() - opts.sinceSeconds * 1000).toISOString();
      lines = lines.filter((l) => l.at >= since);
    }
    if (opts.tailLines !== undefined) lines = opts.tailLines === 0 ? [] : lines.slice(-opts.tailLines);
    return Readable.from(lines.map((l) => `${opts.timestamps ? `${l.at} ` : ''}${l.line}\n`));
  }

  /**
   * TERM now (the container exits after its term delay, if it heeds TERM), KILL at killAtMs;
   * with no time left, KILL at once without TERM (as the Docker runtime does). TERM goes once
   * per container; a nearer killAtMs wins; an abort ends the wait (ended: interrupted).
   */
  private async terminate(id: string, killAtMs: number, opts: StopOptions = {}): Promise<StopResult> {
    const c = this.containers.get(id);
    if (!c || c.info.state !== 'running') {
      return { ended: 'not-running', ...(c ? { exitCode: c.info.exitCode, finishedAt: c.info.finishedAt } : {}), durationMs: 0 };
    }
    const { onSignal } = opts;
    const start = Date.now();
    if (killAtMs > start && c.termSentAt === undefined) {
      c.termSentAt = start;
      if (c.behaviour.termMs !== null) c.termExitAt = start + c.behaviour.termMs;
      this.note(c, 'received SIGTERM');
      onSignal?.('SIGTERM', start);
    }
    c.killAt = Math.min(c.killAt ?? Infinity, killAtMs);
    if (onSignal) c.onKill.push(onSignal);
    let waiter = (): void => undefined;
    const exited = new Promise<void>((resolve) => c.exitWaiters.push((waiter = resolve)));
    this.schedule(c);
    if ((await awaitWithin(exited, Infinity, opts.signal)) === 'aborted') {
      c.exitWaiters = c.exitWaiters.filter((w) => w !== waiter);
      c.onKill = c.onKill.filter((s) => s !== onSignal);
      return { ended: 'interrupted', signal: 'SIGTERM', durationMs: Date.now() - (c.termSentAt ?? start) };
    }
    const signal = c.killed && c.termSentAt === undefined ? 'SIGKILL' : 'SIGTERM';
    const result: StopResult = { ended: c.killed ? 'killed' : 'exited', signal, durationMs: Date.now() - (opts.stopSignalSentAt ?? start) };
    if (c.info.exitCode !== undefined) result.exitCode = c.info.exitCode;
    if (c.info.finishedAt !== undefined) result.finishedAt = c.info.finishedAt;
    return result;
  }

  private find(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new FakeNotFoundError(id);
    return c;
  }

  private add(pod: Pod, name: string, image: string, restartCount: number, behaviour: Behaviour): FakeContainer {
    const { namespace, name: podName, uid } = podIdentity(pod);
    const info: RuntimeContainer = {
      id: randomBytes(32).toString('hex'),
      podNamespace: namespace,
      podName,
      podUid: uid,
      node: this.nodeName,
      containerName: name,
      isInfra: name === INFRA_CONTAINER_NAME,
      state: 'created',
      createdAt: nowIso(),
      restartCount,
      image,
      imageId: imageId(image),
      oomKilled: false,
    };
    const c: FakeContainer = { info, behaviour, killed: false, onKill: [], exitWaiters: [], log: [] };
    this.containers.set(info.id, c);
    let ofPod = this.byPod.get(uid);
    if (!ofPod) this.byPod.set(uid, (ofPod = new Set()));
    ofPod.add(c);
    return c;
  }

  private run(c: FakeContainer): void {
    c.info.state = 'running';
    c.info.startedAt = nowIso();
    this.note(c, 'started', c.info.startedAt);
    if (c.behaviour.runMs !== undefined) {
      c.runEndAt = Date.now() + c.behaviour.runMs;
      this.schedule(c);
    }
  }

  /** One timer per container, for the first of its pending ends. */
  private schedule(c: FakeContainer): void {
    if (c.timer) clearTimeout(c.timer);
    c.timer = undefined;
    const at = Math.min(c.runEndAt ?? Infinity, c.termExitAt ?? Infinity, c.killAt ?? Infinity);
    if (at === Infinity) return;
    c.timer = setTimeout(() => this.fire(c), Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
    c.timer.unref();
  }

  private fire(c: FakeContainer): void {
    c.timer = undefined;
    if (c.info.state !== 'running') return;
    const kill = c.killAt ?? Infinity;
    const term = c.termExitAt ?? Infinity;
    const run = c.runEndAt ?? Infinity;
    if (Math.min(kill, term, run) > Date.now()) {
      this.schedule(c);
    } else if (kill <= term && kill <= run) {
      c.killed = true;
      const at = Date.now();
      for (const onSignal of c.onKill) onSignal('SIGKILL', at);
      this.exit(c, EXIT_ON_KILL, 'killed by SIGKILL');
    } else if (term <= run) {
      this.exit(c, EXIT_ON_TERM, 'exited on SIGTERM');
    } else {
      this.exit(c, c.behaviour.exitCode, `exited with code ${c.behaviour.exitCode}`);
      for (const listener of this.listeners) listener(c.info.podUid);
    }
  }

  private exit(c: FakeContainer, code: number, line: string): void {
    if (c.timer) clearTimeout(c.timer);
    c.timer = undefined;
    c.info.state = 'exited';
    c.info.exitCode = code;
    c.info.finishedAt = nowIso();
    this.note(c, line, c.info.finishedAt);
    const waiters = c.exitWaiters;
    c.exitWaiters = [];
    c.onKill = [];
    for (const w of waiters) w();
  }

  private remove(c: FakeContainer): void {
    if (c.info.state === 'running') {
      c.killed = true;
      this.exit(c, EXIT_ON_KILL, 'removed while running');
    }
    if (c.timer) clearTimeout(c.timer);
    this.containers.delete(c.info.id);
    const ofPod = this.byPod.get(c.info.podUid);
    ofPod?.delete(c);
    if (ofPod?.size === 0) this.byPod.delete(c.info.podUid);
  }

  private note(c: FakeContainer, line: string, at = nowIso()): void {
    // Most containers log one line: a first push would reserve 17 slots (V8's growth), a literal one.
    if (c.log.length === 0) c.log = [{ at, line }];
    else c.log.push({ at, line });
    if (c.log.length > MAX_LOG_LINES) c.log.shift();
  }
}
