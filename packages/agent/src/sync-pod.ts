// Makes the runtime match one pod, in the three phases its worker (pod-workers.ts) calls:
// syncPod (sandbox, volumes, init containers in order, app containers with their postStart
// hooks, restarts with back-off after a crash or a failed liveness probe),
// syncTerminatingPod (every container stopped by one deadline, each step recorded) and
// syncTerminatedPod (cleanup, the last events, the pod's removal from the API). See
// docs/architecture.md, a pod's path, steps 9–12, and the README's termination timeline.
import { defaultImagePullPolicy, isPodTerminal, specGracePeriodSeconds } from '@peapod/api';
import type { Container, ContainerStateWaiting, EphemeralContainer, LifecycleHandler, Pod, PodStatus } from '@peapod/api';
import { isAlreadyExists, isConflict, isNotFound } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { admitPod } from './admission';
import { RestartBackoff } from './backoff';
import { containerEnvironment, type PodObjectSource } from './env';
import type { EventRecorder } from './events';
import { apiObjectSource } from './pod-objects';
import type { ServiceSource } from './service-cache';
import { VolumeFileWriter, VolumeSetupError } from './volume-files';
import { postStartFailureMessage } from './post-start';
import type { ProbeManager } from './probe';
import {
  ContainerConfigError,
  ImageNeverPullError,
  ImagePullError,
  NO_HOOK_TIMEOUT_MS,
  containerSpecHash,
  deadlineAfter,
  newKillProgress,
  runHandler,
  type ContainerRuntime,
  type KillProgress,
  type KillStep,
  type RuntimeContainer,
  type SandboxInfo,
  type PodVolumes,
} from './runtime';
import type { SyncOutcome, Termination } from './pod-workers';
import { attemptsOf, checkReport, computePodStatus, refusedPodStatus, sameStatus, statusMergePatch } from './status';
import { containersGoneEvent, killStepEvent, seconds, type TimelineEvent } from './termination-timeline';

/** Grace for the containers of a pod that vanished from the API while they still ran (README, the node agent: a pod removed with grace 0 still gets 2 s on the node). */
export const GONE_POD_GRACE_SECONDS = 2;

export interface PodSyncerOptions {
  runtime: ContainerRuntime;
  client: Client;
  events: EventRecorder;
  log: Logger;
  nodeName: string;
  hostIP: string;
  infraImage: string;
  network: string;
  allowPrivileged: boolean;
  /** First restart back-off (default 10 s); doubles up to backoffMaxMs (default 5 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Root of the pod cgroups (see SandboxOptions.cgroupParent). */
  cgroupParent?: string;
  /** The probes of the node's pods: what they say decides readiness and liveness restarts. */
  probes: ProbeManager;
  /** The node's allocatable resources, which resourceFieldRef reads for an unset limit. */
  allocatable: Record<string, string>;
  /** How often mounted ConfigMaps and Secrets are read again (default 30 s). */
  volumeResyncMs?: number;
  /** The services whose variables containers get. */
  services: ServiceSource;
}

const DEFAULT_VOLUME_RESYNC_MS = 30_000;

/** The syncer's side of a termination (the worker holds its phase and deadline). */
interface TerminationRecord {
  /** Records one event of the termination's timeline after another (see termination-timeline.ts). */
  timeline: Timeline;
  /** Shared by every entry of the terminating phase, so a re-entry does not start a hook or signal twice. */
  progress: KillProgress;
  /** Began while the pod was in the API: preStop hooks run, status is reported, and the pod is deleted at the end. */
  inApi: boolean;
  /** Something still ran when it began: the timeline ends with ContainersGone. */
  anyRan: boolean;
  /** Containers, volumes and probes removed (the terminated phase ran once). */
  cleaned: boolean;
  /** The final delete (grace 0) went to the API. */
  apiDeleted: boolean;
}

interface Timeline {
  note: (e: TimelineEvent) => void;
  step: (s: KillStep) => void;
  written: () => Promise<void>;
}

