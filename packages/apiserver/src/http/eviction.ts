// POST pods/{name}/eviction: a policy/v1 Eviction asks for the pod to be deleted with the
// DeleteOptions it carries. There are no PodDisruptionBudgets yet, so nothing can refuse an
// eviction (Kubernetes answers 429 when a budget would be broken): an eviction is the pod's
// graceful delete, honouring its grace period, preconditions and dryRun.

import type { DeleteOptions } from '@peapod/api';
import { badRequest } from '../errors';
import type { Registry } from '../registry/registry';
import { checkDeleteOptions } from './body';

/** The group-versions an Eviction may be sent in (kubectl drain picks the newest the server lists). */
const evictionVersions = ['policy/v1', 'policy/v1beta1'];

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The dry run of an eviction is in the request's query or in its DeleteOptions; both may
 * say it, but they must not disagree (as Kubernetes checks).
 */
function dryRunOf(queryDryRun: string[], opts: DeleteOptions): boolean {
  const inBody = opts.dryRun ?? [];
  if (!Array.isArray(inBody) || inBody.some((v) => v !== 'All')) {
    throw badRequest(`unsupported dryRun value ${JSON.stringify(inBody)} in deleteOptions: only "All" is supported`);
  }
  if (queryDryRun.length && inBody.length && !sameList(queryDryRun, inBody)) {
    throw badRequest(`DryRun in CreateOptions (${JSON.stringify(queryDryRun)}) and Eviction.DeleteOptions (${JSON.stringify(inBody)}) do not match`);
  }
  return queryDryRun.length > 0 || inBody.length > 0;
}

/** Evicts the pod `name` as `body` (an Eviction) asks; throws the Status error a client gets. */
export async function evictPod(registry: Registry, namespace: string, name: string, body: unknown, queryDryRun: string[]): Promise<void> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a policy/v1 Eviction');
  const eviction = body as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; deleteOptions?: unknown };
  if (eviction.apiVersion !== undefined && !evictionVersions.includes(String(eviction.apiVersion))) {
    throw badRequest(`the API version in the data (${String(eviction.apiVersion)}) does not match the expected API version (policy/v1)`);
  }
  if (eviction.kind !== undefined && eviction.kind !== 'Eviction') {
    throw badRequest(`the kind in the data (${String(eviction.kind)}) does not match the expected kind (Eviction)`);
  }
  if (eviction.metadata?.name !== name) throw badRequest('name in URL does not match name in Eviction object');
  if (eviction.metadata.namespace !== undefined && eviction.metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const raw = eviction.deleteOptions ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('Eviction.deleteOptions must be an object');
  checkDeleteOptions(raw as Record<string, unknown>);
  const opts = raw as DeleteOptions;
  await registry.delete('pods', namespace, name, opts, dryRunOf(queryDryRun, opts));
}
