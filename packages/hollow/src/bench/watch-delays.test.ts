import { WatchDelays } from './watch-delays';

test('a sample is the time from the acknowledgement to the first event after it', () => {
  const d = new WatchDelays();
  d.acknowledged('a', 100);
  d.seen('a', 103);
  d.seen('a', 900);
  expect(d.delays).toEqual([3]);
  expect(d.early).toBe(0);
});

test('an event before the acknowledgement is a 0 ms sample, and a later event does not stand in for it', () => {
  const d = new WatchDelays();
  d.seen('b', 50);
  d.acknowledged('b', 60);
  d.seen('b', 700);
  d.acknowledged('c', 10);
  d.seen('c', 12);
  expect(d.delays).toEqual([0, 2]);
  expect(d.early).toBe(1);
});

test('a write whose event never came gives no sample', () => {
  const d = new WatchDelays();
  d.acknowledged('d', 5);
  expect(d.delays).toEqual([]);
  expect(d.early).toBe(0);
});
