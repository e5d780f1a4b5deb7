// The registry's only way to write: every create, update and delete goes through here, so a
// dry run is decided in one place. With dryRun the outcome is computed exactly as the store
// would compute it (same existence and precondition checks, same update function, run once
// on the current object) and returned, and nothing is written: no revision is used, no
// watcher hears of it.

import type { KubeObject } from '@peapod/api';
import {
  checkPreconditions,
  CreateOptions,
  KeyExistsError,
  KeyNotFoundError,
  ownObject,
  Preconditions,
  Store,
  StoredEntry,
  TryUpdate,
  ValidateDeletion,
} from '../storage/types';

export class DryRunnableStore {
  constructor(readonly store: Store) {}

  /** A dry-run create answers the object as it would be stored, without a resourceVersion (none was used). */
  async create(key: string, object: KubeObject, dryRun: boolean, opts?: CreateOptions): Promise<StoredEntry> {
    if (!dryRun) return this.store.create(key, object, opts);
    if (await this.store.get(key)) throw new KeyExistsError(key);
    return { key, rev: this.store.cache.revision, object, json: JSON.stringify(object) };
  }

  /**
   * tryUpdate is handed an object of its own, which it may change, as the store hands it. A
   * dry-run update answers the updated object at the resourceVersion it was read at.
   */
  async guaranteedUpdate(key: string, preconditions: Preconditions, tryUpdate: TryUpdate, dryRun: boolean): Promise<StoredEntry> {
    if (!dryRun) return this.store.guaranteedUpdate(key, preconditions, tryUpdate);
    const current = await this.current(key, preconditions);
    const object = ownObject(current);
    const resourceVersion = object.metadata.resourceVersion;
    const next = await tryUpdate(object);
    next.metadata.resourceVersion = resourceVersion;
    return { key, rev: current.rev, object: next, json: JSON.stringify(next) };
  }

  /** A dry-run delete answers the object's last state, as stored. */
  async delete(key: string, preconditions: Preconditions, dryRun: boolean, validateDeletion?: ValidateDeletion): Promise<StoredEntry> {
    if (!dryRun) return this.store.delete(key, preconditions, validateDeletion);
    const current = await this.current(key, preconditions);
    await validateDeletion?.(current.object);
    return current;
  }

  private async current(key: string, preconditions: Preconditions): Promise<StoredEntry> {
    const current = await this.store.get(key);
    if (!current) throw new KeyNotFoundError(key);
    checkPreconditions(key, current, preconditions);
    return current;
  }
}
