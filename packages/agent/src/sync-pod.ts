// Makes the runtime match one pod: sandbox, volumes, containers, restarts with back-off,
// and graceful termination (design.md §3).
import type { Container, ContainerStateWaiting, Pod, PodStatus } from '@peapod/api';
import { ApiError } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { admitPod } from './admission';
import { RestartBackoff } from './backoff';
import type { EventRecorder } from './events';
import {
  ContainerConfigError,
  ImageNeverPullError,
  ImagePullError,
  containerSpecHash,
  defaultPullPolicy,
  type ContainerRuntime,
  type RuntimeContainer,
  type SandboxInfo,
  type PodVolumes,
} from './runtime';
import type { SyncOutcome } from './pod-workers';
import { attemptsOf, computePodStatus, refusedPodStatus, sameStatus, statusMergePatch } from './status';

/** Grace for the containers of a pod that vanished from the API while they still ran (design §3.3). */
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
}

interface Termination {
  /** When this agent process began it; a restarted agent begins again with the full grace. */
  startedAt: number;
  deadline: number;
  forceTimer?: NodeJS.Timeout;
}

interface PodRecord {
  uid: string;
  /** The pod as the API has it; undefined once it is gone from the API (or never known: an orphan). */
  pod?: Pod;
  /** The last pod seen, to stop its containers properly after it vanished. */
  lastKnown?: Pod;
  termination?: Termination;
  /** Why each container is not running, when the sync decided it (back-off, errors). */
  waiting: Map<string, ContainerStateWaiting>;
  /** Exits whose back-off was already announced with a BackOff event (container id). */
  backoffAnnounced: Set<string>;
  /** When a container whose image pull failed may try again. */
  pullRetryAt: Map<string, number>;
  refusalAnnounced: boolean;
}

function resourceVersionNumber(pod: Pod | undefined): number {
  const n = Number(pod?.metadata.resourceVersion);
  return Number.isFinite(n) ? n : -1;
}

