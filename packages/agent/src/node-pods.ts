// The pods of one node: a PodSyncer, one worker per pod and the probes of their containers,
// fed with the API's view of the node's pods and with the runtime's changes. The agent feeds
// it from an informer of its own; peapod-hollow feeds many of them from one informer shared
// by all its nodes. Here each change becomes a request to the pod's worker: a sync, or its
// termination by a deadline (the grace from the deletion mark, 2 s for a pod gone from the API).

import { podGracePeriodSeconds, type Pod } from '@peapod/api';
import { PodWorkers } from './pod-workers';
import { ProbeManager, probeTitle } from './probe';
import { deadlineAfter } from './runtime';
import { GONE_POD_GRACE_SECONDS, PodSyncer, type PodSyncerOptions } from './sync-pod';

export type NodePodsOptions = Omit<PodSyncerOptions, 'probes'>;

/** How often pods whose API status disagrees with the agent's are synced again (the kubelet's status sync period). */
export const STATUS_RECONCILE_MS = 10_000;

export class NodePods {
  readonly syncer: PodSyncer;
  readonly workers: PodWorkers;
  readonly probes: ProbeManager;

  constructor(opts: NodePodsOptions) {
    const { runtime, events, log } = opts;
    // A verdict that changes syncs its pod (the workers exist before any probe runs).
    this.probes = new ProbeManager({
      runtime: runtime.name,
      exec: (id, cmd, timeoutMs) => runtime.execInContainer(id, cmd, timeoutMs),
      onChange: (uid) => this.workers.sync(uid),
      onUnhealthy: (pod, _container, kind, outcome) => {
        const verb = outcome.result === 'error' ? 'errored' : 'failed';
        void events.record(pod, 'Warning', 'Unhealthy', `${probeTitle(kind)} probe ${verb}: ${outcome.output}`);
      },
      ...(runtime.runProbe ? { run: runtime.runProbe.bind(runtime) } : {}),
    });
    this.syncer = new PodSyncer({ ...opts, probes: this.probes });
    const syncer = this.syncer;
    this.workers = new PodWorkers(
      {
        syncPod: (uid) => syncer.syncPod(uid),
        syncTerminatingPod: (uid, t) => syncer.syncTerminatingPod(uid, t),
        syncTerminatedPod: (uid, t) => syncer.syncTerminatedPod(uid, t),
      },
      log,
    );
    runtime.watchChanges?.((uid) => this.containersChanged([uid]));
  }

  /** A pod of this node appeared in the API, or changed; a deleted one terminates by its grace period. */
  added(pod: Pod): void {
    const uid = this.syncer.podUpdated(pod);
    if (!uid) return;
    if (pod.metadata.deletionTimestamp) {
      // Counted from when this agent sees it: a later, shorter grace brings the deadline nearer.
      const grace = podGracePeriodSeconds(pod);
      this.workers.terminate(uid, { deadline: deadlineAfter(grace), graceSeconds: grace });
    } else {
      this.workers.sync(uid);
    }
  }

  updated(oldPod: Pod, pod: Pod): void {
    // Same name, new uid: the old pod is gone.
    if (oldPod.metadata.uid !== pod.metadata.uid) this.deleted(oldPod);
    this.added(pod);
  }

  /** A pod vanished from the API: whatever still runs gets the short grace (README, the node agent). */
  deleted(pod: Pod): void {
    const uid = this.syncer.podDeleted(pod);
    if (uid) this.goneFromApi(uid);
  }

  /** The runtime says these pods' containers changed (or exist, for pods the API never told us about). */
  containersChanged(uids: Iterable<string>): void {
    for (const uid of uids) {
      if (this.syncer.noteContainersOf(uid)) this.goneFromApi(uid);
      else this.workers.sync(uid);
    }
  }

  /**
   * Syncs the running pods whose API status no longer says what this agent reported (another
   * component wrote it, or our write failed), as the kubelet's status manager reconciles every
   * 10 s: the sync computes the status again and writes it where it differs. A pod update
   * syncs its pod at once; this catches what that missed.
   */
  reconcile(): void {
    for (const uid of this.syncer.disagreeing()) {
      if (this.workers.phase(uid) === 'syncing' && !this.workers.isBusy(uid)) this.workers.sync(uid);
    }
  }

  private goneFromApi(uid: string): void {
    this.workers.terminate(uid, { deadline: deadlineAfter(GONE_POD_GRACE_SECONDS), graceSeconds: GONE_POD_GRACE_SECONDS, gone: true });
  }

  /** Stops starting syncs and probing; running syncs finish on their own. */
  stop(): void {
    this.workers.stop();
    this.probes.stopAll();
  }
}
