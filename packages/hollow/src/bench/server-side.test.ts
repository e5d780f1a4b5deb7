import { serverSideOf } from './server-side';
import type { LogWarning } from './timeline';

const t0 = Date.parse('2026-12-04T08:00:00.000Z');

const warnings: LogWarning[] = [
  { kind: 'request', at: t0 + 400, call: 'delete pods', seconds: 0.6, object: 'scale-1/p-7' },
  { kind: 'request', at: t0 + 300, call: 'delete pods', seconds: 0.7, object: 'scale-1/p-8' },
  { kind: 'request', at: t0 + 3_000, call: 'delete pods', seconds: 0.5, object: 'scale-1/p-7' },
  { kind: 'request', at: t0 + 500, call: 'list pods', seconds: 0.9, object: 'scale-2/' },
  { kind: 'stall', at: t0 - 200, ms: 400, gcMs: 0, cpuMs: 400 },
  { kind: 'stall', at: t0 + 1_500, ms: 300, gcMs: 0, cpuMs: 300 },
  { kind: 'stall', at: t0 + 1_900, ms: 500, gcMs: 0, cpuMs: 500 },
  { kind: 'step', at: t0 + 100, step: 'commit', ms: 150 },
];

test('finds the server’s own time for the same call on the same object, within the call', () => {
  const side = serverSideOf({ call: 'delete pods', at: t0, seconds: 2, object: 'scale-1/p-7' }, warnings);
  expect(side.serverSeconds).toBe(0.6);
});

test('leaves it out when the server logged no such request within the call', () => {
  expect(serverSideOf({ call: 'delete pods', at: t0, seconds: 2, object: 'scale-1/p-9' }, warnings).serverSeconds).toBeUndefined();
  // The same object's request after the call ended is another one.
  expect(serverSideOf({ call: 'delete pods', at: t0 + 2_500, seconds: 0.4, object: 'scale-1/p-7' }, warnings).serverSeconds).toBeUndefined();
});

test('names our call as the server does (without what we say in parentheses)', () => {
  expect(serverSideOf({ call: 'list pods (one controller)', at: t0 + 450, seconds: 1, object: 'scale-2/' }, warnings).serverSeconds).toBe(0.9);
});

test('counts the stalls that held the server while the call was out, and only the part within it', () => {
  // Stalls: 200 ms of the first (it began before the call), 300 ms, and 100 of the last (the call ends at 2,000 ms).
  expect(serverSideOf({ call: 'delete pods', at: t0, seconds: 2, object: 'scale-1/p-7' }, warnings)).toMatchObject({ stalls: 3, stallMs: 600 });
  expect(serverSideOf({ call: 'get nodes', at: t0 + 600, seconds: 0.5, object: '/hollow-1' }, warnings)).toMatchObject({ stalls: 0, stallMs: 0 });
});
