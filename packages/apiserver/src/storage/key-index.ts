import type { StoredEntry } from './types';

interface Bucket {
  entries: Map<string, StoredEntry>;
  /** keys in order; kept sorted on insert so lists never sort */
  keys: string[];
}

/**
 * The current objects in memory, by key, with keys kept in order per resource
 * (the first key segment), so a list is a binary search and a walk.
 */
export class KeyIndex {
  private readonly buckets = new Map<string, Bucket>();

  private bucket(key: string, create: boolean): Bucket | undefined {
    const end = key.indexOf('/', 1);
    const name = end < 0 ? key.slice(1) : key.slice(1, end);
    let b = this.buckets.get(name);
    if (!b && create) this.buckets.set(name, (b = { entries: new Map(), keys: [] }));
    return b;
  }

  get(key: string): StoredEntry | undefined {
    return this.bucket(key, false)?.entries.get(key);
  }

  set(entry: StoredEntry): void {
    const b = this.bucket(entry.key, true)!;
    if (!b.entries.has(entry.key)) {
      const at = lowerBound(b.keys, entry.key);
      if (at === b.keys.length) b.keys.push(entry.key);
      else b.keys.splice(at, 0, entry.key);
    }
    b.entries.set(entry.key, entry);
  }

  delete(key: string): void {
    const b = this.bucket(key, false);
    if (!b || !b.entries.delete(key)) return;
    b.keys.splice(lowerBound(b.keys, key), 1);
  }

  /** Entries whose key starts with prefix, in key order, strictly after `after` if given. */
  *range(prefix: string, after?: string): Generator<StoredEntry> {
    const b = this.bucket(prefix, false);
    if (!b) return;
    let i = lowerBound(b.keys, after !== undefined && after >= prefix ? after : prefix);
    if (after !== undefined && b.keys[i] === after) i++;
    for (; i < b.keys.length; i++) {
      const key = b.keys[i];
      if (!key.startsWith(prefix)) return;
      yield b.entries.get(key)!;
    }
  }
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
