export * from './types';
export * from './errors';
export { DockerRuntime, type DockerRuntimeOptions } from './docker';
export type { NodeDNS } from './pod-dns';
export {
  FakeRuntime,
  type FakeRuntimeOptions,
  FAKE_EXIT_CODE,
  FAKE_RUN_SECONDS,
  FAKE_START_SECONDS,
  FAKE_TERM_SECONDS,
  EXIT_ON_KILL,
  EXIT_ON_TERM,
} from './fake';
export { defaultPodCidr, formatCidr, nthSubnet, parseCidr, type Cidr } from './pod-cidr';
export { containerSpecHash, INFRA_CONTAINER_NAME } from './labels';
export { PRESTOP_EXTENSION_MS } from './kill-pod';
export type { DaemonCgroup } from './cgroup';
export type { PrivilegedSupport } from './privileged';
export { handlerKind, runHandler, NO_HOOK_TIMEOUT_MS, type HookContext } from './hooks';
export { deadlineAfter, newKillProgress } from './kill-pod';
export { expandVars } from './expand-vars';
