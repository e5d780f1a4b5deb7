// The endpoints benchmark's machinery on a small scale: it runs and yields finite figures.
// (Timings are printed by `npm run bench`, never asserted.)

import { runEndpointsBench } from '../bench/endpoints';

jest.setTimeout(120_000);

test('20 services of 3 pods: removal and appearance latencies beside their baselines', async () => {
  const r = await runEndpointsBench({ services: 20, podsPerService: 3, samples: 5 });
  expect(r).toMatchObject({ services: 20, pods: 60 });
  for (const f of [r.removal, r.appearance]) {
    for (const v of [f.p50Ms, f.p99Ms, f.baselineP50Ms, f.baselineP99Ms]) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(f.p99Ms).toBeGreaterThanOrEqual(f.p50Ms);
  }
});
