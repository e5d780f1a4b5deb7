import type { KubeObject } from '@peapod/api';
import type { StoredEntry } from './types';

/** An entry of a resource kept only as JSON (see WatchCacheOptions.parseOnRead and jsonOnly): with its selectors' view, or without one. */
export class ParsedOnRead implements StoredEntry {
  constructor(
    readonly key: string,
    readonly rev: number,
    readonly json: string,
    readonly selectable?: KubeObject,
  ) {}

  get object(): KubeObject {
    return JSON.parse(this.json) as KubeObject;
  }
}

/**
 * An entry without a view, as the key index keeps it: its revision and its JSON in one flat
 * string (a line of digits, then the JSON, which has no line break of its own). 375,000
 * events kept as an entry object each and a string each are 375,000 more objects for every
 * full garbage collection to mark. `join` copies both into one string, where a template
 * literal would make a tree of the parts.
 */
export function packEntry(rev: number, json: string): string {
  return [rev, json].join('\n');
}

/** The entry packEntry kept, made again when read: its JSON a slice of the kept string, not a copy. */
export function unpackEntry(key: string, packed: string): ParsedOnRead {
  const end = packed.indexOf('\n');
  return new ParsedOnRead(key, Number(packed.slice(0, end)), packed.slice(end + 1));
}
