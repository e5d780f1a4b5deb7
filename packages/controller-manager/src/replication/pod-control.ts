// The writes a replication controller makes — pods created from its template, deleted,
// adopted or released; its status; its events — behind one interface so that tests can
// stand in for the API server.

import type { KubeObject, OwnerReference, Pod, ReplicationController } from '@peapod/api';
import { EventSpamFilter } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';

export interface ControllerClient {
  createPod(namespace: string, pod: Pod): Promise<Pod>;
  /** A plain (graceful) delete of this very pod: the uid guards against a namesake. */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
  /**
   * Replaces the pod's ownerReferences, on the condition that the pod is still at
   * `resourceVersion` (409 otherwise), so two controllers cannot both claim it.
   */
  setPodOwners(namespace: string, name: string, resourceVersion: string, owners: OwnerReference[]): Promise<Pod>;
  getController(namespace: string, name: string): Promise<ReplicationController>;
  updateControllerStatus(rc: ReplicationController): Promise<ReplicationController>;
  /** Records an event about the controller; never fails (events are best effort). */
  event(rc: ReplicationController, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export const rcKind = 'ReplicationController';

/** The reference a pod carries to the controller that owns it. */
export function controllerRefFor(rc: ReplicationController): OwnerReference {
  return {
    apiVersion: 'v1',
    kind: rcKind,
    name: rc.metadata.name ?? '',
    uid: rc.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The owner reference marked controller: true, if any. */
export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** A new pod from the controller's template, named `<rc-name>-<random>` by the server. */
export function podFromTemplate(rc: ReplicationController): Pod {
  const template = rc.spec?.template;
  if (template === undefined) throw new Error(`replication controller ${rc.metadata.name} has no pod template`);
  const meta = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rc.metadata.name}-`,
      namespace: rc.metadata.namespace,
      labels: { ...meta.labels },
      ownerReferences: [controllerRefFor(rc)],
    },
    spec: structuredClone(template.spec),
  };
  if (meta.annotations !== undefined) pod.metadata.annotations = { ...meta.annotations };
  return pod;
}

const eventSource = { component: 'replication-controller' };

/** ControllerClient over the real API. */
export class ApiControllerClient implements ControllerClient {
  /** client-go's spam filter, as the replication manager's recorder has it: a scale-up by thousands writes a few dozen events, not one per pod. */
  private readonly spam = new EventSpamFilter();

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
  ) {}

  createPod(namespace: string, pod: Pod): Promise<Pod> {
    return this.client.create<Pod>('pods', pod, { namespace });
  }

  async deletePod(namespace: string, name: string, uid: string): Promise<void> {
    await this.client.delete('pods', name, { namespace, preconditions: { uid } });
  }

  setPodOwners(namespace: string, name: string, resourceVersion: string, owners: OwnerReference[]): Promise<Pod> {
    // In a merge patch null removes the field; naming the resourceVersion makes it a precondition.
    const patch = { metadata: { resourceVersion, ownerReferences: owners.length > 0 ? owners : null } };
    return this.client.patch<Pod>('pods', name, patch, 'merge', { namespace });
  }

  getController(namespace: string, name: string): Promise<ReplicationController> {
    return this.client.get<ReplicationController>('replicationcontrollers', name, { namespace });
  }

  updateControllerStatus(rc: ReplicationController): Promise<ReplicationController> {
    return this.client.updateStatus<ReplicationController>('replicationcontrollers', rc);
  }

  event(rc: ReplicationController, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.spam.allow(rc.metadata.uid ?? `${rc.metadata.namespace ?? ''}/${rc.metadata.name ?? ''}`)) return;
    const involved = { ...rc, apiVersion: 'v1', kind: rcKind };
    this.client.recordEvent(involved, type, reason, message, eventSource).catch((err: unknown) => {
      this.log.debug('could not record event', { reason, message, error: err });
    });
  }
}
