export { startDashboard } from './server';
export type { DashboardOptions, RunningDashboard } from './server';
