export * from './types';
export * from './errors';
export { DockerRuntime, type DockerRuntimeOptions } from './docker';
export { containerSpecHash, INFRA_CONTAINER_NAME } from './labels';
export { defaultPullPolicy } from './image';
export { PRESTOP_EXTENSION_MS } from './kill-pod';
export type { DaemonCgroup } from './cgroup';
export type { PrivilegedSupport } from './privileged';
