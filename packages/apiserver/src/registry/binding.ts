// The pods/binding subresource (and the bindings resource), as Kubernetes' BindingREST: a
// Binding assigns an unbound pod to a node, once. The checks on the pod run inside the
// guaranteed update, on the pod as it is when it is written, so two schedulers (or two API
// servers) binding the same pod at once bind it once.

import { Binding, Pod, rfc3339, setPodCondition } from '@peapod/api';
import type { StoredEntry } from '../storage/types';
import { badRequest, conflict, invalid } from '../errors';
import type { Registry } from './registry';

/** A Binding as sent, checked before anything is read: a 400 or 422 otherwise. */
export function readBinding(podName: string, body: unknown): Binding & { target: { name: string } } {
  if (typeof body !== 'object' || body === null) throw badRequest('the body must be a Binding object');
  const binding = body as Binding;
  if (binding.kind !== undefined && binding.kind !== 'Binding') {
    throw badRequest(`the kind in the data (${String(binding.kind)}) does not match the expected kind (Binding)`);
  }
  const target = binding.target;
  if (!target || typeof target.name !== 'string' || !target.name) {
    throw invalid('Binding', podName, [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
  }
  if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node') {
    throw invalid('Binding', podName, [{ reason: 'FieldValueNotSupported', field: 'target.kind', message: `Unsupported value: "${target.kind}": supported values: "Node"` }]);
  }
  return binding as Binding & { target: { name: string } };
}

/**
 * The pod bound to the binding's node, or the conflict Kubernetes answers when it cannot be.
 * `current` is the update's own copy of the pod, and becomes the bound pod.
 */
export function assignPod(current: Pod, binding: Binding & { target: { name: string } }, now: Date): Pod {
  const podName = current.metadata.name ?? '';
  if (binding.metadata?.uid && binding.metadata.uid !== current.metadata.uid) {
    throw conflict('pods/binding', podName, `Precondition failed: UID in precondition: ${binding.metadata.uid}, UID in object meta: ${current.metadata.uid}`);
  }
  if (current.metadata.deletionTimestamp) {
    throw conflict('pods/binding', podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
  }
  if (current.spec.nodeName) {
    throw conflict('pods/binding', podName, `pod ${podName} is already assigned to node "${current.spec.nodeName}"`);
  }
  const pod = current;
  pod.spec.nodeName = binding.target.name;
  pod.status ??= {};
  setPodCondition(pod.status, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(now) });
  return pod;
}

/** POST pods/NAME/binding (or bindings): binds the pod, decided on the pod as it is at the write. */
export async function bindPod(registry: Registry, namespace: string, podName: string, body: unknown, dryRun: boolean): Promise<StoredEntry> {
  const binding = readBinding(podName, body);
  const now = registry.now();
  return registry.guaranteedUpdate('pods', namespace, podName, (current) => assignPod(current as Pod, binding, now), dryRun);
}
