import { EventSpamFilter } from './event-spam-filter';

describe('EventSpamFilter', () => {
  it('lets 25 events about one object through at once, then one every 5 minutes; each object on its own', () => {
    const spam = new EventSpamFilter();
    const t0 = 1_000_000;
    const first = Array.from({ length: 30 }, () => spam.allow('rc-a', t0));
    expect(first.filter(Boolean)).toHaveLength(25);
    expect(first.slice(25)).toEqual([false, false, false, false, false]);
    expect(spam.allow('rc-b', t0)).toBe(true);
    expect(spam.allow('rc-a', t0 + 299_000)).toBe(false);
    expect(spam.allow('rc-a', t0 + 300_000)).toBe(true);
    expect(spam.allow('rc-a', t0 + 300_001)).toBe(false);
  });

  it('forgets the least recently seen object past the ones it remembers', () => {
    const spam = new EventSpamFilter(1, 1 / 300, 2);
    expect(spam.allow('a', 0)).toBe(true);
    expect(spam.allow('b', 0)).toBe(true);
    expect(spam.allow('a', 0)).toBe(false);
    // c pushes out b (a was seen later): b starts afresh, a is still spent.
    expect(spam.allow('c', 0)).toBe(true);
    expect(spam.allow('b', 0)).toBe(true);
    expect(spam.allow('c', 0)).toBe(false);
  });
});
