// What the controllers need of an informer: its cache and its change notifications. The
// real Informer satisfies it; tests drive a fake.

import type { KubeObject } from '@peapod/api';

export interface SharedCache<T extends KubeObject> {
  on(event: 'add', handler: (obj: T) => void): unknown;
  on(event: 'update', handler: (oldObj: T, newObj: T) => void): unknown;
  on(event: 'delete', handler: (obj: T) => void): unknown;
  list(): T[];
  get(key: string): T | undefined;
  /** Files objects under the values fn gives them, for byIndex (see Informer.addIndex). */
  addIndex(name: string, fn: (obj: T) => string[]): unknown;
  byIndex(name: string, value: string): T[];
  hasSynced(): boolean;
  waitForSync(): Promise<void>;
}

/** A key `ns/name` split in two (cluster-scoped keys have an empty namespace). */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Runs `fn` over the items with at most `limit` calls in flight; resolves to each outcome. */
export async function mapLimited<I, O>(
  items: readonly I[],
  limit: number,
  fn: (item: I) => Promise<O>,
): Promise<PromiseSettledResult<O>[]> {
  const results: PromiseSettledResult<O>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
