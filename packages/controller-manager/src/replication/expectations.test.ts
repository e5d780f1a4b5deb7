import { Expectations } from './expectations';

test('creations and deletions are satisfied by observations, and expire', () => {
  let now = 0;
  const e = new Expectations({ timeoutMs: 1000, now: () => now });
  expect(e.satisfied('ns/rc')).toBe(true);
  e.expectCreations('ns/rc', 2);
  expect(e.satisfied('ns/rc')).toBe(false);
  e.creationObserved('ns/rc');
  e.creationObserved('ns/rc');
  e.creationObserved('ns/rc');
  expect(e.satisfied('ns/rc')).toBe(true);
  e.expectDeletions('ns/rc', ['ns/a', 'ns/b']);
  e.deletionObserved('ns/rc', 'ns/a');
  e.deletionObserved('ns/rc', 'ns/a');
  expect(e.pending('ns/rc')).toEqual({ adds: 0, deletes: 1 });
  expect(e.satisfied('ns/rc')).toBe(false);
  now = 1001;
  expect(e.satisfied('ns/rc')).toBe(true);
  e.delete('ns/rc');
  expect(e.pending('ns/rc')).toBeUndefined();
});
