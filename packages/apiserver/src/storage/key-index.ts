import BTree, { simpleComparator } from 'sorted-btree';
import { packEntry, unpackEntry } from './json-entry';
import type { StoredEntry } from './types';

/** What the index keeps of an entry: the entry, or for one kept only as JSON without a view, packEntry's string. */
type Kept = StoredEntry | string;

function entryOf(key: string, kept: Kept): StoredEntry {
  return typeof kept === 'string' ? unpackEntry(key, kept) : kept;
}

/**
 * The current objects in memory, by key, in key order per resource (the first key segment),
 * in a B+ tree: a write and a lookup cost a logarithm, and a list is a descent and a walk. A
 * sorted array instead has to take in every new key before the next list, and merging them
 * into a few hundred thousand keys (events) held the event loop for a good part of a second.
 */
export class KeyIndex {
  private readonly buckets = new Map<string, BTree<string, Kept>>();

  private bucket(key: string, create: boolean): BTree<string, Kept> | undefined {
    const end = key.indexOf('/', 1);
    const name = end < 0 ? key.slice(1) : key.slice(1, end);
    let b = this.buckets.get(name);
    if (!b && create) this.buckets.set(name, (b = new BTree<string, Kept>(undefined, simpleComparator)));
    return b;
  }

  get(key: string): StoredEntry | undefined {
    const kept = this.bucket(key, false)?.get(key);
    return kept === undefined ? undefined : entryOf(key, kept);
  }

  set(entry: StoredEntry): void {
    this.bucket(entry.key, true)!.set(entry.key, entry);
  }

  /**
   * Sets an entry kept only as its JSON, without a view: read back as a ParsedOnRead made anew
   * each time, as is the one returned, whose JSON is a slice of what is kept (for others to
   * hold rather than a copy).
   */
  setJson(key: string, rev: number, json: string): StoredEntry {
    const packed = packEntry(rev, json);
    this.bucket(key, true)!.set(key, packed);
    return unpackEntry(key, packed);
  }

  delete(key: string): void {
    this.bucket(key, false)?.delete(key);
  }

  clear(): void {
    this.buckets.clear();
  }

  /** How many objects of this resource there are. */
  count(resource: string): number {
    return this.buckets.get(resource)?.size ?? 0;
  }

  /**
   * Entries whose key starts with prefix, in key order, strictly after `after` if given. The
   * caller walks it to the end or drops it before anything is set or deleted.
   */
  range(prefix: string, after?: string): Generator<StoredEntry> {
    return rangeOf(this.bucket(prefix, false), prefix, after);
  }

  /**
   * One resource's entries as they are now, left as they are by later writes: the tree is
   * shared and each node copied at its first write after (sorted-btree's clone), so taking
   * one costs nothing and keeping it costs the nodes written since and the entries they held.
   */
  snapshot(resource: string): KeySnapshot {
    const tree = this.buckets.get(resource)?.clone();
    return { range: (prefix, after) => rangeOf(tree, prefix, after) };
  }
}

export interface KeySnapshot {
  range(prefix: string, after?: string): Generator<StoredEntry>;
}

function* rangeOf(tree: BTree<string, Kept> | undefined, prefix: string, after: string | undefined): Generator<StoredEntry> {
  if (!tree) return;
  const from = after !== undefined && after >= prefix ? after : prefix;
  const pair: Kept[] = [];
  for (const [key, kept] of tree.entries(from, pair)) {
    if (key === after) continue;
    if (!key.startsWith(prefix)) return;
    yield entryOf(key, kept);
  }
}