interface PodRecord {
  uid: string;
  /** The pod as the API has it; undefined once it is gone from the API (or never known: an orphan). */
  pod?: Pod;
  /** The last pod seen, to stop its containers properly after it vanished. */
  lastKnown?: Pod;
  termination?: TerminationRecord;
  // The three collections below are made when first needed: most pods never need them, and an
  // empty Map costs the heap about 300 bytes (a hollow process keeps 150,000 records).
  /** Why each container is not running, when the sync decided it (back-off, errors). */
  waiting?: Map<string, ContainerStateWaiting>;
  /** Exits whose back-off was already announced with a BackOff event (container id). */
  backoffAnnounced?: Set<string>;
  /** When a container whose image pull failed may try again. */
  pullRetryAt?: Map<string, number>;
  refusalAnnounced: boolean;
  /** Aborted when the pod is deleted: a postStart hook is not waited for any longer. */
  deleted: AbortController;
  /** The last status write of a terminating pod; the next waits for it. */
  statusWrites: Promise<void>;
  /** The status this agent last computed for the pod (written, or found already in the API). */
  reported?: PodStatus;
  /** The API's status agrees with `reported` in what the agent owns (status.ts, checkReport). */
  agrees: boolean;
}

/** The API's status seen against the record's report (status.ts, checkReport). */
function noteApiStatus(rec: PodRecord, reported: PodStatus, api: PodStatus | undefined): void {
  const check = checkReport(api, reported);
  rec.agrees = check.agrees;
  rec.reported = check.reported;
}

/** What starting the containers of one sync needs. */
interface StartContext {
  rec: PodRecord;
  pod: Pod;
  sandbox: SandboxInfo;
  volumes: PodVolumes;
}

function resourceVersionNumber(pod: Pod | undefined): number {
  const n = Number(pod?.metadata.resourceVersion);
  return Number.isFinite(n) ? n : -1;
}

/** Records why a container is not running (the record's map made on first use). */
function setWaiting(rec: PodRecord, container: string, waiting: ContainerStateWaiting): void {
  (rec.waiting ??= new Map()).set(container, waiting);
}

function podRef(pod: Pod): string {
  return `${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid})`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** 404 (gone) and 409 (a newer pod of that name, or a conflict) end our interest in a write. */
function isGoneOrConflict(err: unknown): boolean {
  return isNotFound(err) || isConflict(err) || isAlreadyExists(err);
}

function shouldRestart(pod: Pod, exited: RuntimeContainer): boolean {
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (policy === 'Always') return true;
  if (policy === 'Never') return false;
  return exited.state === 'created' || (exited.exitCode ?? 0) !== 0;
}

function exitTime(c: RuntimeContainer): number {
  const at = Date.parse(c.finishedAt ?? c.createdAt);
  return Number.isNaN(at) ? Date.now() : at;
}

/** A pod stand-in built from container labels, for containers whose pod we never saw. */
function podFromLabels(uid: string, containers: RuntimeContainer[]): Pod {
  const first = containers[0];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: first?.podName || uid, namespace: first?.podNamespace || 'default', uid },
    spec: { containers: [] },
  };
}

export class PodSyncer {
  private readonly records = new Map<string, PodRecord>();
  private readonly backoff: RestartBackoff;
  private readonly rt: ContainerRuntime;
  private readonly log: Logger;
  private readonly objects: PodObjectSource;
  private readonly volumeFiles: VolumeFileWriter;

  constructor(private readonly opts: PodSyncerOptions) {
    this.rt = opts.runtime;
    this.log = opts.log;
    this.objects = apiObjectSource(opts.client);
    this.volumeFiles = new VolumeFileWriter(opts.client, opts.runtime, this.objects);
    this.backoff = new RestartBackoff(opts.backoffBaseMs ?? 10_000, opts.backoffMaxMs ?? 300_000);
  }

  private record(uid: string): PodRecord {
    let rec = this.records.get(uid);
    if (!rec) {
      rec = { uid, refusalAnnounced: false, deleted: new AbortController(), statusWrites: Promise.resolve(), agrees: true };
      this.records.set(uid, rec);
    }
    return rec;
  }

  /** A pod of this node was added or changed in the API. */
  podUpdated(pod: Pod): string | undefined {
    const uid = pod.metadata.uid;
    if (!uid) return undefined;
    const rec = this.record(uid);
    // Our own status writes return newer objects than the watch may have delivered yet.
    if (resourceVersionNumber(pod) >= resourceVersionNumber(rec.pod)) {
      rec.pod = pod;
      if (rec.reported) noteApiStatus(rec, rec.reported, pod.status);
    }
    rec.lastKnown = rec.pod;
    if (pod.metadata.deletionTimestamp) rec.deleted.abort();
    return uid;
  }

