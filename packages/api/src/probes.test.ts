import { defaultProbe, probeTiming, PROBE_DEFAULTS } from './probes';
import type { Probe } from './types';

describe('probe defaults', () => {
  it('fills Kubernetes defaults where a probe leaves a number unset or 0', () => {
    const probe: Probe = { httpGet: { port: 8080 }, periodSeconds: 0, failureThreshold: 5 };
    defaultProbe(probe);
    expect(probe).toEqual({
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 5,
    });
  });

  it('reads timings with the defaults, so an undefaulted probe is probed like a defaulted one', () => {
    expect(probeTiming({ exec: { command: ['true'] } })).toEqual(PROBE_DEFAULTS);
    expect(probeTiming({ exec: { command: ['true'] }, initialDelaySeconds: 2, periodSeconds: 1, timeoutSeconds: 3 })).toMatchObject({
      initialDelaySeconds: 2,
      periodSeconds: 1,
      timeoutSeconds: 3,
    });
  });

  it('ignores what is not a probe', () => {
    expect(() => defaultProbe(null as unknown as Probe)).not.toThrow();
  });
});
