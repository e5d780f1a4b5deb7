import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import type { KubeObject } from '@peapod/api';
import { waitFor } from '@peapod/client/testing';
import { compactionPageRevisions, WalCheckpointer } from './sqlite-maintenance';
import { SqliteStore } from './sqlite-store';
import { RevisionCompactedError } from './types';

function pod(name: string, v: number): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { v: String(v) } } };
}

const size = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);

describe('SQLite maintenance', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-maintenance-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('compaction of a long log goes a page at a time, the event loop served between pages', async () => {
    const store = new SqliteStore({ path: path.join(dir, 'db.sqlite'), historyRevisions: 100 });
    try {
      const pages = 5;
      const updates = pages * compactionPageRevisions;
      await store.create('/pods/default/a', pod('a', 0));
      for (let i = 1; i <= updates; i += 250) {
        const writes = [];
        for (let j = i; j < i + 250; j++) writes.push(store.guaranteedUpdate('/pods/default/a', {}, (o) => ({ ...o, metadata: { ...o.metadata, labels: { v: String(j) } } })));
        await Promise.all(writes);
      }
      // Counts the turns of the event loop that happen while compaction runs, not time.
      let turns = 0;
      let compacting = true;
      const turn = () => {
        turns++;
        if (compacting) setImmediate(turn);
      };
      setImmediate(turn);
      const seen: number[] = [];
      const running = store.compact();
      // While it runs, history before the pages done is gone, and after them still there.
      await new Promise((resolve) => setImmediate(resolve));
      const partly = store.compactedRevision;
      expect(partly).toBeGreaterThan(0);
      expect(partly).toBeLessThan(updates + 1 - 100);
      await expect(store.watch('/pods/', partly - 1, { send: () => undefined })).rejects.toThrow(RevisionCompactedError);
      (await store.watch('/pods/', partly, { send: (e) => seen.push(e.rev) })).stop();
      expect(seen[0]).toBe(partly + 1);
      // A second compaction waits for the first and finds nothing left to do.
      const [removed, again] = await Promise.all([running, store.compact()]);
      compacting = false;
      expect(removed).toBe(updates + 1 - 100);
      expect(again).toBe(0);
      expect(store.compactedRevision).toBe(updates + 1 - 100);
      expect(turns).toBeGreaterThanOrEqual(pages);
      expect((await store.get('/pods/default/a'))?.object.metadata.labels).toEqual({ v: String(updates) });
    } finally {
      await store.close();
    }
  });

  test("a store's WAL is checkpointed beside the writer, and the database keeps every write across a reopen", async () => {
    const file = path.join(dir, 'db.sqlite');
    let store = new SqliteStore({ path: file });
    try {
      const before = size(file);
      const writes = [];
      for (let i = 0; i < 500; i++) writes.push(store.create(`/pods/default/p${i}`, { ...pod(`p${i}`, i), spec: { pad: 'x'.repeat(2000) } } as KubeObject));
      await Promise.all(writes);
      // The writer never checkpoints: the database file grows only when the worker copies the WAL into it.
      await waitFor('the checkpoint', () => size(file) > before + 500 * 2000);
      await store.close();
      store = new SqliteStore({ path: file });
      expect(await store.count('/pods/')).toBe(500);
    } finally {
      await store.close();
    }
  });

  test('a writer that never pauses but for the checkpointer still has its WAL start over', async () => {
    const file = path.join(dir, 'db.sqlite');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const bound = 2 ** 20;
    const checkpointer = new WalCheckpointer(db, file, undefined, bound);
    try {
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      const commit = db.transaction(() => {
        for (let i = 0; i < 32; i++) insert.run('x'.repeat(4000));
      });
      // As the store: the checkpointer hears of each commit.
      const batch = () => {
        commit();
        checkpointer.committed();
      };
      // Once the worker's first checkpoint is in the database file, batches of 128 KiB are
      // written one a turn, with no pause for the checkpointer to catch up in: unless the
      // writer holds its commits when told (as the store does) for the worker to start the WAL
      // over, the WAL holds all of them. (How far past the bound it gets depends on how fast
      // this machine writes.)
      const empty = size(file);
      batch();
      await waitFor('the first checkpoint', () => size(file) > empty);
      let batches = 1;
      let restarts = 0;
      let holds = 0;
      while (restarts < 3 && batches < 2048) {
        // The worker starts the WAL over (and cuts it back to the bound) while the commits are held.
        const before = size(`${file}-wal`);
        if (checkpointer.held) {
          holds++;
          await checkpointer.held;
        }
        batch();
        batches++;
        if (size(`${file}-wal`) < before) restarts++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(restarts).toBe(3);
      expect(holds).toBeGreaterThanOrEqual(3);
      expect((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(batches * 32);
    } finally {
      await checkpointer.close();
      db.close();
    }
  });
});
