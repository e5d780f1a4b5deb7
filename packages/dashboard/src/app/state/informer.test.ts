import type { KubeObject } from '@peapod/api';
import { Informer } from './informer';
import type { ListResult, Transport, WatchHandlers } from './informer';
import type { Change } from './store';

const obj = (name: string, rv: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, resourceVersion: rv } });

/** A transport whose lists and watches the test answers by hand. */
class FakeTransport implements Transport {
  lists: { path: string; resolve: (r: ListResult) => void; reject: (e: unknown) => void }[] = [];
  watches: { path: string; handlers: WatchHandlers; closed: boolean }[] = [];
  list(path: string): Promise<ListResult> {
    return new Promise((resolve, reject) => this.lists.push({ path, resolve, reject }));
  }
  watch(path: string, handlers: WatchHandlers) {
    const w = { path, handlers, closed: false };
    this.watches.push(w);
    return { close: () => (w.closed = true) };
  }
}

const flush = () => new Promise((r) => setImmediate(r));

/** The API's answer to a continue token whose snapshot the server no longer holds. */
const expired = () => Object.assign(new Error('Error from server (Expired): the list snapshot is gone; list again'), { code: 410 });

function setup(path = '/api/v1/pods') {
  const t = new FakeTransport();
  const changes: Change[] = [];
  let now = 0;
  const timers: (() => void)[] = [];
  const inf = new Informer('pods', path, t, (c) => changes.push(c), { now: () => now, setTimeout: (fn) => timers.push(fn) });
  return { t, changes, inf, timers, advance: (ms: number) => (now += ms) };
}

