import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import type { KubeObject } from '@peapod/api';
import { SqliteStore } from './sqlite-store';
import { KeyExistsError, KeyNotFoundError, RevisionCompactedError, RevisionConflictError, StorageCommitError, StoredEntry, StoreEvent } from './types';

function pod(name: string, ns = 'default', labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels } };
}

describe('SqliteStore', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-store-'));
    store = new SqliteStore({ path: path.join(dir, 'db.sqlite') });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every write takes the next global revision', async () => {
    const a = await store.create('/pods/default/a', pod('a'));
    const b = await store.create('/nodes/n1', { metadata: { name: 'n1' } });
    const a2 = await store.guaranteedUpdate('/pods/default/a', {}, (o) => ({ ...o, metadata: { ...o.metadata, labels: { x: '1' } } }));
    expect([a.rev, b.rev, a2.rev]).toEqual([1, 2, 3]);
    expect(a2.object.metadata.resourceVersion).toBe('3');
    expect((await store.get('/pods/default/a'))!.object.metadata.labels).toEqual({ x: '1' });
    const gone = await store.delete('/nodes/n1');
    expect(gone.rev).toBe(4);
    expect(gone.object.metadata.resourceVersion).toBe('4');
    expect(await store.get('/nodes/n1')).toBeUndefined();
  });

  test('duplicates and stale revisions are refused and change nothing', async () => {
    await store.create('/pods/default/a', pod('a'));
    await expect(store.create('/pods/default/a', pod('a'))).rejects.toThrow(KeyExistsError);
    await expect(store.guaranteedUpdate('/pods/default/a', { resourceVersion: 7 }, (o) => ({ ...o, metadata: { ...o.metadata, labels: { y: '1' } } }))).rejects.toThrow(
      RevisionConflictError,
    );
    await expect(store.delete('/pods/default/a', { resourceVersion: 9 })).rejects.toThrow(RevisionConflictError);
    expect(store.cache.revision).toBe(1);
  });

  test('an update that changes nothing is not a write', async () => {
    const a = await store.create('/pods/default/a', pod('a'));
    const same = await store.guaranteedUpdate('/pods/default/a', {}, (o) => JSON.parse(JSON.stringify(o)));
    expect(same.rev).toBe(a.rev);
    expect(store.cache.revision).toBe(1);
  });

  test("a write's JSON carries its new resourceVersion in metadata only, whatever else holds the old one", async () => {
    const events: StoreEvent[] = [];
    await store.watch('/endpoints/', 0, { send: (e) => events.push(e) });
    const ref = (rv: string) => ({ kind: 'Pod', name: 'a', resourceVersion: rv });
    const created = await store.create('/endpoints/default/e', { kind: 'Endpoints', metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '10.0.0.1', targetRef: ref('0') }] }] } as KubeObject);
    expect(created.rev).toBe(1);
    // A reference to another revision, then to the very revision the update starts from.
    for (const heldRv of ['9', 'current']) {
      const current = (await store.get('/endpoints/default/e'))!;
      const held = ref(heldRv === 'current' ? String(current.rev) : heldRv);
      const updated = await store.guaranteedUpdate('/endpoints/default/e', {}, (o) => ({ ...o, subsets: [{ addresses: [{ ip: '10.0.0.1', targetRef: held }] }] }) as KubeObject);
      const stored = JSON.parse(events[events.length - 1].json);
      expect(stored.metadata.resourceVersion).toBe(String(updated.rev));
      expect(stored.subsets[0].addresses[0].targetRef).toEqual(held);
      expect(JSON.parse(updated.json)).toEqual(stored);
      expect(updated.rev).toBeGreaterThan(current.rev);
    }
    const gone = await store.delete('/endpoints/default/e');
    const last = events[events.length - 1];
    expect(last.type).toBe('DELETED');
    expect(JSON.parse(last.json)).toEqual({ ...JSON.parse(gone.json), metadata: { name: 'e', resourceVersion: String(gone.rev) } });
    expect(gone.object.metadata.resourceVersion).toBe(String(gone.rev));
  });

  test('lists by prefix in key order, with limit and continue', async () => {
    for (const n of ['c', 'a', 'b']) await store.create(`/pods/default/${n}`, pod(n));
    await store.create('/pods/other/z', pod('z', 'other'));
    await store.create('/pods/defaultx/q', pod('q', 'defaultx'));
    expect((await store.list('/pods/default/')).items.map((e) => e.object.metadata.name)).toEqual(['a', 'b', 'c']);
    expect((await store.list('/pods/')).items).toHaveLength(5);
    const page1 = await store.list('/pods/', { limit: 2 });
    expect(page1.items.map((e) => e.key)).toEqual(['/pods/default/a', '/pods/default/b']);
    const page2 = await store.list('/pods/', { limit: 2, after: page1.continueAfter });
    expect(page2.items.map((e) => e.key)).toEqual(['/pods/default/c', '/pods/defaultx/q']);
    const page3 = await store.list('/pods/', { limit: 2, after: page2.continueAfter });
    expect(page3.items.map((e) => e.key)).toEqual(['/pods/other/z']);
    expect(page3.continueAfter).toBeUndefined();
  });

  test('a watch gets history after its revision, then live events, each once, in order', async () => {
    for (let i = 0; i < 5; i++) await store.create(`/pods/default/p${i}`, pod(`p${i}`));
    const seen: StoreEvent[] = [];
    const w = await store.watch('/pods/', 2, { send: (e) => seen.push(e) });
    for (let i = 5; i < 8; i++) await store.create(`/pods/default/p${i}`, pod(`p${i}`));
    await store.delete('/pods/default/p0');
    await store.create('/nodes/n', { metadata: { name: 'n' } });
    w.stop();
    await store.create('/pods/default/late', pod('late'));
    expect(seen.map((e) => e.rev)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(seen[seen.length - 1].type).toBe('DELETED');
  });

  test('a watch with an index hint gets only the live changes of objects with that value, before or after', async () => {
    const onNode = (name: string, node: string): KubeObject => ({ ...pod(name), spec: { nodeName: node } }) as KubeObject;
    const of = (o: KubeObject): string => (o as { spec?: { nodeName?: string } }).spec?.nodeName ?? '';
    await store.create('/pods/default/old', onNode('old', 'n2'));
    const seen: Record<string, string[]> = { n1: [], n2: [], all: [] };
    const watches = [
      await store.watch('/pods/', 0, { send: (e) => seen.n1.push(`${e.type} ${e.object.metadata.name}`), index: { field: 'spec.nodeName', value: 'n1', of } }),
      await store.watch('/pods/', 1, { send: (e) => seen.n2.push(`${e.type} ${e.object.metadata.name}`), index: { field: 'spec.nodeName', value: 'n2', of } }),
      await store.watch('/pods/', 1, { send: (e) => seen.all.push(`${e.type} ${e.object.metadata.name}`) }),
    ];
    await store.create('/pods/default/a', onNode('a', 'n1'));
    await store.create('/pods/default/b', onNode('b', 'n3'));
    await store.guaranteedUpdate('/pods/default/a', {}, (o) => ({ ...o, spec: { nodeName: 'n2' } }) as KubeObject);
    await store.delete('/pods/default/a');
    watches[0].stop();
    await store.create('/pods/default/c', onNode('c', 'n1'));
    // History is never narrowed: the first watch began before 'old' was written.
    expect(seen.n1).toEqual(['ADDED old', 'ADDED a', 'MODIFIED a']);
    expect(seen.n2).toEqual(['MODIFIED a', 'DELETED a']);
    expect(seen.all).toEqual(['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED a', 'ADDED c']);
  });

  test('history survives a restart; compaction answers with RevisionCompactedError and keeps every current object', async () => {
    const file = path.join(dir, 'db.sqlite');
    for (let i = 0; i < 10; i++) await store.create(`/pods/default/p${i}`, pod(`p${i}`));
    await store.guaranteedUpdate('/pods/default/p0', {}, (o) => ({ ...o, metadata: { ...o.metadata, labels: { v: '1' } } }));
    await store.guaranteedUpdate('/pods/default/p0', {}, (o) => ({ ...o, metadata: { ...o.metadata, labels: { v: '2' } } }));
    await store.delete('/pods/default/p1');
    await store.close();
    store = new SqliteStore({ path: file, historyRevisions: 4 });
    expect(store.cache.revision).toBe(13);
    expect((await store.list('/pods/')).items).toHaveLength(9);
    const seen: number[] = [];
    (await store.watch('/pods/', 10, { send: (e) => seen.push(e.rev) })).stop();
    expect(seen).toEqual([11, 12, 13]);
    // Up to revision 9 only p0's first state and p1's go: the others are still current.
    expect(await store.compact()).toBe(2);
    await expect(store.watch('/pods/', 5, { send: () => undefined })).rejects.toThrow(RevisionCompactedError);
    await store.close();
    store = new SqliteStore({ path: file, historyRevisions: 4 });
    expect(store.compactedRevision).toBe(9);
    expect((await store.list('/pods/')).items.map((e) => e.key)).toEqual([0, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `/pods/default/p${i}`));
    expect((await store.get('/pods/default/p0'))?.object.metadata.labels).toEqual({ v: '2' });
    expect((await store.get('/pods/default/p3'))?.rev).toBe(4);
    const next = await store.create('/pods/default/new', pod('new'));
    expect(next.rev).toBe(14);
  });

  test('opens a database of the older layout (objects kept beside a compacted log) and moves it over', async () => {
    const file = path.join(dir, 'old.sqlite');
    const old = new Database(file);
    old.exec(`
      CREATE TABLE log (rev INTEGER PRIMARY KEY, key TEXT NOT NULL, type INTEGER NOT NULL, value TEXT NOT NULL);
      CREATE TABLE objects (key TEXT PRIMARY KEY, rev INTEGER NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO meta VALUES ('compacted', 5);
      INSERT INTO objects VALUES ('/pods/default/a', 3, '{"metadata":{"name":"a","namespace":"default","resourceVersion":"3"}}');
      INSERT INTO objects VALUES ('/pods/default/b', 7, '{"metadata":{"name":"b","namespace":"default","resourceVersion":"7"}}');
      INSERT INTO log VALUES (6, '/pods/default/gone', 2, '{"metadata":{"name":"gone","namespace":"default","resourceVersion":"6"}}');
      INSERT INTO log VALUES (7, '/pods/default/b', 0, '{"metadata":{"name":"b","namespace":"default","resourceVersion":"7"}}');
    `);
    old.close();
    let moved = new SqliteStore({ path: file });
    expect(moved.cache.revision).toBe(7);
    expect((await moved.list('/pods/')).items.map((e) => [e.key, e.rev])).toEqual([['/pods/default/a', 3], ['/pods/default/b', 7]]);
    await moved.guaranteedUpdate('/pods/default/a', {}, (o) => ({ ...o, metadata: { ...o.metadata, labels: { x: 'y' } } }));
    await moved.close();
    moved = new SqliteStore({ path: file });
    expect((await moved.get('/pods/default/a'))?.object.metadata.labels).toEqual({ x: 'y' });
    expect((await moved.get('/pods/default/b'))?.rev).toBe(7);
    await moved.close();
  });

  describe('group commit', () => {
    const labelled = (v: string) => (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, labels: { v } } });

    test('writes of one turn see each other, take consecutive revisions, are committed together and only then answered', async () => {
      await store.create('/pods/default/old', pod('old'));
      const writes = [
        store.create('/pods/default/a', pod('a')),
        store.create('/pods/default/a', pod('a')),
        store.guaranteedUpdate('/pods/default/a', { resourceVersion: 2 }, labelled('1')),
        store.guaranteedUpdate('/pods/default/a', { resourceVersion: 2 }, labelled('2')),
        store.delete('/pods/default/old', { resourceVersion: 1 }),
        store.guaranteedUpdate('/pods/default/old', {}, labelled('x')),
        store.create('/pods/default/old', pod('old')),
        store.guaranteedUpdate('/pods/default/a', {}, (o) => JSON.parse(JSON.stringify(o))),
      ];
      // Nothing is visible before the commit, and nothing is answered: not even what was decided on the batch's state.
      const answered: number[] = [];
      writes.forEach((w, i) => w.then(() => answered.push(i), () => answered.push(i)));
      expect(store.cache.revision).toBe(1);
      expect(await store.get('/pods/default/a')).toBeUndefined();
      expect(answered).toEqual([]);
      const results = await Promise.allSettled(writes);
      const outcome = results.map((r) => (r.status === 'fulfilled' ? r.value.rev : (r.reason as Error).constructor.name));
      expect(outcome).toEqual([2, 'KeyExistsError', 3, 'RevisionConflictError', 4, 'KeyNotFoundError', 5, 3]);
      expect(store.cache.revision).toBe(5);
      expect((await store.get('/pods/default/a'))!.object.metadata).toMatchObject({ resourceVersion: '3', labels: { v: '1' } });
      expect((await store.get('/pods/default/old'))!.rev).toBe(5);
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(KeyExistsError);
      expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(RevisionConflictError);
      expect((results[5] as PromiseRejectedResult).reason).toBeInstanceOf(KeyNotFoundError);
      // And durably: a reopened store reads the same.
      await store.close();
      store = new SqliteStore({ path: path.join(dir, 'db.sqlite') });
      expect(store.cache.revision).toBe(5);
      expect((await store.get('/pods/default/a'))!.object.metadata.labels).toEqual({ v: '1' });
    });

    test('watchers get a batch in revision order, with each change\'s previous state, before the writers are answered', async () => {
      await store.create('/pods/default/a', pod('a'));
      const seen: StoreEvent[] = [];
      const w = await store.watch('/pods/', 1, { send: (e) => seen.push(e) });
      const seenWhenAnswered: number[] = [];
      const answered = (p: Promise<StoredEntry>) => p.then((e) => seenWhenAnswered.push(seen.length) && e);
      await Promise.all([
        answered(store.guaranteedUpdate('/pods/default/a', {}, labelled('1'))),
        answered(store.create('/pods/default/b', pod('b'))),
        answered(store.guaranteedUpdate('/pods/default/a', {}, labelled('2'))),
        answered(store.delete('/pods/default/b')),
      ]);
      w.stop();
      expect(seen.map((e) => `${e.rev} ${e.type} ${e.key}`)).toEqual([
        '2 MODIFIED /pods/default/a',
        '3 ADDED /pods/default/b',
        '4 MODIFIED /pods/default/a',
        '5 DELETED /pods/default/b',
      ]);
      expect(seen[0].prev?.metadata.labels).toEqual({});
      expect(seen[2].prev?.metadata.labels).toEqual({ v: '1' });
      expect(seen[3].prev?.metadata.resourceVersion).toBe('3');
      expect(seenWhenAnswered).toEqual([4, 4, 4, 4]);
    });

    test('a write answered is in the next read (read-your-writes), and in a list and a new watch', async () => {
      for (let i = 0; i < 20; i++) {
        const created = await store.create(`/pods/default/p${i}`, pod(`p${i}`));
        expect(store.cache.get(created.key)?.rev).toBe(created.rev);
        expect((await store.get(created.key))?.rev).toBe(created.rev);
        expect((await store.list('/pods/')).rev).toBe(created.rev);
        const updated = await store.guaranteedUpdate(created.key, {}, labelled(String(i)));
        expect((await store.get(created.key))?.object.metadata.labels).toEqual({ v: String(i) });
        expect(updated.rev).toBe(created.rev + 1);
      }
      const seen: number[] = [];
      const { list, watch } = await store.listAndWatch('/pods/', undefined, { send: (e) => seen.push(e.rev) });
      expect(list.items).toHaveLength(20);
      await store.delete('/pods/default/p0');
      watch.stop();
      expect(seen).toEqual([41]);
    });

    test('a failed commit fails every write of its batch and changes nothing; what was refused on its state is decided again', async () => {
      const file = path.join(dir, 'db.sqlite');
      await store.create('/pods/default/a', pod('a'));
      const seen: number[] = [];
      const w = await store.watch('/pods/', 1, { send: (e) => seen.push(e.rev) });
      // Another connection makes SQLite refuse one row, halfway through the transaction.
      const other = new Database(file);
      other.exec(`CREATE TRIGGER refuse BEFORE INSERT ON log WHEN NEW.key = '/pods/default/bad' BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
      const batch = [
        store.create('/pods/default/b', pod('b')),
        store.guaranteedUpdate('/pods/default/a', {}, labelled('1')),
        store.create('/pods/default/bad', pod('bad')),
        store.delete('/pods/default/a'),
      ];
      // Refused on the batch's state: decided again once the batch failed, on what is committed.
      const decidedAgain = [store.create('/pods/default/b', pod('b')), store.guaranteedUpdate('/pods/default/a', { resourceVersion: 1 }, labelled('2'))];
      const results = await Promise.allSettled(batch);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as StorageCommitError;
        expect(err).toBeInstanceOf(StorageCommitError);
        expect(err.message).toBe('storage could not commit the write (nor the 3 other writes committed with it): disk says no');
      }
      // The health check fails until a commit succeeds.
      await expect(store.check()).rejects.toThrow('the last commit failed: disk says no');
      expect(store.cache.revision).toBe(1);
      expect(seen).toEqual([]);
      expect((await store.list('/pods/')).items.map((e) => [e.key, e.rev])).toEqual([['/pods/default/a', 1]]);
      expect(other.prepare('SELECT COUNT(*) AS n FROM log').get()).toEqual({ n: 1 });
      // The revisions the failed batch had taken are taken again.
      expect((await Promise.all(decidedAgain)).map((e) => e.rev)).toEqual([2, 3]);
      await expect(store.check()).resolves.toBeUndefined();
      other.exec('DROP TRIGGER refuse');
      other.close();
      w.stop();
      expect(seen).toEqual([2, 3]);
      await store.close();
      await expect(store.check()).rejects.toThrow('the database is closed');
      store = new SqliteStore({ path: file });
      expect((await store.list('/pods/')).items.map((e) => [e.key, e.rev])).toEqual([['/pods/default/a', 3], ['/pods/default/b', 2]]);
      expect((await store.get('/pods/default/a'))!.object.metadata.labels).toEqual({ v: '2' });
    });

    test('a batch at its cap commits at once', async () => {
      await store.close();
      store = new SqliteStore({ path: path.join(dir, 'db.sqlite'), maxBatchWrites: 2 });
      const writes = ['a', 'b', 'c'].map((n) => store.create(`/pods/default/${n}`, pod(n)));
      // The first two were committed when the second joined them; the third waits for its turn.
      expect(store.cache.revision).toBe(2);
      expect(store.cache.get('/pods/default/c')).toBeUndefined();
      expect((await Promise.all(writes)).map((e) => e.rev)).toEqual([1, 2, 3]);
    });

    test('an asynchronous tryUpdate runs again only when another write came in between, committed or not', async () => {
      await store.create('/pods/default/a', pod('a'));
      let runs = 0;
      const slow = (v: string) => async (o: KubeObject) => {
        runs++;
        await new Promise((r) => setTimeout(r, 5));
        return labelled(v)(o);
      };
      // Its own read was committed meanwhile: no reason to run again.
      const created = store.create('/pods/default/b', pod('b'));
      const first = store.guaranteedUpdate('/pods/default/b', {}, slow('1'));
      await created;
      expect((await first).object.metadata.labels).toEqual({ v: '1' });
      expect(runs).toBe(1);
      // Another write to the object while it waited: it runs again on the new state.
      runs = 0;
      const second = store.guaranteedUpdate('/pods/default/a', {}, async (o) => {
        const next = await slow('2')(o);
        return { ...next, metadata: { ...next.metadata, annotations: { seen: JSON.stringify(o.metadata.labels) } } };
      });
      await store.guaranteedUpdate('/pods/default/a', {}, labelled('other'));
      const result = await second;
      expect(runs).toBe(2);
      expect(result.object.metadata.annotations).toEqual({ seen: '{"v":"other"}' });
    });
  });
});
