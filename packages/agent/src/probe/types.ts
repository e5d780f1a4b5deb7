// The vocabulary shared by the probe handlers, the decision logic and the workers.
import type { Container } from '@peapod/api';
import type { ExecResult } from '../runtime';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export const probeKinds: readonly ProbeKind[] = ['startup', 'readiness', 'liveness'];

/** The spec field holding each kind of probe. */
export const probeField = { liveness: 'livenessProbe', readiness: 'readinessProbe', startup: 'startupProbe' } as const;

/** "Liveness", as the kubelet names a probe kind in events. */
export function probeTitle(kind: ProbeKind): string {
  return kind[0].toUpperCase() + kind.slice(1);
}

/**
 * One probe's verdict. 'error': the probe could not be run at all (no such port, the runtime
 * refused the exec); like the kubelet, such a run changes nothing but is reported.
 */
export interface ProbeOutcome {
  result: 'success' | 'failure' | 'error';
  /** What the handler saw: the command's output, "HTTP probe failed with statuscode: 500", ... */
  output: string;
}

/** What a handler needs to reach one container. */
export interface ProbeTarget {
  container: Container;
  containerId: string;
  podIP: string;
  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
}

/** One file per kind of handler (exec, httpGet, tcpSocket), each this shape. */
export type ProbeHandler<Action> = (action: Action, target: ProbeTarget, timeoutMs: number) => Promise<ProbeOutcome>;
