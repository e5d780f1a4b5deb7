// The benchmark's machinery on a small scale: it runs, and the controller never overshoots.
// (Timings are printed by `npm run bench`, never asserted.)

import { runControllerManagerBench } from '../bench/replication';

jest.setTimeout(60_000);

test('scaling 0 → 150 on fake nodes reaches 150 with no overshoot', async () => {
  const figures = await runControllerManagerBench({ replicas: 150 });
  const most = figures.find((f) => f.name.startsWith('most live pods'));
  expect(most).toMatchObject({ value: 150, baseline: 150, ratio: 1 });
  for (const f of figures) expect(Number.isFinite(f.value) && f.value > 0).toBe(true);
});
