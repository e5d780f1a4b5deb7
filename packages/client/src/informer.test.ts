import type { KubeObject } from '@peapod/api';
import { Backoff, Informer, objectKey, stripManagedFields } from './informer';
import { createLogger } from './log';
import type { Logger } from './log';
import { Client } from './rest';
import { FakeApiServer } from './testing/fake-apiserver';

function pod(name: string, labels: Record<string, string> = {}, namespace = 'ns'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels } };
}

/** Records handler calls as readable strings, in order. */
function recorder(inf: Informer<KubeObject>): string[] {
  const log: string[] = [];
  inf.on('add', (o) => log.push(`add ${objectKey(o)}`));
  inf.on('update', (o, n) => log.push(`update ${objectKey(n)} ${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`));
  inf.on('delete', (o) => log.push(`delete ${objectKey(o)}`));
  return log;
}

function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    logger: createLogger('test', { level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
  };
}

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const fast = { initialMs: 10, maxMs: 50 };

describe('objectKey', () => {
  it('is ns/name, or name when cluster-scoped', () => {
    expect(objectKey(pod('a'))).toBe('ns/a');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
  });
});

describe('Backoff', () => {
  it('doubles up to the cap, with jitter, and resets', () => {
    const b = new Backoff({ initialMs: 200, maxMs: 10_000 });
    const delays = Array.from({ length: 10 }, () => b.next());
    const bases = [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000, 10_000];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(bases[i] * 0.75);
      expect(d).toBeLessThanOrEqual(bases[i] * 1.25);
    });
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(250);
  });
});

/** Turns of the event loop, counted by a task that runs once per turn. */
function countTurns(): { count(): number; stop(): void } {
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  return { count: () => turns, stop: () => (ticking = false) };
}

