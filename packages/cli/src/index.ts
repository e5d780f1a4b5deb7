export { benchGetPods, createPods } from './bench';
export type { BenchGetPodsResult, BenchOptions, RunFigures } from './bench';
