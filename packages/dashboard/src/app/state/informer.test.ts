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

function setup() {
  const t = new FakeTransport();
  const changes: Change[] = [];
  let now = 0;
  const timers: (() => void)[] = [];
  const inf = new Informer('pods', '/api/v1/pods', t, (c) => changes.push(c), { now: () => now, setTimeout: (fn) => timers.push(fn) });
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
});
