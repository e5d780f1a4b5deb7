// The page's actions, each one API request (drain: a few) that can first be sent with
// dryRun=All to preview what the server would do. Each returns lines to show; a refusal
// rejects with the ApiFailure carrying the server's Status.

import type { KubeObject, Pod, Scale, Status } from '@peapod/api';
import type { RequestOptions } from './api';
import { failureText, isNotFound } from './api';
import type { PodRecord } from './state/records';
import { clock } from './state/views';

export type Api = <T>(method: string, path: string, opts?: RequestOptions) => Promise<T>;

const dryRunQuery = (dryRun: boolean) => (dryRun ? { dryRun: 'All' } : {});

function podPath(p: Pick<PodRecord, 'namespace' | 'name'>, sub?: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(p.namespace)}/pods/${encodeURIComponent(p.name)}${sub ? `/${sub}` : ''}`;
}

function time(iso: string): string {
  return clock(Date.parse(iso));
}

function isObject(x: KubeObject | Status): x is KubeObject {
  return x.kind !== 'Status';
}

/** DELETE with a grace period (0: removed from the API at once) and the pod's uid as precondition. */
export async function deletePod(api: Api, pod: PodRecord, graceSeconds: number, dryRun: boolean): Promise<string[]> {
  const result = await api<Pod | Status>('DELETE', podPath(pod), {
    query: dryRunQuery(dryRun),
    body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: graceSeconds, preconditions: { uid: pod.uid } },
  });
  const would = dryRun ? 'would be' : 'was';
  const meta = isObject(result) ? (result as Pod).metadata : undefined;
  const deadline = meta?.deletionTimestamp;
  if (deadline !== undefined) {
    return [
      `pod "${pod.name}" ${dryRun ? 'would turn' : 'turned'} Terminating: deletionTimestamp ${time(deadline)} (grace ${meta?.deletionGracePeriodSeconds ?? graceSeconds}s).`,
      `Its node runs each container's preStop hook, sends TERM, and KILL at the deadline; then the pod ${dryRun ? 'would be' : 'is'} removed.`,
    ];
  }
  return [graceSeconds === 0 ? `pod "${pod.name}" ${dryRun ? 'would be force deleted' : 'force deleted'}` : `pod "${pod.name}" ${would} removed at once (not running on a node, or finished)`];
}

/** PATCH of the scale subresource: the controller then creates or deletes pods. */
export async function scaleController(api: Api, rc: { namespace: string; name: string; desired: number }, replicas: number, dryRun: boolean): Promise<string[]> {
  const path = `/api/v1/namespaces/${encodeURIComponent(rc.namespace)}/replicationcontrollers/${encodeURIComponent(rc.name)}/scale`;
  const scale = await api<Scale>('PATCH', path, { query: dryRunQuery(dryRun), body: { spec: { replicas } }, contentType: 'application/merge-patch+json' });
  const to = scale.spec?.replicas ?? replicas;
  return [`replicationcontroller "${rc.name}" ${dryRun ? 'would be scaled' : 'scaled'} from ${rc.desired} to ${to} replicas`];
}

/** cordon (true) or uncordon (false): spec.unschedulable, as kubectl patches it. */
export async function setUnschedulable(api: Api, node: string, unschedulable: boolean, dryRun: boolean): Promise<string[]> {
  await api<KubeObject>('PATCH', `/api/v1/nodes/${encodeURIComponent(node)}`, {
    query: dryRunQuery(dryRun),
    body: { spec: { unschedulable: unschedulable ? true : null } },
    contentType: 'application/merge-patch+json',
  });
  const verb = unschedulable ? 'cordoned' : 'uncordoned';
  return [`node/${node} ${dryRun ? `would be ${verb}` : verb}`];
}

/** Whether the API serves pods/eviction (discovery of /api/v1). */
export async function evictionServed(api: Api): Promise<boolean> {
  const list = await api<{ resources?: { name: string }[] }>('GET', '/api/v1');
  return (list.resources ?? []).some((r) => r.name === 'pods/eviction');
}

/**
 * Drain: cordon, then evict each pod on the node (policy/v1 Eviction when the API serves it,
 * else a graceful delete with the pod's own grace period). One pod's refusal (say 429 from a
 * disruption budget) is reported on its line and the others go on.
 */
export async function drainNode(api: Api, node: string, pods: PodRecord[], useEviction: boolean, dryRun: boolean): Promise<string[]> {
  const lines = await setUnschedulable(api, node, true, dryRun);
  for (const pod of pods) {
    if (pod.terminal) continue;
    const preconditions = { uid: pod.uid };
    try {
      if (useEviction) {
        await api('POST', podPath(pod, 'eviction'), {
          query: dryRunQuery(dryRun),
          body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.name, namespace: pod.namespace }, deleteOptions: { preconditions } },
        });
        lines.push(`pod ${pod.namespace}/${pod.name} ${dryRun ? 'would be evicted' : 'evicted'}`);
      } else {
        await api('DELETE', podPath(pod), { query: dryRunQuery(dryRun), body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions } });
        lines.push(`pod ${pod.namespace}/${pod.name} ${dryRun ? 'would be deleted' : 'deleted'} (graceful: pods/eviction is not served)`);
      }
    } catch (err) {
      // Already gone: nothing left to evict.
      if (isNotFound(err)) continue;
      lines.push(`pod ${pod.namespace}/${pod.name}: ${failureText(err)}`);
    }
  }
  lines.push(`node/${node} ${dryRun ? 'would be drained' : 'drained: its pods are leaving'}`);
  return lines;
}
