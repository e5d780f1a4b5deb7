import { probeTiming } from '@peapod/api';
import { initialState, newTracker, nextProbeAt, observe, shouldProbe, type Tracker } from './tracker';
import type { ProbeKind } from './types';

const timing = probeTiming({ exec: { command: ['true'] }, initialDelaySeconds: 5, periodSeconds: 2, successThreshold: 2, failureThreshold: 3 });

function feed(kind: ProbeKind, results: ('success' | 'failure')[], t: Tracker = newTracker(kind, 'c1')): { tracker: Tracker; changes: number } {
  let changes = 0;
  for (const r of results) {
    const out = observe(t, kind, timing, r);
    t = out.tracker;
    if (out.changed) changes++;
  }
  return { tracker: t, changes };
}

describe('probe decisions', () => {
  it('starts not ready, alive, and undecided', () => {
    expect(initialState('readiness')).toBe('failure');
    expect(initialState('liveness')).toBe('success');
    expect(initialState('startup')).toBe('unknown');
  });

  it('changes the verdict only after the threshold of results in a row', () => {
    expect(feed('readiness', ['success']).tracker.state).toBe('failure');
    const ready = feed('readiness', ['success', 'failure', 'success', 'success']);
    expect(ready.tracker.state).toBe('success');
    expect(ready.changes).toBe(1);
    const unready = feed('readiness', ['failure', 'failure'], ready.tracker);
    expect(unready.tracker.state).toBe('success');
    expect(feed('readiness', ['failure'], unready.tracker).tracker.state).toBe('failure');
  });

  it('holds a failed liveness or startup probe until the container is replaced; readiness keeps probing', () => {
    const dead = feed('liveness', ['failure', 'failure', 'failure']);
    expect(dead).toMatchObject({ tracker: { state: 'failure', onHold: true }, changes: 1 });
    expect(shouldProbe('liveness', dead.tracker, true)).toBe(false);
    const unready = feed('readiness', ['failure', 'failure', 'failure'], { ...newTracker('readiness', 'c1'), state: 'success' });
    expect(unready.tracker).toMatchObject({ state: 'failure', onHold: false });
    expect(shouldProbe('readiness', unready.tracker, true)).toBe(true);
  });

  it('runs liveness and readiness only once started, and the startup probe only until then', () => {
    const t = newTracker('liveness', 'c1');
    expect(shouldProbe('liveness', t, false)).toBe(false);
    expect(shouldProbe('readiness', t, true)).toBe(true);
    expect(shouldProbe('startup', t, false)).toBe(true);
    expect(shouldProbe('startup', t, true)).toBe(false);
  });

  it('waits initialDelaySeconds after the start, then a period after each probe', () => {
    expect(nextProbeAt(timing, 1_000, undefined)).toBe(6_000);
    expect(nextProbeAt(timing, 1_000, 6_100)).toBe(8_100);
    // A probe poked before the delay is over still waits for it.
    expect(nextProbeAt(timing, 1_000, 0)).toBe(6_000);
  });
});