describe.each(['http', 'websocket'] as const)('Informer over %s', (transport) => {
  let fake: FakeApiServer;
  let client: Client;
  let informer: Informer<KubeObject>;
  let logs: ReturnType<typeof captureLogger>;

  beforeEach(async () => {
    fake = new FakeApiServer();
    await fake.start();
    client = new Client({ server: fake.url });
    logs = captureLogger();
  });
  afterEach(async () => {
    informer?.stop();
    client.close();
    await fake.stop();
  });

  function makeInformer(
    opts: { namespace?: string; labelSelector?: string; resyncMs?: number; transform?: (o: KubeObject) => KubeObject; dropManagedFields?: boolean; internStrings?: boolean } = {},
  ): Informer<KubeObject> {
    informer = new Informer<KubeObject>(client, 'pods', { ...opts, transport, backoff: fast, logger: logs.logger });
    return informer;
  }

  it('lists (a streaming list), then turns watch events on the same stream into add/update/delete', async () => {
    fake.set('pods', pod('a'));
    fake.set('pods', pod('b'));
    const inf = makeInformer();
    const log = recorder(inf);
    expect(inf.hasSynced()).toBe(false);
    inf.start();
    await inf.waitForSync();
    expect(inf.hasSynced()).toBe(true);
    expect(log.sort()).toEqual(['add ns/a', 'add ns/b']);
    expect(inf.lastResourceVersion()).toBe('2');
    log.length = 0;

    await waitFor(() => fake.watcherCount() === 1);
    fake.set('pods', pod('a', { v: '2' }));
    fake.set('pods', pod('c'));
    fake.remove('pods', 'ns', 'b');
    await waitFor(() => log.length === 3);
    expect(log).toEqual(['update ns/a 1->3', 'add ns/c', 'delete ns/b']);
    expect(inf.list().map(objectKey).sort()).toEqual(['ns/a', 'ns/c']);
    expect(inf.get('ns/a')?.metadata.labels).toEqual({ v: '2' });
    expect(inf.get('ns/b')).toBeUndefined();
    expect(inf.lastResourceVersion()).toBe('5');

    const watches = fake.requests.filter((r) => r.url.includes('watch=true'));
    expect(watches).toHaveLength(1);
    const q = new URL(watches[0].url, 'http://x').searchParams;
    expect(q.get('resourceVersion')).toBeNull();
    expect(q.get('sendInitialEvents')).toBe('true');
    expect(q.get('resourceVersionMatch')).toBe('NotOlderThan');
    expect(q.get('allowWatchBookmarks')).toBe('true');
    expect(fake.requests.filter((r) => !r.url.includes('watch=true'))).toHaveLength(0);
  });

  it('is not synced until the bookmark that ends the initial events, which a stream may end before', async () => {
    fake.set('pods', pod('a'));
    const inf = makeInformer();
    const log = recorder(inf);
    // The first stream ends before its bookmark: nothing is cached from it, and the list is asked for again.
    let cut = true;
    fake.onWatchLine = (line) => {
      if (cut && line.includes('"BOOKMARK"')) {
        cut = false;
        return 'end';
      }
      return 'send';
    };
    inf.start();
    await inf.waitForSync();
    expect(log).toEqual(['add ns/a']);
    expect(fake.requests.filter((r) => r.url.includes('sendInitialEvents=true'))).toHaveLength(2);
  });

  it('hands a big list to its handlers a chunk per turn of the event loop; a change that comes meanwhile waits for them', async () => {
    const names = Array.from({ length: 2500 }, (_, i) => `p${String(i).padStart(4, '0')}`);
    for (const name of names) fake.set('pods', pod(name));
    const inf = makeInformer();
    const log = recorder(inf);
    const turns = countTurns();
    const turnOfAdd: number[] = [];
    inf.on('add', (o) => {
      turnOfAdd.push(turns.count());
      if (o.metadata.name === 'p0000') fake.set('pods', pod('p0000', { v: '2' }));
    });
    inf.start();
    try {
      await inf.waitForSync();
      await waitFor(() => log.length === 2501);
    } finally {
      turns.stop();
    }
    expect(log.slice(0, 2500)).toEqual(names.map((n) => `add ns/${n}`));
    expect(log[2500]).toBe('update ns/p0000 1->2501');
    expect(new Set(turnOfAdd).size).toBeGreaterThanOrEqual(3);
    expect(inf.get('ns/p0000')?.metadata.labels).toEqual({ v: '2' });
    expect(inf.lastResourceVersion()).toBe('2501');
  });

  it.each([
    ['the transform stripManagedFields', { transform: stripManagedFields }],
    ['dropManagedFields', { dropManagedFields: true }],
    ['dropManagedFields and internStrings', { dropManagedFields: true, internStrings: true }],
  ])('caches and hands out objects without managedFields with %s, listed or watched', async (_how, opts) => {
    const managed = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, managedFields: [{ manager: 'test' }] } });
    fake.set('pods', managed(pod('a')));
    const inf = makeInformer(opts);
    const seen: KubeObject[] = [];
    inf.on('add', (o) => seen.push(o)).on('update', (_o, n) => seen.push(n));
    inf.start();
    await inf.waitForSync();
    await waitFor(() => fake.watcherCount() === 1);
    fake.set('pods', managed(pod('a', { v: '2' })));
    fake.set('pods', managed(pod('b')));
    await waitFor(() => seen.length === 3);
    expect(seen.map((o) => [objectKey(o), 'managedFields' in o.metadata])).toEqual([
      ['ns/a', false],
      ['ns/a', false],
      ['ns/b', false],
    ]);
    expect(inf.get('ns/a')?.metadata).toMatchObject({ labels: { v: '2' }, resourceVersion: '2' });
    expect(inf.list().every((o) => !('managedFields' in o.metadata))).toBe(true);
  });

  it('runs dropManagedFields, then the transform, then internStrings on every object', async () => {
    const order: string[] = [];
    const transform = (o: KubeObject): KubeObject => {
      order.push('managedFields' in o.metadata ? 'managed' : 'stripped');
      return { ...o, metadata: { ...o.metadata, annotations: { seen: 'yes' } } };
    };
    fake.set('pods', { ...pod('a'), metadata: { ...pod('a').metadata, managedFields: [{ manager: 'test' }] } });
    const inf = makeInformer({ dropManagedFields: true, transform, internStrings: true });
    inf.start();
    await inf.waitForSync();
    expect(order).toEqual(['stripped']);
    expect(inf.get('ns/a')?.metadata).toMatchObject({ name: 'a', annotations: { seen: 'yes' } });
    expect(inf.get('ns/a')?.metadata.managedFields).toBeUndefined();
  });

  it('keeps indexes in step with the cache: added before or after the list, through updates, deletes and relists', async () => {
    fake.set('pods', pod('a', { app: 'x' }));
    fake.set('pods', pod('b', { app: 'y' }));
    const inf = makeInformer();
    const byApp = (o: KubeObject): string[] => (o.metadata.labels?.app ? [o.metadata.labels.app] : []);
    inf.addIndex('app', byApp);
    inf.start();
    await inf.waitForSync();
    inf.addIndex('ns', (o) => [o.metadata.namespace ?? '']);
    const names = (index: string, value: string): string[] => inf.byIndex(index, value).map(objectKey).sort();
    expect(names('app', 'x')).toEqual(['ns/a']);
    expect(names('ns', 'ns')).toEqual(['ns/a', 'ns/b']);
    expect(() => inf.addIndex('app', byApp)).toThrow(/already has an index app/);
    expect(() => inf.byIndex('nope', 'x')).toThrow(/no index nope/);

    await waitFor(() => fake.watcherCount() === 1);
    fake.set('pods', pod('b', { app: 'x' }));
    fake.set('pods', pod('c'));
    fake.remove('pods', 'ns', 'a');
    await waitFor(() => inf.get('ns/c') !== undefined && inf.get('ns/a') === undefined);
    expect(names('app', 'x')).toEqual(['ns/b']);
    expect(names('app', 'y')).toEqual([]);
    expect(names('ns', 'ns')).toEqual(['ns/b', 'ns/c']);

    fake.set('pods', pod('d', { app: 'y' }));
    fake.compact();
    fake.closeWatches();
    await waitFor(() => inf.get('ns/d') !== undefined);
    expect(names('app', 'y')).toEqual(['ns/d']);
  });

  it('resumes a closed watch from the last resourceVersion without relisting', async () => {
    fake.set('pods', pod('a'));
    const inf = makeInformer();
    const log = recorder(inf);
    inf.start();
    await inf.waitForSync();
    await waitFor(() => fake.watcherCount() === 1);
    fake.set('pods', pod('b'));
    await waitFor(() => log.length === 2);
    fake.bookmark('Pod');
    fake.set('pods', pod('unseen'));
    fake.remove('pods', 'ns', 'unseen');
    fake.bookmark('Pod');
    await waitFor(() => inf.lastResourceVersion() === '4');
    fake.closeWatches();
    fake.set('pods', pod('c'));
    await waitFor(() => log.length === 5);
    expect(log.slice(2)).toEqual(['add ns/unseen', 'delete ns/unseen', 'add ns/c']);
    const watches = fake.requests.filter((r) => r.url.includes('watch=true') || r.method === 'WATCH-WS');
    expect(watches.length).toBe(2);
    expect(new URL(watches[1].url, 'http://x').searchParams.get('resourceVersion')).toBe('4');
    expect(fake.requests.filter((r) => r.url.includes('sendInitialEvents=true'))).toHaveLength(1);
  });

  it('relists after 410 Gone and emits what changed during the gap', async () => {
    fake.set('pods', pod('keep'));
    fake.set('pods', pod('change'));
    fake.set('pods', pod('gone'));
    const inf = makeInformer();
    const log = recorder(inf);
    inf.start();
    await inf.waitForSync();
    await waitFor(() => fake.watcherCount() === 1);
    log.length = 0;

    // The informer misses these changes: the server is down while they happen, and it
    // forgets the history, so the resumed watch gets 410.
    await fake.stop();
    fake.set('pods', pod('change', { v: '2' }));
    fake.remove('pods', 'ns', 'gone');
    fake.set('pods', pod('new'));
    fake.compact();
    await fake.start();

    await waitFor(() => log.length === 3);
    expect(log.sort()).toEqual(['add ns/new', 'delete ns/gone', 'update ns/change 2->4']);
    expect(inf.list().map(objectKey).sort()).toEqual(['ns/change', 'ns/keep', 'ns/new']);
    expect(logs.lines.some((l) => l.msg === 'watch history expired; relisting')).toBe(true);

    // And it carries on watching after the relist.
    await waitFor(() => fake.watcherCount() === 1);
    fake.set('pods', pod('after'));
    await waitFor(() => log.length === 4);
    expect(log[3]).toBe('add ns/after');
  });

  it('reconnects when the server comes back and resumes without relisting', async () => {
    fake.set('pods', pod('a'));
    const inf = makeInformer();
    const log = recorder(inf);
    inf.start();
    await inf.waitForSync();
    await waitFor(() => fake.watcherCount() === 1);

    await fake.stop();
    fake.set('pods', pod('during-outage'));
    await new Promise((r) => setTimeout(r, 100));
    await fake.start();

    await waitFor(() => log.length === 2);
    expect(log).toEqual(['add ns/a', 'add ns/during-outage']);
    const lists = fake.requests.filter((r) => r.url.includes('sendInitialEvents=true'));
    expect(lists.length).toBe(1);
    const warnings = logs.lines.filter((l) => l.level === 'warn');
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatchObject({ msg: 'watch failed; retrying', resource: 'pods' });
  });

  it('retries the first list until the server answers', async () => {
    const port = fake.port;
    await fake.stop();
    fake.set('pods', pod('a'));
    const inf = makeInformer();
    const log = recorder(inf);
    inf.start();
    await new Promise((r) => setTimeout(r, 60));
    expect(inf.hasSynced()).toBe(false);
    await fake.start(port);
    await inf.waitForSync();
    expect(log).toEqual(['add ns/a']);
  });

  it('survives handler exceptions and keeps dispatching in order', async () => {
    const inf = makeInformer();
    const seen: string[] = [];
    inf.on('add', (o) => {
      if (o.metadata.name === 'bad') throw new Error('handler bug');
    });
    inf.on('add', (o) => seen.push(o.metadata.name ?? ''));
    inf.start();
    await inf.waitForSync();
    await waitFor(() => fake.watcherCount() === 1);
    for (const n of ['a', 'bad', 'b', 'c']) fake.set('pods', pod(n));
    await waitFor(() => seen.length === 4);
    expect(seen).toEqual(['a', 'bad', 'b', 'c']);
    expect(logs.lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'informer handler threw', key: 'ns/bad' }));
  });

  it('sends namespace and selectors on list and watch', async () => {
    const inf = makeInformer({ namespace: 'ns', labelSelector: 'app=web' });
    inf.start();
    await inf.waitForSync();
    await waitFor(() => fake.watcherCount() === 1);
    for (const r of fake.requests) {
      const u = new URL(r.url, 'http://x');
      expect(u.pathname).toBe('/api/v1/namespaces/ns/pods');
      expect(u.searchParams.get('labelSelector')).toBe('app=web');
    }
  });

  it('resyncs the cache as updates to the same object', async () => {
    fake.set('pods', pod('a'));
    const inf = makeInformer({ resyncMs: 30 });
    const log = recorder(inf);
    inf.start();
    await waitFor(() => log.filter((l) => l.startsWith('update')).length >= 2);
    expect(log[0]).toBe('add ns/a');
    expect(log[1]).toBe('update ns/a 1->1');
  });

  it('resyncs a big cache a chunk per turn of the event loop, each object once a round', async () => {
    const names = Array.from({ length: 2500 }, (_, i) => `p${String(i).padStart(4, '0')}`);
    for (const name of names) fake.set('pods', pod(name));
    const inf = makeInformer({ resyncMs: 200 });
    const turns = countTurns();
    const resynced: { name: string; turn: number }[] = [];
    inf.on('update', (oldObj, newObj) => {
      if (oldObj === newObj) resynced.push({ name: newObj.metadata.name ?? '', turn: turns.count() });
    });
    inf.start();
    try {
      await inf.waitForSync();
      await waitFor(() => resynced.length >= 2500);
    } finally {
      turns.stop();
      inf.stop();
    }
    const round = resynced.slice(0, 2500);
    expect(round.map((r) => r.name).sort()).toEqual(names);
    expect(new Set(round.map((r) => r.turn)).size).toBeGreaterThanOrEqual(3);
  });

  it('rejects waitForSync when stopped before syncing', async () => {
    await fake.stop();
    const inf = makeInformer();
    inf.start();
    const sync = inf.waitForSync();
    inf.stop();
    await expect(sync).rejects.toThrow(/stopped before it synced/);
    await expect(inf.waitForSync()).rejects.toThrow(/not running/);
  });
});
