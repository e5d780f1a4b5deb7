// The writes the endpoints controllers make to their own objects, behind one interface so
// that tests can stand in for the API server.

import { isStatus } from '@peapod/api';
import type { KubeObject } from '@peapod/api';
import { isNotFound } from '@peapod/client';
import type { Client } from '@peapod/client';

export interface ObjectWriter<T extends KubeObject> {
  create(obj: T): Promise<T>;
  update(obj: T): Promise<T>;
  /** The deleted object (carrying the deletion's revision), or undefined when it was already gone. */
  delete(namespace: string, name: string): Promise<T | undefined>;
}

/** ObjectWriter over the real API, for one namespaced resource. */
export class ApiObjectWriter<T extends KubeObject> implements ObjectWriter<T> {
  constructor(
    private readonly client: Client,
    private readonly resource: string,
  ) {}

  create(obj: T): Promise<T> {
    return this.client.create<T>(this.resource, obj, { namespace: obj.metadata.namespace });
  }

  update(obj: T): Promise<T> {
    return this.client.update<T>(this.resource, obj, { namespace: obj.metadata.namespace });
  }

  async delete(namespace: string, name: string): Promise<T | undefined> {
    try {
      const last = await this.client.delete<T>(this.resource, name, { namespace });
      return isStatus(last) ? undefined : last;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