  /** A pod vanished from the API. */
  podDeleted(pod: Pod): string | undefined {
    const uid = pod.metadata.uid;
    if (!uid) return undefined;
    const rec = this.record(uid);
    rec.lastKnown = rec.pod ?? pod;
    rec.pod = undefined;
    rec.deleted.abort();
    return uid;
  }

  /** Containers of a uid we may have no pod for; true when the API has none (an orphan, to be removed). */
  noteContainersOf(uid: string): boolean {
    return this.record(uid).pod === undefined;
  }

  /** Pods whose status in the API no longer says what this agent last reported: someone else wrote it. */
  disagreeing(): string[] {
    const uids: string[] = [];
    for (const rec of this.records.values()) if (rec.pod && !rec.agrees) uids.push(rec.uid);
    return uids;
  }

  /** The uid of the pod now in the API under this name, if any. */
  uidOf(namespace: string, name: string): string | undefined {
    for (const rec of this.records.values()) {
      const meta = rec.pod?.metadata;
      if (meta && meta.name === name && (meta.namespace ?? 'default') === namespace) return rec.uid;
    }
    return undefined;
  }

  /** Phase one: a pod that should run (not deleted). */
  async syncPod(uid: string): Promise<SyncOutcome> {
    const rec = this.records.get(uid);
    const pod = rec?.pod;
    // No pod: a sync asked for after the pod's worker was done (a late probe verdict).
    if (!rec || !pod) return { done: true };
    const admission = admitPod(pod, { allowPrivileged: this.opts.allowPrivileged, nodeName: this.opts.nodeName });
    if (!admission.admit) {
      if (!rec.refusalAnnounced) {
        rec.refusalAnnounced = true;
        this.log.warn('pod refused', { pod: podRef(pod), message: admission.message });
        this.opts.events.record(pod, 'Warning', admission.reason, admission.message);
      }
      await this.writeStatus(rec, pod, refusedPodStatus(pod, this.opts.hostIP, admission.message));
      return {};
    }
    return this.run(rec, pod);
  }

  /**
   * Phase two (docs/architecture.md, step 12): every container stopped by the one deadline.
   * A pod still in the API goes out of service first (Ready=False), then each container's
   * preStop and stop, each step an event on the pod; a pod gone from the API (or never in it)
   * gets no hooks and no status. Interrupted (a nearer deadline), it returns at once and the
   * worker enters it again; whatever the first entry began (hooks, signals) is not begun twice.
   */
  async syncTerminatingPod(uid: string, t: Termination): Promise<void> {
    const rec = this.record(uid);
    const containers = await this.rt.listPodContainers({ uid });
    const pod = rec.pod ?? rec.lastKnown ?? podFromLabels(uid, containers);
    let term = rec.termination;
    if (!term) {
      const inApi = !t.gone && rec.pod !== undefined;
      const anyRan = containers.some((c) => c.state === 'running');
      term = { timeline: this.timeline(pod), progress: newKillProgress(), inApi, anyRan, cleaned: false, apiDeleted: false };
      rec.termination = term;
      if (inApi) this.log.info('terminating pod', { pod: podRef(pod), graceSeconds: t.graceSeconds });
      else this.opts.probes.remove(uid);
      this.announceKilling(containers, term.timeline.note);
    }
    const list = (): Promise<RuntimeContainer[]> => this.rt.listPodContainers({ uid });
    const report = async (now: () => Promise<RuntimeContainer[]>): Promise<void> => {
      if (term.inApi && !t.gone) await this.writeTerminatingStatus(rec, pod, now);
    };
    if (term.inApi && !t.gone) {
      this.opts.probes.terminating(uid, () => {
        report(list).catch((err: unknown) => this.log.warn('pod status not written', { pod: podRef(pod), error: err }));
      });
    }
    await report(async () => containers);
    const killed = await this.rt.killPod(rec.pod ?? pod, t.deadline, { runPreStop: term.inApi, onStep: term.timeline.step, signal: t.signal, progress: term.progress });
    if (killed.interrupted) return;
    rec.waiting = undefined;
    await report(list);
  }

