// The agent as a library: what runs one node (its pods' workers and probes, pod syncer, node
// status, runtimes, flags), so that peapod-hollow runs many nodes from the same code. main.ts
// is the peapod-agent command.
export * from './runtime';
export { Agent, type AgentOptions } from './agent';
export { NodePods, STATUS_RECONCILE_MS, type NodePodsOptions } from './node-pods';
export { PodWorkers, type PodPhases, type SyncOutcome, type PodWorkersOptions, type Termination, type TerminateRequest, type WorkPhase } from './pod-workers';
export { PodSyncer, type PodSyncerOptions, GONE_POD_GRACE_SECONDS } from './sync-pod';
export { computePodStatus, podPhase, refusedPodStatus, sameStatus, statusMergePatch, type StatusInput } from './status';
export { admitPod, privilegedFields, type AdmissionResult } from './admission';
export { NodeStatusManager, hostCapacity, AGENT_VERSION, type NodeStatusOptions } from './node-status';
export { NodeLeaseManager, nodeLeaseDurationSeconds, type NodeLeaseOptions } from './node-lease';
export { EventSink, DEFAULT_EVENT_BURST, DEFAULT_EVENT_QPS, type EventCounts, type EventRecorder, type EventSinkOptions, type EventType } from './events';
export { Relister } from './relist';
export { ServiceCache, type ServiceSource } from './service-cache';
export { RestartBackoff } from './backoff';
export { createLogServer, pickAttempt } from './log-server';
export * as flags from './flags';
