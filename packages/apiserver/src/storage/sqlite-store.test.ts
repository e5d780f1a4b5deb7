import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import type { KubeObject } from '@peapod/api';
import { SqliteStore } from './sqlite-store';
import { KeyExistsError, RevisionCompactedError, RevisionConflictError, StoreEvent } from './types';

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

});
