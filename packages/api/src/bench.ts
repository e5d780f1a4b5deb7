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
