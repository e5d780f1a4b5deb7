// Runs a probe with the handler it names. A handler that throws (no such port, the runtime
// refused the exec) gives an 'error' outcome: the probe could not be run.
import type { Probe } from '@peapod/api';
import { probeTiming } from '@peapod/api';
import { errorMessage } from '../../runtime';
import type { ProbeOutcome, ProbeTarget } from '../types';
import { execProbe } from './exec';
import { httpGetProbe } from './http-get';
import { tcpSocketProbe } from './tcp-socket';

export type RunProbe = (probe: Probe, target: ProbeTarget) => Promise<ProbeOutcome>;

export const runProbe: RunProbe = async (probe, target) => {
  const timeoutMs = probeTiming(probe).timeoutSeconds * 1000;
  try {
    if (probe.exec) return await execProbe(probe.exec, target, timeoutMs);
    if (probe.httpGet) return await httpGetProbe(probe.httpGet, target, timeoutMs);
    if (probe.tcpSocket) return await tcpSocketProbe(probe.tcpSocket, target, timeoutMs);
    return { result: 'error', output: 'the probe names no handler this agent runs (exec, httpGet, tcpSocket)' };
  } catch (err) {
    return { result: 'error', output: errorMessage(err) };
  }
};
