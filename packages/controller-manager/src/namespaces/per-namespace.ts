// One named object kept in every active namespace: created when the namespace appears or the
// object is deleted, and set right when it drifts. Kubernetes' serviceaccounts controller
// (`default`) and root CA publisher (`kube-root-ca.crt`) both have this shape; each is a
// PerNamespaceObject handed to this controller.

import type { KubeObject, Namespace } from '@peapod/api';
import { ApiError, WorkQueue, createLogger } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import type { SharedCache } from '../cache';

export interface PerNamespaceObject<T extends KubeObject> {
  /** plural, as the API names it: "serviceaccounts" */
  resource: string;
  name: string;
  /** the object to create in a namespace */
  desired(namespace: string): T;
  /** a copy of the object with what has drifted set right, or undefined when it is as it should be */
  repaired?(existing: T): T | undefined;
}

export interface PerNamespaceClient {
  create(resource: string, namespace: string, obj: KubeObject): Promise<void>;
  update(resource: string, namespace: string, obj: KubeObject): Promise<void>;
}

export interface PerNamespaceOptions {
  workers?: number;
  logger?: Logger;
}

export class PerNamespaceController<T extends KubeObject> {
  private readonly queue: WorkQueue<string>;
  private readonly log: Logger;
  private readonly workers: number;

  constructor(
    private readonly namespaces: SharedCache<Namespace>,
    /** the objects of this name in every namespace (an informer selecting metadata.name) */
    private readonly objects: SharedCache<T>,
    private readonly spec: PerNamespaceObject<T>,
    private readonly api: PerNamespaceClient,
    opts: PerNamespaceOptions = {},
  ) {
    this.log = opts.logger ?? createLogger(`${spec.resource}-controller`);
    this.workers = opts.workers ?? 2;
    this.queue = new WorkQueue<string>({ logger: this.log });
    namespaces.on('add', (ns) => this.enqueue(ns));
    namespaces.on('update', (_old, ns) => this.enqueue(ns));
    const mine = (obj: T) => {
      if (obj.metadata.name === spec.name && obj.metadata.namespace) this.queue.add(obj.metadata.namespace);
    };
    objects.on('update', (_old, obj) => mine(obj));
    objects.on('delete', mine);
  }

  private enqueue(ns: Namespace): void {
    if (ns.status?.phase === 'Active' && ns.metadata.name) this.queue.add(ns.metadata.name);
  }

  async run(): Promise<void> {
    await Promise.all([this.namespaces.waitForSync(), this.objects.waitForSync()]);
    for (const ns of this.namespaces.list()) this.enqueue(ns);
    await this.queue.run((ns) => this.sync(ns), this.workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.status?.phase !== 'Active') return;
    const existing = this.objects.get(`${namespace}/${this.spec.name}`);
    try {
      if (!existing) {
        await this.api.create(this.spec.resource, namespace, this.spec.desired(namespace));
        this.log.info('created', { resource: this.spec.resource, namespace, name: this.spec.name });
        return;
      }
      const repaired = this.spec.repaired?.(existing);
      if (repaired) await this.api.update(this.spec.resource, namespace, repaired);
    } catch (err) {
      // Already there (the cache lags), or the namespace is gone or terminating: nothing to do.
      // A conflict on update means a newer version is on its way through the watch.
      if (err instanceof ApiError && [403, 404, 409].includes(err.code)) return;
      throw err;
    }
  }
}

/** PerNamespaceClient over the real API. */
export class ApiPerNamespaceClient implements PerNamespaceClient {
  constructor(private readonly client: Client) {}

  async create(resource: string, namespace: string, obj: KubeObject): Promise<void> {
    await this.client.create(resource, obj, { namespace });
  }

  async update(resource: string, namespace: string, obj: KubeObject): Promise<void> {
    await this.client.update(resource, obj, { namespace });
  }
}