  /**
   * Phase three: nothing of the pod runs. Its containers and volumes go, the timeline ends
   * (ContainersGone, once all its events are written, so whoever watched the pod go can read
   * how it went), then the pod leaves the API (grace 0, its uid as precondition). Done once
   * the API no longer has it.
   */
  async syncTerminatedPod(uid: string, t: Termination): Promise<SyncOutcome> {
    const rec = this.record(uid);
    const term = rec.termination;
    if (!term?.cleaned) {
      await this.rt.removePod(uid);
      if (term && (term.inApi || term.anyRan)) {
        term.timeline.note(containersGoneEvent(t.startedAt, Date.now(), t.graceSeconds));
        await term.timeline.written();
      }
      this.opts.probes.remove(uid);
      if (term) term.cleaned = true;
    }
    const pod = rec.pod;
    if (pod && !t.gone) {
      if (!term?.apiDeleted) {
        const { name, namespace } = pod.metadata;
        try {
          await this.opts.client.delete('pods', name ?? '', { namespace, gracePeriodSeconds: 0, preconditions: { uid } });
        } catch (err) {
          if (!isGoneOrConflict(err)) throw err;
        }
        if (term) term.apiDeleted = true;
      }
      // Its DELETED event ends the worker.
      return {};
    }
    this.backoff.forgetPrefix(`${uid}/`);
    this.records.delete(uid);
    this.volumeFiles.forget(uid);
    return { done: true };
  }

  /**
   * Status writes of a terminating pod go one after another, each reading the containers in
   * its turn: readiness still changes while they stop, and each change must reach the status
   * (EndpointSlices' serving follows it) in order.
   */
  private writeTerminatingStatus(rec: PodRecord, pod: Pod, containers: () => Promise<RuntimeContainer[]>): Promise<void> {
    const write = async (): Promise<void> => {
      const current = rec.pod ?? pod;
      const status = computePodStatus({
        runtime: this.rt.name,
        pod: current,
        containers: await containers(),
        hostIP: this.opts.hostIP,
        podIP: pod.status?.podIP,
        waiting: rec.waiting,
        probes: this.opts.probes.view(rec.uid),
      });
      await this.writeStatus(rec, current, status);
    };
    rec.statusWrites = rec.statusWrites.then(write, write);
    return rec.statusWrites;
  }

  /**
   * Records a termination's events one after another as they come (so the API holds them in
   * the order they happened, and a watcher sees them so), and tells when all are written.
   */
  private timeline(pod: Pod): Timeline {
    let last: Promise<void> = Promise.resolve();
    const note = (e: TimelineEvent): void => {
      last = last.then(() => this.opts.events.record(pod, e.type, e.reason, e.message, e.at));
    };
    return { note, step: (s) => note(killStepEvent(s)), written: () => last };
  }

  /** Kubernetes' Killing event for each app container about to be stopped. */
  private announceKilling(containers: RuntimeContainer[], note: (e: TimelineEvent) => void): void {
    const at = new Date();
    for (const c of containers) {
      if (!c.isInfra && c.state === 'running') note({ type: 'Normal', reason: 'Killing', message: `Stopping container ${c.containerName}`, at });
    }
  }

