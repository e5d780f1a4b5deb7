/** JSON with object keys sorted, so two objects compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Whether two values are the same JSON (what `canonicalJson(a) === canonicalJson(b)` says:
 * key order and keys whose value is undefined aside), without writing either out: status and
 * spec comparisons run on every update a component sees.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    // canonicalJson writes an undefined array element as null.
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  // for-in rather than Object.keys: JSON values inherit no keys, and it lists none out.
  let keys = 0;
  for (const k in x) {
    if (x[k] === undefined) continue;
    keys++;
    if (!sameJson(x[k], y[k])) return false;
  }
  for (const k in y) if (y[k] !== undefined) keys--;
  return keys === 0;
}

/**
 * A deep copy of JSON data, as a JSON round trip makes it (undefined keys dropped, undefined
 * array elements null) but sharing its strings: a round trip gives every string value a new
 * copy, which a process keeping a copy per pod pays for in its heap.
 */
export function copyJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : copyJson(v))) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = copyJson(v);
  }
  return out as T;
}
