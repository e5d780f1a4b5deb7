// The status a replication controller reports, computed from the live pods it owns.

import { getPodCondition, isPodAvailable, isPodReady } from '@peapod/api';
import type { Pod, ReplicationController, ReplicationControllerStatus } from '@peapod/api';

function hasAllLabels(pod: Pod, labels: Record<string, string>): boolean {
  const have = pod.metadata.labels ?? {};
  return Object.entries(labels).every(([k, v]) => have[k] === v);
}

/** The status for `rc` given its live, owned pods. Conditions already present are kept. */
export function computeStatus(rc: ReplicationController, pods: readonly Pod[], now: number): ReplicationControllerStatus {
  const templateLabels = rc.spec?.template?.metadata?.labels ?? {};
  const minReady = rc.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    if (hasAllLabels(pod, templateLabels)) fullyLabeled++;
    if (isPodReady(pod)) ready++;
    if (isPodAvailable(pod, minReady, now)) available++;
  }
  const status: ReplicationControllerStatus = {
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rc.metadata.generation ?? 0,
  };
  if (rc.status?.conditions !== undefined && rc.status.conditions.length > 0) status.conditions = rc.status.conditions;
  return status;
}

export function sameStatus(a: ReplicationControllerStatus | undefined, b: ReplicationControllerStatus): boolean {
  if (a === undefined) return false;
  return (
    a.replicas === b.replicas &&
    (a.fullyLabeledReplicas ?? 0) === b.fullyLabeledReplicas &&
    (a.readyReplicas ?? 0) === b.readyReplicas &&
    (a.availableReplicas ?? 0) === b.availableReplicas &&
    (a.observedGeneration ?? 0) === b.observedGeneration
  );
}

/**
 * How long until a ready but not yet available pod becomes available, so the controller can
 * look again then; undefined when there is no such pod.
 */
export function nextAvailabilityCheckMs(rc: ReplicationController, pods: readonly Pod[], now: number): number | undefined {
  const minReady = rc.spec?.minReadySeconds ?? 0;
  if (minReady <= 0) return undefined;
  let soonest: number | undefined;
  for (const pod of pods) {
    if (!isPodReady(pod)) continue;
    const since = Date.parse(getPodCondition(pod, 'Ready')?.lastTransitionTime ?? '');
    if (Number.isNaN(since)) continue;
    // Available once the time is past, not at it (isPodAvailable): look a millisecond after.
    const due = since + minReady * 1000 - now + 1;
    if (due > 0 && (soonest === undefined || due < soonest)) soonest = due;
  }
  return soonest;
}
