// The probes of every pod on the node (the kubelet's prober manager): a worker per container
// and kind of probe, kept in step with the pod's containers after each sync, and the
// verdicts the pod status and the pod sync read.
import type { Container, Pod, Probe } from '@peapod/api';
import type { RuntimeContainer } from '../runtime';
import { attemptsOf, runtimeID } from '../status';
import { runProbe, type RunProbe } from './handlers';
import type { ProbeState } from './tracker';
import { ProbeWorker } from './worker';
import { probeField, probeKinds, type ProbeKind, type ProbeOutcome, type ProbeTarget } from './types';

export interface ProbeManagerOptions {
  exec: ProbeTarget['exec'];
  /** The runtime's name, the scheme of the container IDs the pod's status reports. */
  runtime: string;
  /** A verdict changed for a pod: sync it. */
  onChange(uid: string): void;
  /** A probe run failed or errored. */
  onUnhealthy(pod: Pod, container: string, kind: ProbeKind, outcome: ProbeOutcome): void;
  /** Defaults to the real handlers (exec, httpGet, tcpSocket). */
  run?: RunProbe;
}

/** What the pod status reads: a running container's startup and readiness verdicts. */
export interface ContainerProbeView {
  /** Its startup probe passed (true when it has none). */
  started(name: string, containerId: string): boolean;
  /** Started, and its readiness probe passes (true when it has none). */
  ready(name: string, containerId: string): boolean;
}

interface PodProbes {
  pod: Pod;
  workers: Map<string, ProbeWorker>;
  /** While the pod terminates its sync is busy stopping it: verdict changes go here instead. */
  onTerminatingChange?: () => void;
}

function workerKey(container: string, kind: ProbeKind): string {
  return `${container}/${kind}`;
}

function startedAtMs(c: RuntimeContainer): number {
  const at = Date.parse(c.startedAt ?? '');
  return Number.isNaN(at) ? Date.now() : at;
}

export class ProbeManager {
  private readonly pods = new Map<string, PodProbes>();
  private readonly run: RunProbe;

  constructor(private readonly opts: ProbeManagerOptions) {
    this.run = opts.run ?? runProbe;
  }

  /** After a sync of a live pod: every probe of its app containers follows their running attempt. */
  update(pod: Pod, containers: RuntimeContainer[], podIP: string): void {
    const uid = pod.metadata.uid ?? '';
    let entry = this.pods.get(uid);
    if (!entry) {
      // A pod without probes needs no entry (its verdicts are the defaults), and most pods have
      // none: a hollow process keeps 150,000.
      if (!pod.spec.containers.some((c) => probeKinds.some((kind) => c[probeField[kind]]))) return;
      entry = { pod, workers: new Map() };
      this.pods.set(uid, entry);
    }
    entry.pod = pod;
    for (const container of pod.spec.containers) {
      const latest = attemptsOf(containers, container.name)[0];
      const attempt = latest?.state === 'running' ? { id: latest.id, startedAtMs: startedAtMs(latest), podIP } : undefined;
      // What the pod's status already says of this very attempt (written before an agent restart).
      const reported = pod.status?.containerStatuses?.find((s) => s.name === container.name);
      const known = latest !== undefined && reported?.containerID === runtimeID(this.opts.runtime, latest.id) ? reported : undefined;
      const resume: Partial<Record<ProbeKind, ProbeState>> = {
        ...(known?.started ? { startup: 'success' } : {}),
        ...(known?.ready ? { readiness: 'success' } : {}),
      };
      for (const kind of probeKinds) {
        const probe = container[probeField[kind]];
        if (!probe) continue;
        const key = workerKey(container.name, kind);
        let worker = entry.workers.get(key);
        if (!worker) {
          worker = this.newWorker(uid, container.name, kind, probe, container);
          entry.workers.set(key, worker);
        }
        worker.track(attempt, resume[kind]);
      }
    }
  }

  /**
   * Termination began: liveness and startup probes stop (nothing restarts a container on its
   * way out); readiness goes on, and its changes go to `onChange`, as the pod's own sync is
   * busy stopping it for the whole grace period.
   */
  terminating(uid: string, onChange: () => void): void {
    const entry = this.pods.get(uid);
    if (!entry) return;
    entry.onTerminatingChange = onChange;
    for (const worker of entry.workers.values()) if (worker.kind !== 'readiness') worker.stop();
  }

  /** The pod is gone or finished: its workers stop and their verdicts go. */
  remove(uid: string): void {
    for (const worker of this.pods.get(uid)?.workers.values() ?? []) worker.stop();
    this.pods.delete(uid);
  }

  /** Stops every worker (the agent stops). */
  stopAll(): void {
    for (const uid of [...this.pods.keys()]) this.remove(uid);
  }

  started(uid: string, name: string, containerId: string): boolean {
    const worker = this.worker(uid, name, 'startup');
    return worker === undefined || worker.state(containerId) === 'success';
  }

  ready(uid: string, name: string, containerId: string): boolean {
    if (!this.started(uid, name, containerId)) return false;
    const worker = this.worker(uid, name, 'readiness');
    return worker === undefined || worker.state(containerId) === 'success';
  }

  /** The probe whose failure means this attempt must be killed, if any. */
  failed(uid: string, name: string, containerId: string): 'liveness' | 'startup' | undefined {
    if (this.worker(uid, name, 'liveness')?.state(containerId) === 'failure') return 'liveness';
    if (this.worker(uid, name, 'startup')?.state(containerId) === 'failure') return 'startup';
    return undefined;
  }

  view(uid: string): ContainerProbeView {
    return {
      started: (name, id) => this.started(uid, name, id),
      ready: (name, id) => this.ready(uid, name, id),
    };
  }

  private worker(uid: string, name: string, kind: ProbeKind): ProbeWorker | undefined {
    return this.pods.get(uid)?.workers.get(workerKey(name, kind));
  }

  private newWorker(uid: string, name: string, kind: ProbeKind, probe: Probe, container: Container): ProbeWorker {
    return new ProbeWorker(kind, probe, container, {
      run: this.run,
      exec: this.opts.exec,
      started: (id) => this.started(uid, name, id),
      onChange: () => {
        // Once started, the other probes of the container need not wait a period to begin.
        if (kind === 'startup') {
          for (const other of ['readiness', 'liveness'] as const) this.worker(uid, name, other)?.poke();
        }
        const terminating = this.pods.get(uid)?.onTerminatingChange;
        if (terminating) terminating();
        else this.opts.onChange(uid);
      },
      onUnhealthy: (outcome) => {
        const pod = this.pods.get(uid)?.pod;
        if (pod) this.opts.onUnhealthy(pod, name, kind, outcome);
      },
    });
  }
}
