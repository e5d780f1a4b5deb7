// JSON.parse gives every string value a string of its own: a cache of 150,000 pods holds as
// many copies of "PodScheduled", of the image and of each second's timestamps, a third of what
// a cached pod costs the heap in strings, each one an object every full collection marks. An
// interner makes equal values one string.

/** The longest value shared; longer ones (hashes, messages) seldom repeat. */
const MAX_LENGTH = 64;

export class StringInterner {
  private table = new Map<string, string>();

  /**
   * `maxEntries`: when the table is full it starts again, so unique values (names, uids)
   * cannot grow it without bound. A small table costs less per value than a large one (20,000
   * pods of unique names: 5 µs a pod at 1,024 or 4,096 entries, 8.4 µs at 65,536, against 11
   * µs to parse one) and still leaves a common value a copy per few hundred objects.
   */
  constructor(private readonly maxEntries = 4_096) {}

  /** The value with each short string of its objects and arrays replaced, in place, by an equal one seen before. */
  internValues<T>(value: T): T {
    if (typeof value === 'object' && value !== null) this.walk(value as Record<string, unknown>);
    return value;
  }

  private walk(obj: Record<string, unknown> | unknown[]): void {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) obj[i] = this.visit(obj[i]);
      return;
    }
    for (const key in obj) obj[key] = this.visit(obj[key]);
  }

  private visit(v: unknown): unknown {
    if (typeof v === 'string') return v.length <= MAX_LENGTH ? this.intern(v) : v;
    if (typeof v === 'object' && v !== null) this.walk(v as Record<string, unknown>);
    return v;
  }

  /** An equal string seen before, or this one, kept from now on. */
  intern(s: string): string {
    const known = this.table.get(s);
    if (known !== undefined) return known;
    if (this.table.size >= this.maxEntries) this.table = new Map();
    this.table.set(s, s);
    return s;
  }
}
