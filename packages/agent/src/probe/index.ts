export { ProbeManager, type ContainerProbeView, type ProbeManagerOptions } from './manager';
export { runProbe, type RunProbe } from './handlers';
export { probeTitle, type ProbeKind, type ProbeOutcome, type ProbeTarget } from './types';