function podRef(pod: Pod): string {
  return `${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid})`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** 404 (gone) and 409 (a newer pod of that name, or a conflict) end our interest in a write. */
function isGoneOrConflict(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 404 || err.code === 409);
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

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
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

  constructor(private readonly opts: PodSyncerOptions) {
    this.rt = opts.runtime;
    this.log = opts.log;
    this.backoff = new RestartBackoff(opts.backoffBaseMs ?? 10_000, opts.backoffMaxMs ?? 300_000);
  }

  private record(uid: string): PodRecord {
    let rec = this.records.get(uid);
    if (!rec) {
      rec = { uid, waiting: new Map(), backoffAnnounced: new Set(), pullRetryAt: new Map(), refusalAnnounced: false };
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
    if (resourceVersionNumber(pod) >= resourceVersionNumber(rec.pod)) rec.pod = pod;
    rec.lastKnown = rec.pod;
    const grace = pod.metadata.deletionGracePeriodSeconds;
    if (pod.metadata.deletionTimestamp && grace !== undefined) this.shortenTermination(rec, Date.now() + grace * 1000);
    return uid;
  }

  /** A pod vanished from the API: whatever still runs gets the short grace. */
  podDeleted(pod: Pod): string | undefined {
    const uid = pod.metadata.uid;
    if (!uid) return undefined;
    const rec = this.record(uid);
    rec.lastKnown = rec.pod ?? pod;
    rec.pod = undefined;
    this.shortenTermination(rec, Date.now() + GONE_POD_GRACE_SECONDS * 1000);
    return uid;
  }

  /** Containers of a uid we have no pod for: they will be removed on its next sync. */
  noteContainersOf(uid: string): void {
    this.record(uid);
  }

  knows(uid: string): boolean {
    return this.records.has(uid);
  }

  /** The uid of the pod now in the API under this name, if any. */
  uidOf(namespace: string, name: string): string | undefined {
    for (const rec of this.records.values()) {
      const meta = rec.pod?.metadata;
      if (meta && meta.name === name && (meta.namespace ?? 'default') === namespace) return rec.uid;
    }
    return undefined;
  }

  /**
   * A termination under way gets a nearer deadline (a later delete with a shorter grace, or
   * the pod vanished): every process still running at the new deadline is killed.
   */
  private shortenTermination(rec: PodRecord, deadline: number): void {
    const t = rec.termination;
    if (!t || deadline >= t.deadline) return;
    t.deadline = deadline;
    if (t.forceTimer) clearTimeout(t.forceTimer);
    t.forceTimer = setTimeout(() => {
      void this.killRunning(rec.uid).catch((err: unknown) => this.log.warn('forced kill failed', { uid: rec.uid, error: err }));
    }, Math.max(0, deadline - Date.now()));
  }

  private async killRunning(uid: string): Promise<void> {
    const running = (await this.rt.listPodContainers({ uid })).filter((c) => c.state === 'running');
    await Promise.all(running.map((c) => this.rt.stopContainer(c.id, 0)));
  }

  async sync(uid: string): Promise<SyncOutcome> {
    const rec = this.record(uid);
    const pod = rec.pod;
    if (!pod) {
      await this.removeGone(rec);
      return { done: true };
    }
    if (pod.metadata.deletionTimestamp) return this.terminate(rec, pod);
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

  /** The pod is gone from the API: stop (short grace) and remove everything of it. */
  private async removeGone(rec: PodRecord): Promise<void> {
    const containers = await this.rt.listPodContainers({ uid: rec.uid });
    if (containers.some((c) => c.state === 'running')) {
      const pod = rec.lastKnown ?? podFromLabels(rec.uid, containers);
      for (const c of containers) {
        if (!c.isInfra && c.state === 'running') this.opts.events.record(pod, 'Normal', 'Killing', `Stopping container ${c.containerName}`);
      }
      await this.rt.killPod(pod, GONE_POD_GRACE_SECONDS, { runPreStop: false });
    }
    if (containers.length > 0) await this.rt.removePod(rec.uid);
    else await this.removeVolumesOnly(rec.uid);
    if (rec.termination?.forceTimer) clearTimeout(rec.termination.forceTimer);
    this.backoff.forgetPrefix(`${rec.uid}/`);
    this.records.delete(rec.uid);
  }

  private async removeVolumesOnly(uid: string): Promise<void> {
    if ((await this.rt.listPodVolumes()).some((v) => v.podUid === uid)) await this.rt.removePod(uid);
  }

  /** Graceful termination, design §3 steps 4–5. */
  private async terminate(rec: PodRecord, pod: Pod): Promise<SyncOutcome> {
    const now = Date.now();
    if (!rec.termination) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
      rec.termination = { startedAt: now, deadline: now + grace * 1000 };
      this.log.info('terminating pod', { pod: podRef(pod), graceSeconds: grace });
    }
    const before = await this.rt.listPodContainers({ uid: rec.uid });
    for (const c of before) {
      if (!c.isInfra && c.state === 'running') this.opts.events.record(pod, 'Normal', 'Killing', `Stopping container ${c.containerName}`);
    }
    await this.rt.killPod(pod, Math.max(0, rec.termination.deadline - Date.now()) / 1000, {
      onContainer: (report) => {
        if (report.preStop && report.preStop.status !== 'ok') {
          const message = `PreStopHook failed: ${report.preStop.message ?? report.preStop.status}`;
          this.opts.events.record(pod, 'Warning', 'FailedPreStopHook', message);
        }
      },
    });
    const after = await this.rt.listPodContainers({ uid: rec.uid });
    rec.waiting.clear();
    const status = computePodStatus({ pod, containers: after, hostIP: this.opts.hostIP });
    await this.writeStatus(rec, pod, status);
    await this.rt.removePod(rec.uid);
    const { name, namespace } = pod.metadata;
    try {
      await this.opts.client.delete('pods', name ?? '', { namespace, gracePeriodSeconds: 0, preconditions: { uid: rec.uid } });
    } catch (err) {
      if (!isGoneOrConflict(err)) throw err;
    }
    return {};
  }

  /** A live pod: everything that should run, runs. */
  private async run(rec: PodRecord, pod: Pod): Promise<SyncOutcome> {
    const uid = rec.uid;
    let containers = await this.rt.listPodContainers({ uid });
    const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    let requeueAfterMs: number | undefined;
    let podIP = pod.status?.podIP;
    if (finished) {
      // Nothing of a finished pod runs again: its infra container need not hold namespaces.
      const infra = containers.filter((c) => c.isInfra && c.state === 'running');
      await Promise.all(infra.map((c) => this.rt.stopContainer(c.id, GONE_POD_GRACE_SECONDS)));
    } else {
      const sandbox = await this.ensureSandbox(pod, containers);
      podIP = sandbox.info.ip;
      const volumes = await this.rt.prepareVolumes(pod);
      if (sandbox.fresh) containers = await this.rt.listPodContainers({ uid });
      const waits = await Promise.all(
        pod.spec.containers.map((c) => this.syncContainer(rec, pod, c, attemptsOf(containers, c.name), sandbox.info, volumes)),
      );
      for (const w of waits) if (w !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? w, w);
      containers = await this.rt.listPodContainers({ uid });
    }
    const status = computePodStatus({ pod, containers, hostIP: this.opts.hostIP, podIP, waiting: rec.waiting });
    await this.writeStatus(rec, pod, status);
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  /**
   * The running sandbox of the pod, created when missing. App containers left from a
   * sandbox that died live in dead namespaces: they are removed first.
   */
  private async ensureSandbox(pod: Pod, containers: RuntimeContainer[]): Promise<{ info: SandboxInfo; fresh: boolean }> {
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
      ...(this.opts.cgroupParent !== undefined ? { cgroupParent: this.opts.cgroupParent } : {}),
    });
    return { info, fresh: stale.length > 0 };
  }

  /** One container: start it, restart it (after its back-off), or leave it. Returns a requeue delay. */
  private async syncContainer(
    rec: PodRecord,
    pod: Pod,
    container: Container,
    attempts: RuntimeContainer[],
    sandbox: SandboxInfo,
    volumes: PodVolumes,
  ): Promise<number | undefined> {
    let latest = attempts[0];
    if (latest?.state === 'running' && latest.specHash && latest.specHash !== containerSpecHash(container)) {
      // Only the image of a container may change in a pod's life: run the new one.
      this.opts.events.record(pod, 'Normal', 'Killing', `Container ${container.name} definition changed, will be restarted`);
      await this.rt.stopContainer(latest.id, pod.spec.terminationGracePeriodSeconds ?? 30);
      latest = await this.rt.inspect(latest.id);
      return this.replace(rec, pod, container, latest, attempts, sandbox, volumes);
    }
    if (latest?.state === 'running') {
      rec.waiting.delete(container.name);
      return undefined;
    }
    if (latest?.state === 'created' && !latest.error) {
      // Created but not started (an earlier sync was interrupted): start that one.
      return this.start(rec, pod, container, latest.id, attempts);
    }
    const key = `${rec.uid}/${container.name}`;
    if (latest) {
      if (!shouldRestart(pod, latest)) {
        rec.waiting.delete(container.name);
        return undefined;
      }
      const wait = this.backoff.remaining(key, exitTime(latest));
      if (wait > 0) {
        const delay = this.backoff.delay(key);
        rec.waiting.set(container.name, {
          reason: 'CrashLoopBackOff',
          message: `back-off ${seconds(delay)} restarting failed container=${container.name} pod=${podRef(pod)}`,
        });
        if (!rec.backoffAnnounced.has(latest.id)) {
          rec.backoffAnnounced.add(latest.id);
          this.opts.events.record(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${container.name} in pod ${podRef(pod)}`);
        }
        return wait;
      }
    }
    return this.replace(rec, pod, container, latest, attempts, sandbox, volumes);
  }

  /** Pulls, creates and starts the next attempt of a container. */
  private async replace(
    rec: PodRecord,
    pod: Pod,
    container: Container,
    latest: RuntimeContainer | undefined,
    attempts: RuntimeContainer[],
    sandbox: SandboxInfo,
    volumes: PodVolumes,
  ): Promise<number | undefined> {
    const key = `${rec.uid}/${container.name}`;
    const pullWait = await this.pullImage(rec, pod, container);
    if (pullWait !== undefined) return pullWait;
    const restartCount = latest ? latest.restartCount + 1 : this.restartCountWithoutContainers(pod, container.name);
    let id: string;
    try {
      id = await this.rt.createContainer(pod, container, sandbox, { restartCount, volumes });
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      rec.waiting.set(container.name, { reason: err.reason, message: err.message });
      this.opts.events.record(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return this.backoff.next(`${key}/config`);
    }
    this.opts.events.record(pod, 'Normal', 'Created', `Created container ${container.name}`);
    if (latest) this.backoff.next(key);
    return this.start(rec, pod, container, id, attempts);
  }

  /** Counting goes on from the pod's status when earlier attempts are gone (their sandbox died). */
  private restartCountWithoutContainers(pod: Pod, name: string): number {
    const previous = pod.status?.containerStatuses?.find((s) => s.name === name);
    if (!previous) return 0;
    return previous.containerID ? previous.restartCount + 1 : previous.restartCount;
  }

  private async start(rec: PodRecord, pod: Pod, container: Container, id: string, attempts: RuntimeContainer[]): Promise<number | undefined> {
    try {
      await this.rt.startContainer(id);
    } catch (err) {
      const message = `Error: failed to start container "${container.name}": ${errorText(err)}`;
      rec.waiting.set(container.name, { reason: 'RunContainerError', message });
      this.opts.events.record(pod, 'Warning', 'Failed', message);
      const key = `${rec.uid}/${container.name}`;
      return Math.max(this.backoff.delay(key), this.backoff.baseMs);
    }
    rec.waiting.delete(container.name);
    this.opts.events.record(pod, 'Normal', 'Started', `Started container ${container.name}`);
    // The attempt before this one stays for lastState and `logs --previous`; older ones go.
    const older = attempts.filter((a) => a.id !== id).slice(1);
    await Promise.all(older.map((a) => this.rt.removeContainer(a.id)));
    return undefined;
  }

  /** Makes the image present as its pull policy says; a failure becomes a waiting reason and a back-off. */
  private async pullImage(rec: PodRecord, pod: Pod, container: Container): Promise<number | undefined> {
    const image = container.image ?? '';
    const policy = container.imagePullPolicy ?? defaultPullPolicy(image);
    const retryAt = rec.pullRetryAt.get(container.name);
    if (retryAt !== undefined && retryAt > Date.now()) {
      rec.waiting.set(container.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
      this.opts.events.record(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
      return retryAt - Date.now();
    }
    const present = await this.rt.imagePresent(image);
    const willPull = policy === 'Always' || (policy === 'IfNotPresent' && !present);
    if (willPull) this.opts.events.record(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const started = Date.now();
    try {
      const result = await this.rt.ensureImage(image, policy);
      rec.pullRetryAt.delete(container.name);
      const message = result.pulled
        ? `Successfully pulled image "${image}" in ${seconds(Date.now() - started)}`
        : `Container image "${image}" already present on machine`;
      this.opts.events.record(pod, 'Normal', 'Pulled', message);
      return undefined;
    } catch (err) {
      if (!(err instanceof ImagePullError || err instanceof ImageNeverPullError)) throw err;
      rec.waiting.set(container.name, { reason: err.reason, message: err.message });
      this.opts.events.record(pod, 'Warning', 'Failed', err.message);
      const delay = this.backoff.next(`${rec.uid}/${container.name}/pull`);
      rec.pullRetryAt.set(container.name, Date.now() + delay);
      return delay;
    }
  }

  /** Writes the status when it differs from what the API has; keeps the answer as the newest pod. */
  private async writeStatus(rec: PodRecord, pod: Pod, status: PodStatus): Promise<void> {
    if (sameStatus(pod.status, status)) return;
    const { name, namespace } = pod.metadata;
    const patch = statusMergePatch(pod.status, status);
    let updated: Pod;
    try {
      updated = await this.opts.client.patch<Pod>('pods', name ?? '', patch, 'merge', { namespace, subresource: 'status' });
    } catch (err) {
      // Gone from the API: its DELETED event brings the next sync.
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
    if (updated.metadata.uid === rec.uid && resourceVersionNumber(updated) > resourceVersionNumber(rec.pod)) {
      rec.pod = updated;
      rec.lastKnown = updated;
    }
  }
}
