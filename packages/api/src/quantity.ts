// Resource quantities ("100m", "1.5", "64Mi", "1e3"). Parsing keeps an exact rational
// (bigint numerator over a power-of-ten denominator) so that rounding to millicores or
// bytes is exact: 0.1 cpu is 100m, never 101m through floating-point error.

const quantityRe = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

const decimalSuffixExp: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixPow: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };

// Far beyond any real quantity; keeps bigint arithmetic bounded on hostile input.
const maxExponent = 300;

interface Rational {
  num: bigint;
  den: bigint;
}

// A cluster uses few distinct quantities ("100m", "64Mi"), each parsed on every write that
// carries it: parsed ones are kept (a bounded number, emptied when full).
const parsed = new Map<string, Rational>();
const maxParsed = 1024;

function parseRational(s: string): Rational {
  let r = parsed.get(s);
  if (r === undefined) {
    r = parseRationalUncached(s);
    if (parsed.size >= maxParsed) parsed.clear();
    parsed.set(s, r);
  }
  return r;
}

function parseRationalUncached(s: string): Rational {
  const m = quantityRe.exec(s);
  if (!m) {
    throw new Error(
      `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': ${JSON.stringify(s)}`,
    );
  }
  const [, sign, number, exponent, suffix] = m;
  const [intPart, fracPart = ''] = number.split('.');
  let num = BigInt((intPart || '0') + fracPart);
  let den = 10n ** BigInt(fracPart.length);
  let exp10 = 0;
  if (exponent !== undefined) {
    exp10 = Number(exponent);
    if (Math.abs(exp10) > maxExponent) throw new Error(`quantity exponent out of range: ${JSON.stringify(s)}`);
  } else if (suffix !== undefined && suffix in binarySuffixPow) {
    num *= 1n << BigInt(10 * binarySuffixPow[suffix]);
  } else if (suffix !== undefined) {
    exp10 = decimalSuffixExp[suffix];
  }
  if (exp10 >= 0) num *= 10n ** BigInt(exp10);
  else den *= 10n ** BigInt(-exp10);
  if (sign === '-') num = -num;
  return { num, den };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b > 0n ? q + 1n : q;
}

/** The quantity's value as a number; throws on anything that is not a quantity. */
export function parseQuantity(s: string): number {
  const { num, den } = parseRational(s);
  return Number(num) / Number(den);
}

export function isValidQuantity(s: string): boolean {
  try {
    parseRational(s);
    return true;
  } catch {
    return false;
  }
}

/** A cpu quantity as whole millicores, rounded up ("0.1" → 100, "1" → 1000, "1.0001" → 1001). */
export function parseCpuMillis(s: string): number {
  const { num, den } = parseRational(s);
  return Number(ceilDiv(num * 1000n, den));
}

/** A memory/storage quantity as whole bytes, rounded up ("64Mi" → 67108864, "1k" → 1000). */
export function parseBytes(s: string): number {
  const { num, den } = parseRational(s);
  return Number(ceilDiv(num, den));
}

/** Millicores as Kubernetes prints them: whole cores plain ("2"), otherwise "250m". */
export function formatCpuMillis(n: number): string {
  return n % 1000 === 0 ? String(n / 1000) : `${n}m`;
}

const binarySuffixes: [string, number][] = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/** Bytes with the largest binary suffix that divides them exactly ("64Mi"), else plain. */
export function formatBytes(n: number): string {
  if (n !== 0 && Number.isInteger(n)) {
    for (const [suffix, size] of binarySuffixes) {
      if (n % size === 0) return `${n / size}${suffix}`;
    }
  }
  return String(n);
}
