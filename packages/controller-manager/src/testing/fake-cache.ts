// An informer stand-in for unit tests: the test sets objects and the handlers run at once.

import type { KubeObject } from '@peapod/api';
import { objectKey } from '@peapod/client';
import type { SharedCache } from '../cache';

type Handler<T> = (...args: T[]) => void;

export class FakeCache<T extends KubeObject> implements SharedCache<T> {
  private readonly store = new Map<string, T>();
  private readonly indexes = new Map<string, (obj: T) => string[]>();
  private readonly handlers: Record<'add' | 'update' | 'delete', Handler<T>[]> = { add: [], update: [], delete: [] };
  private rv = 0;

  on(event: 'add', handler: (obj: T) => void): this;
  on(event: 'update', handler: (oldObj: T, newObj: T) => void): this;
  on(event: 'delete', handler: (obj: T) => void): this;
  on(event: 'add' | 'update' | 'delete', handler: Handler<T>): this {
    this.handlers[event].push(handler);
    return this;
  }

  list(): T[] {
    return [...this.store.values()];
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  addIndex(name: string, fn: (obj: T) => string[]): this {
    this.indexes.set(name, fn);
    return this;
  }

  byIndex(name: string, value: string): T[] {
    const fn = this.indexes.get(name);
    if (!fn) throw new Error(`no index ${name}`);
    return this.list().filter((o) => fn(o).includes(value));
  }

  hasSynced(): boolean {
    return true;
  }

  waitForSync(): Promise<void> {
    return Promise.resolve();
  }

  /** Adds or replaces the object (bumping its resourceVersion) and tells the handlers. */
  set(obj: T): T {
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    const key = objectKey(stored);
    const old = this.store.get(key);
    this.store.set(key, stored);
    if (old === undefined) for (const h of this.handlers.add) h(stored);
    else for (const h of this.handlers.update) h(old, stored);
    return stored;
  }

  remove(key: string): void {
    const old = this.store.get(key);
    if (old === undefined) return;
    this.store.delete(key);
    for (const h of this.handlers.delete) h(old);
  }
}
