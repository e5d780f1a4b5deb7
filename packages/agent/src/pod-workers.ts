// One worker per pod, each pod in one of three phases as the kubelet's pod workers have them:
// syncing (the pod should run), terminating (stop everything of it by one deadline),
// terminated (nothing runs: clean up, report, forget). A pod only moves forward through them.
import type { Logger } from '@peapod/client';

export interface SyncOutcome {
  /** Sync this pod again after this long (a back-off ending, a retry). */
  requeueAfterMs?: number;
  /** The pod is gone for good: drop its worker. */
  done?: boolean;
}

export type WorkPhase = 'syncing' | 'terminating' | 'terminated';

/** What the terminating and terminated phases are given. */
export interface Termination {
  /** The one deadline (epoch ms) by which every container is stopped; it only moves earlier. */
  deadline: number;
  /** The grace period the termination began with (reported, not used for timing). */
  graceSeconds: number;
  /** When this process began the termination (a restarted agent begins again with the full grace). */
  startedAt: number;
  /** False the first time the terminating phase runs, true when it is entered again. */
  reentered: boolean;
  /** The pod is gone from the API: nothing of it is reported there any more, and no preStop runs. */
  gone: boolean;
  /** Aborted when the deadline moves earlier: the phase returns and is entered again with it. */
  signal: AbortSignal;
}

/** The three phases of a pod's sync (sync-pod.ts implements them). */
export interface PodPhases {
  /** The pod should run: make the runtime match it. */
  syncPod(uid: string): Promise<SyncOutcome | void>;
  /** Stop every container by termination.deadline; returns once all are stopped or the signal aborted it. */
  syncTerminatingPod(uid: string, termination: Termination): Promise<void>;
  /** Nothing runs: remove what is left, report, and say done once the pod is gone from the API. */
  syncTerminatedPod(uid: string, termination: Termination): Promise<SyncOutcome | void>;
}

/** What is asked of a pod's termination: stop by this deadline (a nearer one shortens one under way). */
export interface TerminateRequest {
  deadline: number;
  graceSeconds: number;
  /** The pod left the API (or never was in it: containers nobody asked for). */
  gone?: boolean;
}

export interface PodWorkersOptions {
  /** First retry after a sync that threw; doubles per consecutive failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** The worker's state of one pod, as the kubelet's podSyncStatus. */
interface PodSyncStatus {
  phase: WorkPhase;
  /** Set once termination is asked for; its deadline only moves earlier. */
  termination?: { deadline: number; graceSeconds: number; requestedAt: number; gone: boolean };
  /** When the terminating phase first ran in this process; undefined until it did. */
  terminatingStartedAt?: number;
  /** Aborts the terminating phase under way (the deadline moved earlier). */
  interrupt?: AbortController;
  running: boolean;
  /** A sync was asked for while one ran: run once more when it ends. */
  pending: boolean;
  failures: number;
  timer?: NodeJS.Timeout;
  timerAt?: number;
  /** Resolves when the current run loop ends (for idle()). */
  loop?: Promise<void>;
}

/**
 * One worker per pod uid: syncs of one pod run one at a time, syncs of different pods run
 * concurrently, so one pod's slow stop never delays another. Sync requests that arrive
 * while a sync runs collapse into a single follow-up sync. A termination asked for moves the
 * pod to the terminating phase; a nearer deadline arriving meanwhile interrupts the phase
 * under way, which is entered again with it: there is one kill path, never two racing.
 */
export class PodWorkers {
  private readonly statuses = new Map<string, PodSyncStatus>();
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private stopped = false;

  constructor(
    private readonly phases: PodPhases,
    private readonly log: Logger,
    opts: PodWorkersOptions = {},
  ) {
    this.retryMs = opts.retryMs ?? 500;
    this.maxRetryMs = opts.maxRetryMs ?? 30_000;
  }

  /** Asks for a sync of the pod now, in whatever phase it is (coalesced with one already waiting). */
  sync(uid: string): void {
    if (this.stopped) return;
    const status = this.status(uid);
    if (status.running) {
      status.pending = true;
      return;
    }
    this.clearTimer(status);
    status.running = true;
    status.loop = this.run(uid, status);
  }

  /**
   * Asks for the pod's termination by a deadline. The first request starts it; a later one
   * only brings the deadline nearer (re-entering the terminating phase if it runs) and can
   * mark the pod gone from the API; a later deadline never extends it.
   */
  terminate(uid: string, request: TerminateRequest): void {
    if (this.stopped) return;
    const status = this.status(uid);
    const t = status.termination;
    if (!t) {
      status.termination = { deadline: request.deadline, graceSeconds: request.graceSeconds, requestedAt: Date.now(), gone: request.gone === true };
      if (status.phase === 'syncing') status.phase = 'terminating';
    } else {
      if (request.gone) t.gone = true;
      if (request.deadline < t.deadline) {
        t.deadline = request.deadline;
        status.interrupt?.abort();
      }
    }
    this.sync(uid);
  }

