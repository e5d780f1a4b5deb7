// The order in which a scaled-down controller gives up its pods: the ones whose loss costs
// least go first — not yet scheduled, then not yet running, then not ready, then the ones
// that became ready most recently, restarted most, or were created last.

import { getPodCondition, isPodReady } from '@peapod/api';
import type { Pod } from '@peapod/api';

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function time(iso: string | undefined): number {
  if (iso === undefined) return 0;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

function restarts(pod: Pod): number {
  let n = 0;
  for (const cs of pod.status?.containerStatuses ?? []) n = Math.max(n, cs.restartCount ?? 0);
  return n;
}

/** Negative when `a` should be deleted before `b`. */
export function compareForDeletion(a: Pod, b: Pod): number {
  const aAssigned = a.spec.nodeName ? 1 : 0;
  const bAssigned = b.spec.nodeName ? 1 : 0;
  if (aAssigned !== bAssigned) return aAssigned - bAssigned;
  const aPhase = phaseRank[a.status?.phase ?? 'Pending'] ?? 0;
  const bPhase = phaseRank[b.status?.phase ?? 'Pending'] ?? 0;
  if (aPhase !== bPhase) return aPhase - bPhase;
  const aReady = isPodReady(a) ? 1 : 0;
  const bReady = isPodReady(b) ? 1 : 0;
  if (aReady !== bReady) return aReady - bReady;
  if (aReady === 1) {
    const aSince = time(getPodCondition(a, 'Ready')?.lastTransitionTime);
    const bSince = time(getPodCondition(b, 'Ready')?.lastTransitionTime);
    if (aSince !== bSince) return bSince - aSince;
  }
  const restartDiff = restarts(b) - restarts(a);
  if (restartDiff !== 0) return restartDiff;
  const created = time(b.metadata.creationTimestamp) - time(a.metadata.creationTimestamp);
  if (created !== 0) return created;
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

/** The `count` pods to delete first. */
export function podsToDelete(pods: readonly Pod[], count: number): Pod[] {
  if (count <= 0) return [];
  return [...pods].sort(compareForDeletion).slice(0, count);
}
