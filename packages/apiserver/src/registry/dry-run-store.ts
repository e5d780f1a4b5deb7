// The registry's only way to write: every create, update and delete goes through here, so a
// dry run is decided in one place. With dryRun the outcome is computed exactly as the store
// would compute it (same existence and revision checks, same update function) and returned,
// and nothing is written: no revision is used, no watcher hears of it.

import type { KubeObject } from '@peapod/api';
import { KeyExistsError, KeyNotFoundError, RevisionConflictError, Store, StoredEntry, UpdateFn } from '../storage/types';

export class DryRunnableStore {
  constructor(readonly store: Store) {}

  /** A dry-run create answers the object as it would be stored, without a resourceVersion (none was used). */
  create(key: string, object: KubeObject, dryRun: boolean): StoredEntry {
    if (!dryRun) return this.store.create(key, object);
    if (this.store.get(key)) throw new KeyExistsError(key);
    return { key, rev: this.store.revision, object, json: JSON.stringify(object) };
  }

  /** A dry-run update answers the updated object at the resourceVersion it was read at. */
  update(key: string, update: UpdateFn, expectedRev: number | undefined, dryRun: boolean): StoredEntry {
    if (!dryRun) return this.store.update(key, update, expectedRev);
    const current = this.current(key, expectedRev);
    const next = update(current.object);
    next.metadata.resourceVersion = current.object.metadata.resourceVersion;
    return { key, rev: current.rev, object: next, json: JSON.stringify(next) };
  }

  /** A dry-run delete answers the object's last state, as stored. */
  delete(key: string, expectedRev: number | undefined, dryRun: boolean): StoredEntry {
    if (!dryRun) return this.store.delete(key, expectedRev);
    return this.current(key, expectedRev);
  }

  private current(key: string, expectedRev: number | undefined): StoredEntry {
    const current = this.store.get(key);
    if (!current) throw new KeyNotFoundError(key);
    if (expectedRev !== undefined && expectedRev !== current.rev) throw new RevisionConflictError(key, expectedRev, current.rev);
    return current;
  }
}
