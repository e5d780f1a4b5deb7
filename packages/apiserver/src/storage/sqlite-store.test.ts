import fs from 'fs';
import os from 'os';
import path from 'path';
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
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every write takes the next global revision', () => {
    const a = store.create('/pods/default/a', pod('a'));
    const b = store.create('/nodes/n1', { metadata: { name: 'n1' } });
    const a2 = store.update('/pods/default/a', (o) => ({ ...o, metadata: { ...o.metadata, labels: { x: '1' } } }));
    expect([a.rev, b.rev, a2.rev]).toEqual([1, 2, 3]);
    expect(a2.object.metadata.resourceVersion).toBe('3');
    expect(store.get('/pods/default/a')!.object.metadata.labels).toEqual({ x: '1' });
    const gone = store.delete('/nodes/n1');
    expect(gone.rev).toBe(4);
    expect(gone.object.metadata.resourceVersion).toBe('4');
    expect(store.get('/nodes/n1')).toBeUndefined();
  });

  test('duplicates and stale revisions are refused and change nothing', () => {
    store.create('/pods/default/a', pod('a'));
    expect(() => store.create('/pods/default/a', pod('a'))).toThrow(KeyExistsError);
    expect(() => store.update('/pods/default/a', (o) => ({ ...o, metadata: { ...o.metadata, labels: { y: '1' } } }), 7)).toThrow(
      RevisionConflictError,
    );
    expect(() => store.delete('/pods/default/a', 9)).toThrow(RevisionConflictError);
    expect(store.revision).toBe(1);
  });

  test('an update that changes nothing is not a write', () => {
    const a = store.create('/pods/default/a', pod('a'));
    const same = store.update('/pods/default/a', (o) => JSON.parse(JSON.stringify(o)));
    expect(same.rev).toBe(a.rev);
    expect(store.revision).toBe(1);
  });

  test('lists by prefix in key order, with limit and continue', () => {
    for (const n of ['c', 'a', 'b']) store.create(`/pods/default/${n}`, pod(n));
    store.create('/pods/other/z', pod('z', 'other'));
    store.create('/pods/defaultx/q', pod('q', 'defaultx'));
    expect(store.list('/pods/default/').items.map((e) => e.object.metadata.name)).toEqual(['a', 'b', 'c']);
    expect(store.list('/pods/').items).toHaveLength(5);
    const page1 = store.list('/pods/', { limit: 2 });
    expect(page1.items.map((e) => e.key)).toEqual(['/pods/default/a', '/pods/default/b']);
    const page2 = store.list('/pods/', { limit: 2, after: page1.continueAfter });
    expect(page2.items.map((e) => e.key)).toEqual(['/pods/default/c', '/pods/defaultx/q']);
    const page3 = store.list('/pods/', { limit: 2, after: page2.continueAfter });
    expect(page3.items.map((e) => e.key)).toEqual(['/pods/other/z']);
    expect(page3.continueAfter).toBeUndefined();
  });

  test('a watch gets history after its revision, then live events, each once, in order', () => {
    for (let i = 0; i < 5; i++) store.create(`/pods/default/p${i}`, pod(`p${i}`));
    const seen: StoreEvent[] = [];
    const w = store.watch('/pods/', 2, { send: (e) => seen.push(e) });
    for (let i = 5; i < 8; i++) store.create(`/pods/default/p${i}`, pod(`p${i}`));
    store.delete('/pods/default/p0');
    store.create('/nodes/n', { metadata: { name: 'n' } });
    w.stop();
    store.create('/pods/default/late', pod('late'));
    expect(seen.map((e) => e.rev)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(seen[seen.length - 1].type).toBe('DELETED');
  });

  test('history survives a restart; compaction answers with RevisionCompactedError', () => {
    const file = path.join(dir, 'db.sqlite');
    for (let i = 0; i < 10; i++) store.create(`/pods/default/p${i}`, pod(`p${i}`));
    store.close();
    store = new SqliteStore({ path: file, historyRevisions: 4 });
    expect(store.revision).toBe(10);
    expect(store.list('/pods/').items).toHaveLength(10);
    const seen: number[] = [];
    store.watch('/pods/', 7, { send: (e) => seen.push(e.rev) }).stop();
    expect(seen).toEqual([8, 9, 10]);
    expect(store.compact()).toBe(6);
    expect(() => store.watch('/pods/', 5, { send: () => undefined })).toThrow(RevisionCompactedError);
    store.close();
    store = new SqliteStore({ path: file, historyRevisions: 4 });
    expect(store.compactedRevision).toBe(6);
    const next = store.create('/pods/default/new', pod('new'));
    expect(next.rev).toBe(11);
  });
});
