// One probe of one container (the kubelet's probe worker): it follows the container's
// current attempt, probes it on schedule, and reports when the probe's verdict changes.
// Timing and thresholds are decided in tracker.ts; this file only does the waiting and calling.
import { probeTiming } from '@peapod/api';
import type { Container, Probe, ProbeTiming } from '@peapod/api';
import type { RunProbe } from './handlers';
import { newTracker, nextProbeAt, observe, shouldProbe, type ProbeState, type Tracker } from './tracker';
import type { ProbeKind, ProbeOutcome, ProbeTarget } from './types';

/** The running attempt of a container, as a worker probes it. */
export interface ProbedContainer {
  id: string;
  startedAtMs: number;
  podIP: string;
}

export interface ProbeWorkerDeps {
  run: RunProbe;
  exec: ProbeTarget['exec'];
  /** Whether this attempt's startup probe has passed (true when the container has none). */
  started(containerId: string): boolean;
  /** The verdict changed: the pod's status (and maybe the container) must follow. */
  onChange(): void;
  /** A run failed or errored (the kubelet records an Unhealthy event for each). */
  onUnhealthy(outcome: ProbeOutcome): void;
}

export class ProbeWorker {
  private readonly timing: ProbeTiming;
  private target?: ProbedContainer;
  private tracker?: Tracker;
  private lastProbeAt?: number;
  private timer?: NodeJS.Timeout;
  private probing = false;
  private stopped = false;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: Probe,
    private readonly container: Container,
    private readonly deps: ProbeWorkerDeps,
  ) {
    this.timing = probeTiming(probe);
  }

  /**
   * Follows this attempt (undefined: none runs now). A new attempt starts with a fresh
   * verdict, or with `resume` when it is known already (what the pod's status said before this
   * agent restarted), so that a restart of the agent does not flap a ready pod.
   */
  track(attempt: ProbedContainer | undefined, resume?: ProbeState): void {
    if (this.stopped) return;
    if (attempt === undefined) {
      this.cancel();
      this.target = undefined;
      this.tracker = undefined;
      return;
    }
    if (this.target?.id === attempt.id) {
      this.target = attempt;
      if (this.timer === undefined) this.schedule();
      return;
    }
    this.cancel();
    this.target = attempt;
    this.tracker = { ...newTracker(this.kind, attempt.id), ...(resume !== undefined ? { state: resume } : {}) };
    this.lastProbeAt = undefined;
    this.schedule();
  }

  /** The verdict on this attempt; undefined when another attempt (or none) is followed. */
  state(containerId: string): ProbeState | undefined {
    return this.tracker?.containerId === containerId ? this.tracker.state : undefined;
  }

  /** Probe as soon as the timing allows (the startup probe just passed). */
  poke(): void {
    if (this.stopped || this.probing) return;
    this.cancel();
    this.lastProbeAt = undefined;
    this.schedule();
  }

  /** No more probes; the last verdict stays readable. */
  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  private cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped || this.probing || !this.target || !this.tracker || this.tracker.onHold) return;
    const at = nextProbeAt(this.timing, this.target.startedAtMs, this.lastProbeAt);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.probeOnce();
    }, Math.max(0, at - Date.now()));
  }

  private async probeOnce(): Promise<void> {
    const target = this.target;
    const tracker = this.tracker;
    if (this.stopped || !target || !tracker) return;
    this.lastProbeAt = Date.now();
    if (!shouldProbe(this.kind, tracker, this.deps.started(target.id))) {
      // A startup probe whose container has started is done with this attempt. The others wait
      // for it: they look again a period later, or sooner when poke() says it passed.
      if (this.kind !== 'startup') this.schedule();
      return;
    }
    this.probing = true;
    let outcome: ProbeOutcome;
    try {
      outcome = await this.deps.run(this.probe, { container: this.container, containerId: target.id, podIP: target.podIP, exec: this.deps.exec });
    } finally {
      this.probing = false;
    }
    // Replaced or stopped while the probe ran: its answer is about something gone.
    if (this.stopped || this.tracker !== tracker) {
      this.schedule();
      return;
    }
    if (outcome.result !== 'success') this.deps.onUnhealthy(outcome);
    if (outcome.result !== 'error') {
      const { tracker: next, changed } = observe(tracker, this.kind, this.timing, outcome.result);
      this.tracker = next;
      if (changed) this.deps.onChange();
    }
    this.schedule();
  }
}
