import fc from 'fast-check';
import { makePod } from '../testing/fixtures';
import { compareForDeletion, podsToDelete } from './ranking';

test('orders unscheduled, pending, not ready, recently ready, restarted, newest', () => {
  const pods = [
    makePod('ready-long', { nodeName: 'n', ready: true, readySince: '2024-01-01T00:00:00Z' }),
    makePod('ready-recent', { nodeName: 'n', ready: true, readySince: '2024-01-02T00:00:00Z' }),
    makePod('running-not-ready-old', { nodeName: 'n', created: '2023-01-01T00:00:00Z' }),
    makePod('running-not-ready-restarted', { nodeName: 'n', restarts: 4, created: '2022-01-01T00:00:00Z' }),
    makePod('running-not-ready-new', { nodeName: 'n', created: '2024-01-01T00:00:00Z' }),
    makePod('bound-pending', { nodeName: 'n', phase: 'Pending' }),
    makePod('unscheduled'),
  ];
  expect(podsToDelete(pods, pods.length).map((p) => p.metadata.name)).toEqual([
    'unscheduled',
    'bound-pending',
    'running-not-ready-restarted',
    'running-not-ready-new',
    'running-not-ready-old',
    'ready-recent',
    'ready-long',
  ]);
  expect(podsToDelete(pods, 0)).toEqual([]);
});

test('the order is a consistent total order', () => {
  const arbPod = fc.record({
    name: fc.string({ minLength: 1, maxLength: 4 }),
    node: fc.boolean(),
    ready: fc.boolean(),
    day: fc.integer({ min: 1, max: 9 }),
    restarts: fc.integer({ min: 0, max: 3 }),
  });
  fc.assert(
    fc.property(fc.array(arbPod, { maxLength: 12 }), (specs) => {
      const pods = specs.map((s) =>
        makePod(s.name, { nodeName: s.node ? 'n' : undefined, ready: s.ready, created: `2024-01-0${s.day}T00:00:00Z`, restarts: s.restarts }),
      );
      for (const a of pods) {
        expect(compareForDeletion(a, a)).toBe(0);
        for (const b of pods) expect(Math.sign(compareForDeletion(a, b)) + Math.sign(compareForDeletion(b, a)) === 0).toBe(true);
      }
    }),
  );
});