describe('Informer', () => {
  it('lists, then watches from the list resourceVersion, and reopens a watch the server ended from the last one seen', async () => {
    const { t, changes, inf, advance } = setup();
    inf.start();
    t.lists[0].resolve({ items: [obj('a', '5')], metadata: { resourceVersion: '7' } });
    await flush();
    expect(changes[0]).toMatchObject({ type: 'SYNC' });
    expect(t.watches[0].path).toBe('/api/v1/pods?watch=true&allowWatchBookmarks=true&resourceVersion=7');
    t.watches[0].handlers.message(JSON.stringify({ type: 'ADDED', object: obj('b', '8') }));
    t.watches[0].handlers.message(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }));
    expect(changes.map((c) => c.type)).toEqual(['SYNC', 'ADDED']);
    advance(5000);
    t.watches[0].handlers.closed(true);
    expect(t.watches[1].path).toContain('resourceVersion=9');
  });

  it('relists on 410 Gone', async () => {
    const { t, inf } = setup();
    inf.start();
    t.lists[0].resolve({ items: [], metadata: { resourceVersion: '1' } });
    await flush();
    t.watches[0].handlers.message(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old' } }));
    t.watches[0].handlers.closed(true);
    expect(t.lists.length).toBe(2);
    expect(t.watches.length).toBe(1);
  });

  it('says a resource the cluster does not serve is unavailable, and does not retry', async () => {
    const { t, changes, inf, timers } = setup();
    inf.start();
    t.lists[0].reject(Object.assign(new Error('the server could not find the requested resource'), { code: 404 }));
    await flush();
    expect(changes).toEqual([{ kind: 'pods', type: 'STATE', state: { phase: 'unavailable', message: 'the server could not find the requested resource' } }]);
    expect(timers.length).toBe(0);
  });

  it('shows other failures and retries with back-off; a watch that fails at once is not reopened in a loop', async () => {
    const { t, changes, inf, timers } = setup();
    inf.start();
    t.lists[0].reject(Object.assign(new Error('Error from server (Forbidden): no'), { code: 403 }));
    await flush();
    expect(changes[0]).toMatchObject({ type: 'STATE', state: { phase: 'error' } });
    timers.shift()?.();
    t.lists[1].resolve({ items: [], metadata: { resourceVersion: '3' } });
    await flush();
    expect(changes[1]).toMatchObject({ type: 'SYNC' });
    t.watches[0].handlers.closed(true);
    expect(t.watches.length).toBe(1);
    timers.shift()?.();
    expect(t.watches.length).toBe(2);
  });

  describe('lists in pages', () => {
    const a = obj('a', '1');
    const b = obj('b', '2');
    const c = obj('c', '3');

    it('asks for 500 at a time, follows continue, and syncs once with every object, watching from the first page\'s resourceVersion', async () => {
      const { t, changes, inf } = setup();
      inf.start();
      t.lists[0].resolve({ items: [a], metadata: { resourceVersion: '10', continue: 'page/2=' } });
      await flush();
      t.lists[1].resolve({ items: [b], metadata: { resourceVersion: '10', continue: 'page 3' } });
      await flush();
      expect(changes).toEqual([]);
      expect(t.watches.length).toBe(0);
      // The server should repeat the first page's resourceVersion; the first page's is the one used.
      t.lists[2].resolve({ items: [c], metadata: { resourceVersion: '11' } });
      await flush();
      expect(t.lists.map((l) => l.path)).toEqual(['/api/v1/pods?limit=500', '/api/v1/pods?limit=500&continue=page%2F2%3D', '/api/v1/pods?limit=500&continue=page%203']);
      expect(changes).toEqual([{ kind: 'pods', type: 'SYNC', objects: [a, b, c] }]);
      expect(t.watches.map((w) => w.path)).toEqual(['/api/v1/pods?watch=true&allowWatchBookmarks=true&resourceVersion=10']);
    });

    it('adds its query to a path that already has one', async () => {
      const { t, inf } = setup('/api/v1/pods?labelSelector=app%3Dweb');
      inf.start();
      t.lists[0].resolve({ items: [a], metadata: { resourceVersion: '10', continue: 'next' } });
      await flush();
      t.lists[1].resolve({ items: [b], metadata: { resourceVersion: '10' } });
      await flush();
      expect(t.lists.map((l) => l.path)).toEqual(['/api/v1/pods?labelSelector=app%3Dweb&limit=500', '/api/v1/pods?labelSelector=app%3Dweb&limit=500&continue=next']);
      expect(t.watches[0].path).toBe('/api/v1/pods?labelSelector=app%3Dweb&watch=true&allowWatchBookmarks=true&resourceVersion=10');
    });

    it('starts the list over once when a continue page is 410, and syncs the new list', async () => {
      const { t, changes, inf, timers } = setup();
      inf.start();
      t.lists[0].resolve({ items: [a], metadata: { resourceVersion: '10', continue: 'old' } });
      await flush();
      t.lists[1].reject(expired());
      await flush();
      expect(t.lists[2].path).toBe('/api/v1/pods?limit=500');
      t.lists[2].resolve({ items: [a, b], metadata: { resourceVersion: '20', continue: 'new' } });
      await flush();
      expect(t.lists[3].path).toBe('/api/v1/pods?limit=500&continue=new');
      t.lists[3].resolve({ items: [c], metadata: { resourceVersion: '20' } });
      await flush();
      expect(t.lists.length).toBe(4);
      expect(changes).toEqual([{ kind: 'pods', type: 'SYNC', objects: [a, b, c] }]);
      expect(t.watches[0].path).toContain('resourceVersion=20');
      expect(timers.length).toBe(0);
    });

    it('treats a second 410 in one relist as a failure: error state, retried later from the first page', async () => {
      const { t, changes, inf, timers } = setup();
      inf.start();
      for (const i of [0, 2]) {
        t.lists[i].resolve({ items: [a], metadata: { resourceVersion: String(10 + i), continue: `token-${i}` } });
        await flush();
        t.lists[i + 1].reject(expired());
        await flush();
      }
      expect(t.lists.length).toBe(4);
      expect(changes).toEqual([{ kind: 'pods', type: 'STATE', state: { phase: 'error', message: expired().message } }]);
      expect(t.watches.length).toBe(0);
      expect(timers.length).toBe(1);
      timers.shift()?.();
      expect(t.lists[4].path).toBe('/api/v1/pods?limit=500');
    });

    it('treats a 410 on the first page like any other failure', async () => {
      const { t, changes, inf, timers } = setup();
      inf.start();
      t.lists[0].reject(expired());
      await flush();
      expect(t.lists.length).toBe(1);
      expect(changes).toEqual([{ kind: 'pods', type: 'STATE', state: { phase: 'error', message: expired().message } }]);
      expect(timers.length).toBe(1);
    });

    it('stops quietly when stopped between pages: no further page, no sync, no watch', async () => {
      const { t, changes, inf, timers } = setup();
      inf.start();
      t.lists[0].resolve({ items: [a], metadata: { resourceVersion: '10', continue: 'two' } });
      await flush();
      inf.stop();
      t.lists[1].resolve({ items: [b], metadata: { resourceVersion: '10', continue: 'three' } });
      await flush();
      expect(t.lists.length).toBe(2);
      expect(changes).toEqual([]);
      expect(t.watches.length).toBe(0);
      expect(timers.length).toBe(0);
    });
  });
});
