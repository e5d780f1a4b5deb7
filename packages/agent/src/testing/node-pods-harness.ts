// A node's pods (NodePods: the phases, the workers, the probes) over the fake runtime and an
// API in memory, for unit tests of the pod sync that need neither Docker nor an API server.
// The API part does what the real one does for the agent: status patches, deletion marks
// (deletionTimestamp, a later delete only shortening the grace), removal with grace 0 under
// a uid precondition; each change reaches NodePods as the informer would hand it over.
import { applyMergePatch, failureStatus, rfc3339, specGracePeriodSeconds } from '@peapod/api';
import type { KubeObject, Pod } from '@peapod/api';
import { ApiError, createLogger } from '@peapod/client';
import type { Client } from '@peapod/client';
import type { EventRecorder, EventType } from '../events';
import { NodePods } from '../node-pods';
import { FakeRuntime, type FakeRuntimeOptions } from '../runtime';

export interface RecordedEvent {
  pod: string;
  type: EventType;
  reason: string;
  message: string;
  at: number;
}

function notFound(what: string): ApiError {
  return new ApiError(failureStatus(404, `${what} not found`, { reason: 'NotFound' }));
}

/** Pods by name, in the default namespace, as the API server would keep them. */
export class PodApiStub {
  readonly pods = new Map<string, Pod>();
  /** Every delete the agent sent: name, grace and when. */
  readonly deletes: { name: string; gracePeriodSeconds?: number; at: number }[] = [];
  /** The names of the pods whose status the agent patched, one entry a patch. */
  readonly statusPatches: string[] = [];
  private rv = 1;
  private readonly pods$: () => NodePods;

  constructor(pods: () => NodePods) {
    this.pods$ = pods;
  }

  /** The subset of Client the pod sync uses. */
  client(): Client {
    const stub = {
      get: async (resource: string, name: string) => {
        throw notFound(`${resource} "${name}"`);
      },
      list: async () => ({ apiVersion: 'v1', kind: 'List', metadata: {}, items: [] as KubeObject[] }),
      patch: async (_resource: string, name: string, patch: unknown) => this.patchStatus(name, patch),
      delete: async (_resource: string, name: string, opts: { gracePeriodSeconds?: number; preconditions?: { uid?: string } }) => {
        this.deletes.push({ name, gracePeriodSeconds: opts.gracePeriodSeconds, at: Date.now() });
        const pod = this.pods.get(name);
        if (!pod || (opts.preconditions?.uid !== undefined && opts.preconditions.uid !== pod.metadata.uid)) throw notFound(`pods "${name}"`);
        this.remove(name);
        return pod;
      },
      createToken: async () => {
        throw notFound('serviceaccounts "default"');
      },
    };
    return stub as unknown as Client;
  }

  create(pod: Pod): Pod {
    const stored = this.stamp(structuredClone(pod));
    this.pods.set(stored.metadata.name ?? '', stored);
    this.pods$().added(stored);
    return stored;
  }

  /** A user's delete: marks the pod with its grace (a later delete only shortens it); grace 0 removes it at once. */
  deleteGracefully(name: string, gracePeriodSeconds?: number): void {
    const old = this.pods.get(name);
    if (!old) throw notFound(`pods "${name}"`);
    const grace = gracePeriodSeconds ?? old.metadata.deletionGracePeriodSeconds ?? specGracePeriodSeconds(old);
    if (grace === 0) return this.remove(name);
    if (old.metadata.deletionGracePeriodSeconds !== undefined && grace >= old.metadata.deletionGracePeriodSeconds) return;
    const marked = this.stamp(structuredClone(old));
    marked.metadata.deletionTimestamp = rfc3339(new Date(Date.now() + grace * 1000));
    marked.metadata.deletionGracePeriodSeconds = grace;
    this.pods.set(name, marked);
    this.pods$().updated(old, marked);
  }

  /**
   * Another component's status write (the node lifecycle controller's, say). Handed over as
   * the informer would, or, with handOver false, only to the pod cache, as an update whose
   * sync went astray.
   */
  writeStatusAsOther(name: string, status: Pod['status'], handOver = true): Pod {
    const old = this.pods.get(name);
    if (!old) throw notFound(`pods "${name}"`);
    const updated = this.stamp({ ...structuredClone(old), status: structuredClone(status) });
    this.pods.set(name, updated);
    if (handOver) this.pods$().updated(old, updated);
    else this.pods$().syncer.podUpdated(updated);
    return updated;
  }

  private remove(name: string): void {
    const pod = this.pods.get(name);
    if (!pod) return;
    this.pods.delete(name);
    // Handed over on a later turn, as a watch event arrives.
    setImmediate(() => this.pods$().deleted(pod));
  }

  private patchStatus(name: string, patch: unknown): Pod {
    const old = this.pods.get(name);
    if (!old) throw notFound(`pods "${name}"`);
    this.statusPatches.push(name);
    const updated = this.stamp(applyMergePatch(structuredClone(old), patch));
    this.pods.set(name, updated);
    setImmediate(() => this.pods$().updated(old, updated));
    return structuredClone(updated);
  }

  private stamp(pod: Pod): Pod {
    pod.metadata.resourceVersion = String(++this.rv);
    pod.metadata.namespace ??= 'default';
    return pod;
  }
}

export interface Harness {
  runtime: FakeRuntime;
  api: PodApiStub;
  pods: NodePods;
  events: RecordedEvent[];
  /** Stops the workers and probes; the runtime's timers end on their own (unref'd). */
  stop(): void;
}

/** NodePods of node "n" over a fake runtime and an API in memory. */
export function nodePodsHarness(runtime: Partial<FakeRuntimeOptions> = {}): Harness {
  const rt = new FakeRuntime({ nodeName: 'n', podCIDR: '10.9.0.0/24', ...runtime });
  const events: RecordedEvent[] = [];
  const recorder: EventRecorder = {
    record: async (pod, type, reason, message, at) => {
      events.push({ pod: pod.metadata.name ?? '', type, reason, message, at: (at ?? new Date()).getTime() });
    },
  };
  let pods: NodePods | undefined;
  const api = new PodApiStub(() => {
    if (!pods) throw new Error('NodePods not built yet');
    return pods;
  });
  pods = new NodePods({
    runtime: rt,
    client: api.client(),
    services: { servicesFor: async () => [] },
    events: recorder,
    log: createLogger('test', { level: 'error' }),
    nodeName: 'n',
    hostIP: '127.0.0.1',
    infraImage: 'peapod/pause:latest',
    network: 'fake',
    allowPrivileged: false,
    backoffBaseMs: 50,
    allocatable: { cpu: '2', memory: '4Gi' },
  });
  const built = pods;
  return { runtime: rt, api, pods: built, events, stop: () => built.stop() };
}
