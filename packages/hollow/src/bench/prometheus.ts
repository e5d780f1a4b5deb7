// Reading the API server's /metrics for the scale bench: request latency histograms, the
// difference of two scrapes (what happened between them), and quantiles estimated from the
// buckets as Prometheus's histogram_quantile() does.

export interface Histogram {
  /** Cumulative counts by upper bound, ascending; the last bound is Infinity. */
  buckets: { le: number; count: number }[];
  count: number;
}

/** Request latency histograms by `verb resource[/subresource]`. */
export type RequestHistograms = Map<string, Histogram>;

function labels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
  return out;
}

/** The histograms of one metric by key (keyOf a series' labels), the series of one key added up. */
export function histogramsOf(metricsText: string, name: string, keyOf: (labels: Record<string, string>) => string): Map<string, Histogram> {
  const bucketLine = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`);
  const counts = new Map<string, Map<number, number>>();
  for (const line of metricsText.split('\n')) {
    const m = bucketLine.exec(line);
    if (!m) continue;
    const l = labels(m[1]);
    const key = keyOf(l);
    let byLe = counts.get(key);
    if (!byLe) counts.set(key, (byLe = new Map()));
    const le = l.le === '+Inf' ? Infinity : Number(l.le);
    byLe.set(le, (byLe.get(le) ?? 0) + Number(m[2]));
  }
  const out = new Map<string, Histogram>();
  for (const [key, byLe] of counts) {
    const buckets = [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
    out.set(key, { buckets, count: byLe.get(Infinity) ?? 0 });
  }
  return out;
}

export function requestHistograms(metricsText: string): RequestHistograms {
  return histogramsOf(metricsText, 'apiserver_request_duration_seconds', (l) => `${l.verb} ${l.resource}${l.subresource ? `/${l.subresource}` : ''}`);
}

/** A counter's series added up by the value of one label. */
export function countersBy(metricsText: string, name: string, label: string): Map<string, number> {
  const re = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`);
  const out = new Map<string, number>();
  for (const line of metricsText.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const value = labels(m[1])[label] ?? '';
    out.set(value, (out.get(value) ?? 0) + Number(m[2]));
  }
  return out;
}

/** What was observed after `before` and up to `after`. */
export function histogramsBetween(before: RequestHistograms, after: RequestHistograms): RequestHistograms {
  const out: RequestHistograms = new Map();
  for (const [key, h] of after) {
    const b = before.get(key);
    const buckets = h.buckets.map((x, i) => ({ le: x.le, count: x.count - (b?.buckets[i]?.count ?? 0) }));
    const count = h.count - (b?.count ?? 0);
    if (count > 0) out.set(key, { buckets, count });
  }
  return out;
}

/**
 * The q-quantile (0..1) in seconds, interpolated linearly inside its bucket; in the +Inf
 * bucket, the highest finite bound (the estimate can say no more than "above it").
 */
export function histogramQuantile(h: Histogram, q: number): number {
  if (h.count === 0) return NaN;
  const rank = q * h.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const { le, count } of h.buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      const inBucket = count - prevCount;
      return inBucket === 0 ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** The value of an unlabelled series (a gauge such as `nodejs_heap_size_used_bytes`), NaN when absent. */
export function sampleValue(metricsText: string, name: string): number {
  for (const line of metricsText.split('\n')) {
    if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1).split(' ')[0]);
  }
  return NaN;
}

/** Per label value of `label`: the count and sum of a histogram (e.g. GC pauses by kind). */
export function histogramTotals(metricsText: string, name: string, label: string): Map<string, { count: number; sum: number }> {
  const out = new Map<string, { count: number; sum: number }>();
  const re = new RegExp(`^${name}_(count|sum)\\{([^}]*)\\} (\\S+)$`);
  for (const line of metricsText.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const value = labels(m[2])[label] ?? '';
    let t = out.get(value);
    if (!t) out.set(value, (t = { count: 0, sum: 0 }));
    t[m[1] as 'count' | 'sum'] = Number(m[3]);
  }
  return out;
}
