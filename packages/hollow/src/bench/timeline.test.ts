import { logsFrom, logWarnings, stallTotals, timeline } from './timeline';

const t0 = Date.parse('2026-11-30T08:00:00.000Z');
const iso = (ms: number) => new Date(t0 + ms).toISOString();
const line = (ms: number, fields: Record<string, unknown>) => JSON.stringify({ ts: iso(ms), level: 'warn', component: 'apiserver', ...fields });

const logs = [
  JSON.stringify({ ts: iso(0), level: 'info', component: 'apiserver', msg: 'listening' }),
  line(3_000, { msg: 'slow request', verb: 'patch', resource: 'pods', subresource: 'status', namespace: 'scale-0', name: 'p-1', seconds: 1.5 }),
  line(12_500, { msg: 'event loop stalled', ms: 900, gcMs: 40, cpuMs: 880, began: iso(11_000) }),
  line(12_600, { msg: 'event loop stalled', ms: 300, gcMs: 250, cpuMs: 300, began: iso(12_100) }),
  line(15_200, { msg: 'slow SQLite commit', ms: 200, writes: 256 }),
  line(15_300, { msg: 'slow garbage collection', kind: 'minor', ms: 120 }),
  'not json',
  '',
].join('\n');

test('reads the API server warnings with the time each began', () => {
  expect(logWarnings(logs)).toEqual([
    { kind: 'request', at: t0 + 1_500, call: 'patch pods/status', seconds: 1.5, object: 'scale-0/p-1' },
    { kind: 'stall', at: t0 + 11_000, ms: 900, gcMs: 40, cpuMs: 880 },
    { kind: 'stall', at: t0 + 12_100, ms: 300, gcMs: 250, cpuMs: 300 },
    { kind: 'step', at: t0 + 15_000, step: 'commit', ms: 200 },
    { kind: 'step', at: t0 + 15_180, step: 'GC minor', ms: 120 },
  ]);
});

test('puts calls, warnings and pressure in the windows they began in', () => {
  const calls = [
    { call: 'create pods', at: t0 + 1_000, seconds: 0.2 },
    { call: 'delete pods', at: t0 + 2_000, seconds: 0.7 },
    { call: 'create pods', at: t0 + 25_000, seconds: 0.1 },
  ];
  const pressure = [
    { at: t0, cpuMicros: 0, ioMicros: 0, listenOverflows: 400 },
    { at: t0 + 10_000, cpuMicros: 5_000_000, ioMicros: 1_000_000, listenOverflows: 630 },
    // Without PSI the overflows still count.
    { at: t0 + 20_000, listenOverflows: 630 },
  ];
  const startups = [
    { call: 'pod startup', at: t0 + 4_000, seconds: 1.2 },
    { call: 'pod startup', at: t0 + 5_000, seconds: 6.5 },
    { call: 'pod startup', at: t0 + 8_000, seconds: 5.5 },
    { call: 'pod startup', at: t0 + 21_000, seconds: 1.1 },
  ];
  const hollowLogs = [
    line(2_400, { component: 'hollow', msg: 'event loop stalled', ms: 2_000, gcMs: 1_800, cpuMs: 1_900, began: iso(400) }),
    line(3_000, { component: 'hollow', msg: 'event loop stalled', ms: 150, gcMs: 0, cpuMs: 140, began: iso(2_800) }),
    line(3_100, { component: 'hollow', msg: 'slow garbage collection', kind: 'major', ms: 1_800 }),
  ].join('\n');
  const scales = [
    { at: t0 + 2_000, delta: 40 },
    { at: t0 + 4_000, delta: -3 },
    { at: t0 + 6_000, delta: 5 },
    { at: t0 + 22_000, delta: -120 },
    { at: t0 + 31_000, delta: 90 },
  ];
  const windows = timeline(t0, t0 + 30_000, 10, { calls, warnings: logWarnings(logs), pressure, startups, nodeWarnings: logWarnings(hollowLogs), scales });
  expect(windows.map((w) => w.from)).toEqual([0, 10, 20]);
  expect(windows[0]).toMatchObject({ client: { what: 'delete pods', seconds: 0.7 }, slowRequests: 1, server: { what: 'patch pods/status', seconds: 1.5 }, stalls: 0 });
  expect(windows[0]).toMatchObject({ startups: 3, slowStartups: 2, slowestStartup: 6.5, nodeStalls: 2, longestNodeStallMs: 2_000, longestNodeStallGcMs: 1_800, longestNodeStallCpuMs: 1_900 });
  expect(windows[0].cpuPressure).toBeCloseTo(0.5);
  expect(windows[0].ioPressure).toBeCloseTo(0.1);
  expect(windows[0].listenOverflows).toBe(230);
  expect(windows[1].cpuPressure).toBeUndefined();
  expect(windows[1].listenOverflows).toBe(0);
  expect(windows[1]).toMatchObject({ stalls: 2, longestStallMs: 900, longestStallGcMs: 40, longestStallCpuMs: 880, slowRequests: 0, startups: 0, nodeStalls: 0 });
  expect([...windows[1].steps]).toEqual([
    ['commit', { count: 1, maxMs: 200 }],
    ['GC minor', { count: 1, maxMs: 120 }],
  ]);
  expect(windows[2]).toMatchObject({ client: { what: 'create pods', seconds: 0.1 }, startups: 1, slowStartups: 0, slowestStartup: 1.1 });
  // Scale patches summed per window, up and down apart; one after the end counts nowhere.
  expect(windows.map((w) => [w.scaledUp, w.scaledDown])).toEqual([
    [45, 3],
    [0, 0],
    [0, 120],
  ]);
  expect(windows[2].cpuPressure).toBeUndefined();
});

test('totals the stalls of a stretch, and says where a trimmed log begins', () => {
  expect(stallTotals(logWarnings(logs), t0 + 11_500, t0 + 20_000)).toEqual({ from: t0 + 11_500, count: 1, totalMs: 300, longestMs: 300, gcMs: 250 });
  expect(logsFrom(logs)).toBe(t0);
  expect(logsFrom(logs.slice(10))).toBe(t0 + 3_000);
});
