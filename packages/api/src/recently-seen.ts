// Equal values kept once, by a key that tells them equal (StringInterner does the same for
// strings alone): a cache of 150,000 pods held each pod's labels as an object of its own,
// though the pods of one controller carry the same labels, each an object for every full
// garbage collection to mark.

/**
 * A table of recently seen values by key, in two generations: those seen since the last turn
 * and those seen in the turn before (found there, a value moves up). A turn drops the older
 * generation, so values nobody uses leave the table, and values whose count has no bound
 * (node names, label sets) cannot make it grow without one.
 */
export class RecentlySeen<T> {
  private current = new Map<string, T>();
  private previous = new Map<string, T>();

  /** `generation`: values per generation (the table holds at most twice as many). */
  constructor(private readonly generation: number) {
    if (!(generation >= 1)) throw new Error(`a generation must hold at least one value, got ${generation}`);
  }

  /** The value kept for key, or make(key)'s, kept from now on. */
  get(key: string, make: (key: string) => T): T {
    const seen = this.current.get(key);
    if (seen !== undefined) return seen;
    const older = this.previous.get(key);
    const value = older !== undefined ? older : make(key);
    if (this.current.size >= this.generation) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
    return value;
  }

  /** Values in the table. */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}