  /** A live pod: everything that should run, runs. */
  private async run(rec: PodRecord, pod: Pod): Promise<SyncOutcome> {
    const uid = rec.uid;
    let containers = await this.rt.listPodContainers({ uid });
    const finished = isPodTerminal(pod);
    let requeueAfterMs: number | undefined;
    const waitAtMost = (ms: number | undefined): void => {
      if (ms !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? ms, ms);
    };
    let podIP = pod.status?.podIP;
    if (finished) {
      // Nothing of a finished pod runs again: its infra container need not hold namespaces.
      this.opts.probes.remove(uid);
      const infra = containers.filter((c) => c.isInfra && c.state === 'running');
      await Promise.all(infra.map((c) => this.rt.stopContainer(c.id, deadlineAfter(GONE_POD_GRACE_SECONDS))));
    } else {
      const volumes = await this.rt.prepareVolumes(pod);
      const sandbox = await this.ensureSandbox(pod, containers, volumes);
      podIP = sandbox.info.ip;
      if (sandbox.fresh) containers = await this.rt.listPodContainers({ uid });
      const ctx: StartContext = { rec, pod, sandbox: sandbox.info, volumes };
      const mounted = await this.syncVolumeFiles(ctx);
      waitAtMost(mounted.requeueAfterMs);
      const init = mounted.ready ? await this.syncInitContainers(ctx, containers) : { done: false };
      waitAtMost(init.requeueAfterMs);
      if (init.done) {
        // One after another, as the kubelet starts them: a postStart hook holds back the next container.
        for (const c of pod.spec.containers) waitAtMost(await this.syncContainer(ctx, c, attemptsOf(containers, c.name)));
      }
      containers = await this.rt.listPodContainers({ uid });
      const ephemeral = pod.spec.ephemeralContainers ?? [];
      if (ephemeral.length > 0) {
        // After the app containers, whose processes a debugging container may join.
        for (const c of ephemeral) waitAtMost(await this.syncEphemeral(ctx, c, containers));
        containers = await this.rt.listPodContainers({ uid });
      }
      this.opts.probes.update(pod, containers, podIP);
    }
    const probes = this.opts.probes.view(uid);
    const status = computePodStatus({ runtime: this.rt.name, pod, containers, hostIP: this.opts.hostIP, podIP, waiting: rec.waiting, probes });
    await this.writeStatus(rec, pod, status);
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  /**
   * Init containers run in order, each to success (exit 0) before the next starts, and all
   * before any app container. A failed one is retried after its back-off (restart policy
   * Always counts as OnFailure here); under Never the pod fails. Done once all exited 0.
   */
  private async syncInitContainers(ctx: StartContext, containers: RuntimeContainer[]): Promise<{ done: boolean; requeueAfterMs?: number }> {
    for (const container of ctx.pod.spec.initContainers ?? []) {
      const attempts = attemptsOf(containers, container.name);
      const latest = attempts[0];
      if (latest?.state === 'exited' && latest.exitCode === 0) {
        ctx.rec.waiting?.delete(container.name);
        continue;
      }
      if (latest?.state === 'running') {
        // Its exit brings the next sync (the relist sees it).
        ctx.rec.waiting?.delete(container.name);
        return { done: false };
      }
      if (latest?.state === 'created' && !latest.error) return { done: false, requeueAfterMs: await this.start(ctx, container, latest.id, attempts) };
      if (latest && ctx.pod.spec.restartPolicy === 'Never') {
        ctx.rec.waiting?.delete(container.name);
        return { done: false };
      }
      return { done: false, requeueAfterMs: await this.startNext(ctx, container, latest, attempts) };
    }
    return { done: true };
  }

  /**
   * The running sandbox of the pod, created when missing. App containers left from a
   * sandbox that died live in dead namespaces: they are removed first.
   */
  /**
   * Writes the pod's configMap, secret, downwardAPI and projected volumes; containers wait
   * (FailedMount) until they can be. Rechecked every resync period and when a token is due.
   */
  private async syncVolumeFiles(ctx: StartContext): Promise<{ ready: boolean; requeueAfterMs?: number }> {
    if (!Object.values(ctx.volumes).some((v) => v.kind === 'files')) return { ready: true };
    const { pod, rec } = ctx;
    try {
      const tokenDue = await this.volumeFiles.sync(
        { pod, podIP: ctx.sandbox.ip, hostIP: this.opts.hostIP, allocatable: this.opts.allocatable },
        ctx.sandbox,
        ctx.volumes,
      );
      this.backoff.forgetPrefix(`${rec.uid}/volumes`);
      const resync = this.opts.volumeResyncMs ?? DEFAULT_VOLUME_RESYNC_MS;
      return { ready: true, requeueAfterMs: Math.max(0, Math.min(resync, (tokenDue ?? Infinity) - Date.now())) };
    } catch (err) {
      if (!(err instanceof VolumeSetupError)) throw err;
      this.opts.events.record(pod, 'Warning', 'FailedMount', err.message);
      return { ready: false, requeueAfterMs: this.backoff.next(`${rec.uid}/volumes`) };
    }
  }

  private async ensureSandbox(pod: Pod, containers: RuntimeContainer[], volumes: PodVolumes): Promise<{ info: SandboxInfo; fresh: boolean }> {
    const uid = pod.metadata.uid ?? '';
    const found = await this.rt.findSandbox(uid);
    if (found) return { info: found, fresh: false };
    const stale = containers.filter((c) => !c.isInfra);
    if (stale.length > 0) {
      this.log.info('sandbox gone: removing the containers that joined it', { pod: podRef(pod), containers: stale.length });
      await Promise.all(stale.map((c) => this.rt.removeContainer(c.id)));
    }
    const info = await this.rt.createSandbox(pod, {
      infraImage: this.opts.infraImage,
      network: this.opts.network,
      volumes,
      ...(this.opts.cgroupParent !== undefined ? { cgroupParent: this.opts.cgroupParent } : {}),
    });
    return { info, fresh: stale.length > 0 };
  }

  /**
   * One app container: start it, restart it (after its back-off), kill it when its liveness or
   * startup probe failed, or leave it. Returns a requeue delay.
   */
  private async syncContainer(ctx: StartContext, container: Container, attempts: RuntimeContainer[]): Promise<number | undefined> {
    const { rec, pod } = ctx;
    let latest = attempts[0];
    if (latest?.state === 'running' && latest.specHash && latest.specHash !== containerSpecHash(container)) {
      // Only the image of a container may change in a pod's life: run the new one.
      this.opts.events.record(pod, 'Normal', 'Killing', `Container ${container.name} definition changed, will be restarted`);
      await this.rt.stopContainer(latest.id, deadlineAfter(specGracePeriodSeconds(pod)));
      latest = await this.rt.inspect(latest.id);
      return this.replace(ctx, container, latest, attempts);
    }
    if (latest?.state === 'running') {
      const failed = this.opts.probes.failed(rec.uid, container.name, latest.id);
      if (failed === undefined) {
        rec.waiting?.delete(container.name);
        return undefined;
      }
      latest = await this.killUnhealthy(pod, container, latest, failed);
    }
    if (latest?.state === 'created' && !latest.error) {
      // Created but not started (an earlier sync was interrupted): start that one.
      return this.start(ctx, container, latest.id, attempts);
    }
    if (latest && !shouldRestart(pod, latest)) {
      rec.waiting?.delete(container.name);
      return undefined;
    }
    return this.startNext(ctx, container, latest, attempts);
  }

  /**
   * A container whose liveness (or startup) probe failed is stopped as the kubelet stops it:
   * Killing, its preStop hook, the stop signal, SIGKILL after the probe's grace period (else
   * the pod's). Returns the stopped attempt; the restart policy decides what follows.
   */
  private async killUnhealthy(pod: Pod, container: Container, running: RuntimeContainer, probe: 'liveness' | 'startup'): Promise<RuntimeContainer> {
    const restart = (pod.spec.restartPolicy ?? 'Always') !== 'Never';
    const message = `Container ${container.name} failed ${probe} probe${restart ? ', will be restarted' : ''}`;
    this.opts.events.record(pod, 'Normal', 'Killing', message);
    const spec = probe === 'liveness' ? container.livenessProbe : container.startupProbe;
    const grace = spec?.terminationGracePeriodSeconds ?? specGracePeriodSeconds(pod);
    await this.rt.killContainer(pod, running, deadlineAfter(grace));
    return this.rt.inspect(running.id);
  }

  /** The next attempt of a container whose last one ended (or that never ran), once its back-off allows. */
  private async startNext(ctx: StartContext, container: Container, latest: RuntimeContainer | undefined, attempts: RuntimeContainer[]): Promise<number | undefined> {
    const { rec, pod } = ctx;
    if (latest) {
      const key = `${rec.uid}/${container.name}`;
      const wait = this.backoff.remaining(key, exitTime(latest));
      if (wait > 0) {
        const delay = this.backoff.delay(key);
        setWaiting(rec, container.name, {
          reason: 'CrashLoopBackOff',
          message: `back-off ${seconds(delay)} restarting failed container=${container.name} pod=${podRef(pod)}`,
        });
        if (!rec.backoffAnnounced?.has(latest.id)) {
          (rec.backoffAnnounced ??= new Set()).add(latest.id);
          this.opts.events.record(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${container.name} in pod ${podRef(pod)}`);
        }
        return wait;
      }
    }
    return this.replace(ctx, container, latest, attempts);
  }

  /**
   * An ephemeral (debugging) container runs once: started when first seen, never restarted,
   * in the process namespace of its target container when it names one.
   */
  private async syncEphemeral(ctx: StartContext, container: EphemeralContainer, containers: RuntimeContainer[]): Promise<number | undefined> {
    const { rec, pod } = ctx;
    if (attemptsOf(containers, container.name).length > 0) return undefined;
    let pidNamespaceOf: string | undefined;
    if (container.targetContainerName) {
      const target = attemptsOf(containers, container.targetContainerName)[0];
      if (target?.state !== 'running') {
        setWaiting(rec, container.name, { reason: 'ContainerCreating', message: `waiting for container ${container.targetContainerName} to run` });
        return this.backoff.baseMs;
      }
      pidNamespaceOf = target.id;
    }
    const pullWait = await this.pullImage(rec, pod, container);
    if (pullWait !== undefined) return pullWait;
    let id: string;
    try {
      const env = await this.environment(ctx, container);
      id = await this.rt.createContainer(pod, container, ctx.sandbox, { restartCount: 0, volumes: ctx.volumes, env, pidNamespaceOf });
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      setWaiting(rec, container.name, { reason: err.reason, message: err.message });
      this.opts.events.record(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return undefined;
    }
    this.opts.events.record(pod, 'Normal', 'Created', `Created container ${container.name}`);
    return this.start(ctx, container, id, []);
  }

  /** Pulls, creates and starts the next attempt of a container. */
  private async replace(ctx: StartContext, container: Container, latest: RuntimeContainer | undefined, attempts: RuntimeContainer[]): Promise<number | undefined> {
    const { rec, pod } = ctx;
    const key = `${rec.uid}/${container.name}`;
    const pullWait = await this.pullImage(rec, pod, container);
    if (pullWait !== undefined) return pullWait;
    const restartCount = latest ? latest.restartCount + 1 : this.restartCountWithoutContainers(pod, container.name);
    let id: string;
    try {
      const env = await this.environment(ctx, container);
      id = await this.rt.createContainer(pod, container, ctx.sandbox, { restartCount, volumes: ctx.volumes, env });
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      setWaiting(rec, container.name, { reason: err.reason, message: err.message });
      this.opts.events.record(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return this.backoff.next(`${key}/config`);
    }
    this.opts.events.record(pod, 'Normal', 'Created', `Created container ${container.name}`);
    if (latest) this.backoff.next(key);
    return this.start(ctx, container, id, attempts);
  }

  /** A container's environment as it starts: its env and envFrom, the pod's fields, the services' variables. */
  private async environment(ctx: StartContext, container: Container): Promise<Map<string, string>> {
    const { pod } = ctx;
    return containerEnvironment({
      pod,
      container,
      podIP: ctx.sandbox.ip,
      hostIP: this.opts.hostIP,
      allocatable: this.opts.allocatable,
      services: await this.opts.services.servicesFor(pod.metadata.namespace ?? 'default'),
      objects: this.objects,
    });
  }

  /** Counting goes on from the pod's status when earlier attempts are gone (their sandbox died). */
  private restartCountWithoutContainers(pod: Pod, name: string): number {
    const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
    const previous = statuses.find((s) => s.name === name);
    if (!previous) return 0;
    return previous.containerID ? previous.restartCount + 1 : previous.restartCount;
  }

  /** Starts a created attempt and runs its postStart hook; the container counts as started only after the hook. */
  private async start(ctx: StartContext, container: Container, id: string, attempts: RuntimeContainer[]): Promise<number | undefined> {
    const { rec, pod } = ctx;
    try {
      await this.rt.startContainer(id);
    } catch (err) {
      const message = `Error: failed to start container "${container.name}": ${errorText(err)}`;
      setWaiting(rec, container.name, { reason: 'RunContainerError', message });
      this.opts.events.record(pod, 'Warning', 'Failed', message);
      const key = `${rec.uid}/${container.name}`;
      return Math.max(this.backoff.delay(key), this.backoff.baseMs);
    }
    rec.waiting?.delete(container.name);
    this.opts.events.record(pod, 'Normal', 'Started', `Started container ${container.name}`);
    // The attempt before this one stays for lastState and `logs --previous`; older ones go.
    const older = attempts.filter((a) => a.id !== id).slice(1);
    await Promise.all(older.map((a) => this.rt.removeContainer(a.id)));
    const postStart = container.lifecycle?.postStart;
    if (postStart) await this.runPostStart(ctx, container, id, postStart);
    return undefined;
  }

  /**
   * Runs a postStart hook with no time limit (as the kubelet does) but no longer than the pod
   * lives. A failed hook gets FailedPostStartHook, and the container is killed; its restart
   * follows the restart policy and back-off like any exit.
   */
  private async runPostStart(ctx: StartContext, container: Container, id: string, hook: LifecycleHandler): Promise<void> {
    const { rec, pod } = ctx;
    const hookCtx = { container, containerId: id, podIP: ctx.sandbox.ip, exec: (cid: string, cmd: string[], t: number) => this.rt.execInContainer(cid, cmd, t) };
    const result = await runHandler(hook, hookCtx, NO_HOOK_TIMEOUT_MS, rec.deleted.signal);
    if (result.status === 'ok' || result.status === 'aborted') return;
    this.opts.events.record(pod, 'Warning', 'FailedPostStartHook', postStartFailureMessage(container, podRef(pod), result));
    this.opts.events.record(pod, 'Normal', 'Killing', 'FailedPostStartHook');
    await this.rt.killContainer(pod, await this.rt.inspect(id), deadlineAfter(specGracePeriodSeconds(pod)));
  }

  /** Makes the image present as its pull policy says; a failure becomes a waiting reason and a back-off. */
  private async pullImage(rec: PodRecord, pod: Pod, container: Container): Promise<number | undefined> {
    const image = container.image ?? '';
    const policy = container.imagePullPolicy ?? defaultImagePullPolicy(image);
    const retryAt = rec.pullRetryAt?.get(container.name);
    if (retryAt !== undefined && retryAt > Date.now()) {
      setWaiting(rec, container.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
      this.opts.events.record(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
      return retryAt - Date.now();
    }
    const present = await this.rt.imagePresent(image);
    const willPull = policy === 'Always' || (policy === 'IfNotPresent' && !present);
    if (willPull) this.opts.events.record(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const started = Date.now();
    try {
      const result = await this.rt.ensureImage(image, policy);
      rec.pullRetryAt?.delete(container.name);
      const message = result.pulled
        ? `Successfully pulled image "${image}" in ${seconds(Date.now() - started)}`
        : `Container image "${image}" already present on machine`;
      this.opts.events.record(pod, 'Normal', 'Pulled', message);
      return undefined;
    } catch (err) {
      if (!(err instanceof ImagePullError || err instanceof ImageNeverPullError)) throw err;
      setWaiting(rec, container.name, { reason: err.reason, message: err.message });
      this.opts.events.record(pod, 'Warning', 'Failed', err.message);
      const delay = this.backoff.next(`${rec.uid}/${container.name}/pull`);
      (rec.pullRetryAt ??= new Map()).set(container.name, Date.now() + delay);
      return delay;
    }
  }

  /** Writes the status when it differs from what the API has; keeps the answer as the newest pod. */
  private async writeStatus(rec: PodRecord, pod: Pod, status: PodStatus): Promise<void> {
    if (sameStatus(pod.status, status)) {
      // The pod may have changed in the API while this sync ran: the next reconcile looks again.
      noteApiStatus(rec, pod.status ?? status, rec.pod?.status);
      return;
    }
    rec.reported = status;
    // Until the write lands: a failed one is tried again by the next reconcile, if not sooner.
    rec.agrees = false;
    const { name, namespace } = pod.metadata;
    const patch = statusMergePatch(pod.status, status);
    let updated: Pod;
    try {
      updated = await this.opts.client.patch<Pod>('pods', name ?? '', patch, 'merge', { namespace, subresource: 'status' });
    } catch (err) {
      // Gone from the API: its DELETED event brings the next sync.
      if (isNotFound(err)) return;
      throw err;
    }
    if (updated.metadata.uid === rec.uid && resourceVersionNumber(updated) > resourceVersionNumber(rec.pod)) {
      rec.pod = updated;
      rec.lastKnown = updated;
    }
    noteApiStatus(rec, status, rec.pod?.status);
  }
}