  /** Asks for a sync after ms; an earlier request wins over a later one. */
  syncAfter(uid: string, ms: number): void {
    if (this.stopped) return;
    const status = this.status(uid);
    const at = Date.now() + ms;
    if (status.timer && status.timerAt !== undefined && status.timerAt <= at) return;
    this.clearTimer(status);
    status.timerAt = at;
    status.timer = setTimeout(() => {
      status.timer = undefined;
      status.timerAt = undefined;
      this.sync(uid);
    }, Math.max(0, ms));
  }

  /** Uids that have a worker (running, waiting, or idle with a timer). */
  uids(): string[] {
    return [...this.statuses.keys()];
  }

  isBusy(uid: string): boolean {
    return this.statuses.get(uid)?.running === true;
  }

  /** The pod's phase, undefined when it has no worker. */
  phase(uid: string): WorkPhase | undefined {
    return this.statuses.get(uid)?.phase;
  }

  /** The deadline of the pod's termination, once one was asked for (epoch ms). */
  deadline(uid: string): number | undefined {
    return this.statuses.get(uid)?.termination?.deadline;
  }

  /** Resolves when no sync runs (for tests and shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const loops = [...this.statuses.values()].map((w) => w.loop).filter((l): l is Promise<void> => l !== undefined);
      if (loops.length === 0) return;
      await Promise.all(loops);
    }
  }

  /** Stops starting syncs and cancels timers; running syncs finish on their own. */
  stop(): void {
    this.stopped = true;
    for (const status of this.statuses.values()) this.clearTimer(status);
  }

  private status(uid: string): PodSyncStatus {
    let status = this.statuses.get(uid);
    if (!status) {
      status = { phase: 'syncing', running: false, pending: false, failures: 0 };
      this.statuses.set(uid, status);
    }
    return status;
  }

  private termination(status: PodSyncStatus, signal: AbortSignal): Termination {
    const t = status.termination;
    if (!t) throw new Error(`pod in phase ${status.phase} has no termination`);
    const reentered = status.terminatingStartedAt !== undefined;
    status.terminatingStartedAt ??= Date.now();
    return { deadline: t.deadline, graceSeconds: t.graceSeconds, startedAt: status.terminatingStartedAt, reentered, gone: t.gone, signal };
  }

  /** Runs the pod's current phase once; moves it on when the terminating phase completes. */
  private async runPhase(uid: string, status: PodSyncStatus): Promise<SyncOutcome | void> {
    switch (status.phase) {
      case 'syncing':
        return this.phases.syncPod(uid);
      case 'terminating': {
        const interrupt = new AbortController();
        status.interrupt = interrupt;
        try {
          await this.phases.syncTerminatingPod(uid, this.termination(status, interrupt.signal));
        } finally {
          status.interrupt = undefined;
        }
        // Interrupted: entered again at once with the nearer deadline.
        if (!interrupt.signal.aborted) status.phase = 'terminated';
        status.pending = true;
        return;
      }
      case 'terminated':
        return this.phases.syncTerminatedPod(uid, this.termination(status, new AbortController().signal));
    }
  }

  private async run(uid: string, status: PodSyncStatus): Promise<void> {
    try {
      do {
        status.pending = false;
        let outcome: SyncOutcome | void;
        try {
          outcome = await this.runPhase(uid, status);
          status.failures = 0;
        } catch (err) {
          const delay = Math.min(this.retryMs * 2 ** status.failures, this.maxRetryMs);
          status.failures++;
          this.log.warn('pod sync failed; will retry', { uid, phase: status.phase, error: err, retryMs: delay });
          outcome = { requeueAfterMs: delay };
        }
        if (outcome?.done && !status.pending) {
          this.clearTimer(status);
          this.statuses.delete(uid);
          return;
        }
        if (outcome?.requeueAfterMs !== undefined && !this.stopped) this.syncAfter(uid, outcome.requeueAfterMs);
      } while (status.pending && !this.stopped);
    } finally {
      status.running = false;
      status.loop = undefined;
    }
  }

  private clearTimer(status: PodSyncStatus): void {
    if (status.timer) clearTimeout(status.timer);
    status.timer = undefined;
    status.timerAt = undefined;
  }
}
