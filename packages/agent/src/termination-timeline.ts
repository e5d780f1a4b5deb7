// A pod's termination as events on the pod, one per step, each carrying the moment the step
// happened: what Kubernetes shows (Killing, FailedPreStopHook) and what it does not (when
// preStop began and ended, which signals went, when each container ended, when all were
// gone). Pure: the pod sync turns runtime steps into these and records them.
import type { EventType } from './events';
import type { KillStep } from './runtime';

export interface TimelineEvent {
  type: EventType;
  reason: string;
  message: string;
  at: Date;
}

/** The reasons of the timeline beyond Kubernetes' own Killing and FailedPreStopHook. */
export const TimelineReason = {
  preStopStarted: 'PreStopHookStarted',
  preStopFinished: 'PreStopHookFinished',
  preStopFailed: 'FailedPreStopHook',
  stopSignal: 'SentStopSignal',
  killSignal: 'SentKillSignal',
  containerStopped: 'ContainerStopped',
  containersGone: 'ContainersGone',
} as const;

/** A duration as "1.2s". */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

/** The event for one step of a container's stop. */
export function killStepEvent(step: KillStep): TimelineEvent {
  const at = new Date(step.at);
  const name = step.container;
  switch (step.kind) {
    case 'preStopStarted':
      return { type: 'Normal', reason: TimelineReason.preStopStarted, message: `Running the preStop hook (${step.handler}) of container ${name}`, at };
    case 'preStopFinished': {
      const took = seconds(step.result.durationMs);
      if (step.result.status === 'ok') {
        return { type: 'Normal', reason: TimelineReason.preStopFinished, message: `PreStop hook of container ${name} finished in ${took}`, at };
      }
      const why = step.result.message ?? step.result.status;
      return { type: 'Warning', reason: TimelineReason.preStopFailed, message: `PreStopHook of container ${name} failed after ${took}: ${why}`, at };
    }
    case 'signalSent':
      if (step.signal === 'SIGKILL') {
        return { type: 'Warning', reason: TimelineReason.killSignal, message: `Sent SIGKILL to container ${name}: still running when its grace period ended`, at };
      }
      return { type: 'Normal', reason: TimelineReason.stopSignal, message: `Sent ${step.signal} to container ${name}`, at };
    case 'stopped': {
      const { stop } = step;
      const how = stop.ended === 'killed' ? `was killed (exit code ${stop.exitCode ?? 137})` : `exited with code ${stop.exitCode ?? 0}`;
      return { type: 'Normal', reason: TimelineReason.containerStopped, message: `Container ${name} ${how}, ${seconds(stop.durationMs)} after ${stop.signal ?? 'its stop signal'}`, at };
    }
  }
}

/** The last event: nothing of the pod runs any more. */
export function containersGoneEvent(terminationStartedAt: number, at: number, graceSeconds: number): TimelineEvent {
  return {
    type: 'Normal',
    reason: TimelineReason.containersGone,
    message: `All containers of the pod are gone, ${seconds(at - terminationStartedAt)} after termination began (grace period ${graceSeconds}s)`,
    at: new Date(at),
  };
}
