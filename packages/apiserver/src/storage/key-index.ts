import type { StoredEntry } from './types';

interface Bucket {
  entries: Map<string, StoredEntry>;
  /** Keys in order as of the last walk; may still hold keys deleted since. */
  sorted: string[];
  /** Keys added since the last walk (not in sorted, or deleted and added again). */
  added: string[];
  /** Whether something was deleted since the last walk. */
  deleted: boolean;
}

/**
 * The current objects in memory, by key, with keys in order per resource (the first key
 * segment), so a list is a binary search and a walk. Writes only note what changed: the
 * order is brought up to date by the next walk (one merge for every write since), so a
 * create does not shift an array of every key (which, for a hundred thousand events, costs
 * more than the write itself).
 */
export class KeyIndex {
  private readonly buckets = new Map<string, Bucket>();

  private bucket(key: string, create: boolean): Bucket | undefined {
    const end = key.indexOf('/', 1);
    const name = end < 0 ? key.slice(1) : key.slice(1, end);
    let b = this.buckets.get(name);
    if (!b && create) this.buckets.set(name, (b = { entries: new Map(), sorted: [], added: [], deleted: false }));
    return b;
  }

  get(key: string): StoredEntry | undefined {
    return this.bucket(key, false)?.entries.get(key);
  }

  set(entry: StoredEntry): void {
    const b = this.bucket(entry.key, true)!;
    if (!b.entries.has(entry.key)) b.added.push(entry.key);
    b.entries.set(entry.key, entry);
  }

  delete(key: string): void {
    const b = this.bucket(key, false);
    if (b?.entries.delete(key)) b.deleted = true;
  }

  clear(): void {
    this.buckets.clear();
  }

  /** Entries whose key starts with prefix, in key order, strictly after `after` if given. */
  *range(prefix: string, after?: string): Generator<StoredEntry> {
    const b = this.bucket(prefix, false);
    if (!b) return;
    const keys = settle(b);
    let i = lowerBound(keys, after !== undefined && after >= prefix ? after : prefix);
    if (after !== undefined && keys[i] === after) i++;
    for (; i < keys.length; i++) {
      const key = keys[i];
      if (!key.startsWith(prefix)) return;
      // Set or deleted while the caller walks: the walk shows what is there when it gets there.
      const entry = b.entries.get(key);
      if (entry) yield entry;
    }
  }
}

/** The bucket's keys in order, merging in what was added and dropping what was deleted. */
function settle(b: Bucket): string[] {
  if (b.added.length === 0 && !b.deleted) return b.sorted;
  const added = b.added.sort();
  const old = b.sorted;
  const merged: string[] = [];
  let i = 0;
  let j = 0;
  while (i < old.length || j < added.length) {
    const key = j >= added.length || (i < old.length && old[i] < added[j]) ? old[i++] : added[j++];
    if (b.entries.has(key) && merged[merged.length - 1] !== key) merged.push(key);
  }
  b.sorted = merged;
  b.added = [];
  b.deleted = false;
  return merged;
}

function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
