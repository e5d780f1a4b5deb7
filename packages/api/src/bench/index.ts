/** One figure of `npm run bench`, printed beside the baseline measured in the same run. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  baselineName: string;
  /** value / baseline */
  ratio: number;
  /** the goal the issue set, or a note that reads beside the figure */
  goal?: string;
}

/** Latencies at the 50th and 99th percentiles, beside a baseline's. */
export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  baselineP50Ms: number;
  baselineP99Ms: number;
  /** ours over the baseline */
  ratioP50: number;
  ratioP99: number;
}

/** The value below which p percent of the values lie (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** p50 and p99 of two samples in milliseconds, rounded to a tenth, with their ratios. */
export function latencyFigures(ours: number[], baseline: number[]): LatencyFigures {
  const round = (n: number): number => Math.round(n * 10) / 10;
  const [p50, p99, b50, b99] = [percentile(ours, 50), percentile(ours, 99), percentile(baseline, 50), percentile(baseline, 99)];
  return {
    p50Ms: round(p50),
    p99Ms: round(p99),
    baselineP50Ms: round(b50),
    baselineP99Ms: round(b99),
    ratioP50: round(p50 / Math.max(b50, 0.1)),
    ratioP99: round(p99 / Math.max(b99, 0.1)),
  };
}
