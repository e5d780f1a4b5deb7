// The etcd backend on the etcd jest project's cluster: its key layout, transactions,
// consistency between two stores, watches from etcd's history, compaction, leases and
// encryption at rest, compression.
import crypto from 'crypto';
import zlib from 'zlib';
import { Etcd3 } from 'etcd3';
import type { KubeObject } from '@peapod/api';
import { EtcdStore } from './etcd-store';
import { encryptionTransformer, parseEncryptionConfig } from './encryption';
import { etcdTransformer } from './compression';
import { KeyExistsError, ListSnapshotExpiredError, RevisionCompactedError, RevisionConflictError, StoreEvent, StoredEntry } from './types';

const endpoints = (process.env.PEAPOD_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
const maybe = endpoints.length ? describe : describe.skip;

function pod(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' } };
}

maybe('EtcdStore', () => {
  let prefix: string;
  let raw: Etcd3;
  const stores: EtcdStore[] = [];
  const open = async (opts: Partial<ConstructorParameters<typeof EtcdStore>[0]> = {}) => {
    const s = new EtcdStore({ servers: endpoints, prefix, requestTimeoutMs: 5000, ...opts });
    stores.push(s);
    await s.ready();
    return s;
  };

  beforeEach(() => {
    prefix = `/peapod-store-test/${crypto.randomUUID()}`;
    raw = new Etcd3({ hosts: endpoints });
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    raw.close();
  });

  test('keys under the prefix; the resourceVersion is the mod_revision; creates and stale updates are refused', async () => {
    const store = await open();
    const a = await store.create('/pods/default/a', pod('a'));
    const kv = (await raw.get(`${prefix}/pods/default/a`).exec()).kvs[0];
    expect(Number(kv.mod_revision)).toBe(a.rev);
    expect(kv.value.toString()).toBe(JSON.stringify(pod('a')));
    expect(a.object.metadata.resourceVersion).toBe(String(a.rev));
    await expect(store.create('/pods/default/a', pod('a'))).rejects.toThrow(KeyExistsError);
    await expect(store.guaranteedUpdate('/pods/default/a', { resourceVersion: a.rev - 1 }, (o) => o)).rejects.toThrow(RevisionConflictError);
    const same = await store.guaranteedUpdate('/pods/default/a', {}, (o) => JSON.parse(JSON.stringify(o)));
    expect(same.rev).toBe(a.rev);
    const gone = await store.delete('/pods/default/a');
    expect(gone.rev).toBeGreaterThan(a.rev);
    expect(await store.get('/pods/default/a')).toBeUndefined();
  });

  test('the health check passes once a quorum read answers and the cache holds the last write, whoever made it; a closed store fails it', async () => {
    const [a, b] = [await open(), await open()];
    await a.create('/pods/default/a', pod('a'));
    await expect(b.check()).resolves.toBeUndefined();
    expect(b.cache.get('/pods/default/a')).toBeDefined();
    await b.close();
    await expect(b.check()).rejects.toThrow('the store is closed');
  });

  test('changes outside the prefix move etcd\'s revision but not the cache: consistent reads answer at once and see every change under the prefix', async () => {
    const [a, b] = [await open(), await open()];
    await a.create('/pods/default/a', pod('a'));
    // Another cluster's prefix beside this one, and a key shorter than the prefix: the last revisions are not this store's.
    for (let i = 0; i < 3; i++) await raw.put(`${prefix}-other/pods/default/x${i}`).value('{}');
    await raw.put('/x').value('{}');
    await expect(b.check()).resolves.toBeUndefined();
    const last = Number((await raw.get('/x').exec()).kvs[0].mod_revision);
    expect(b.cache.revision).toBeGreaterThanOrEqual(last);
    // An own write right after changes the watch has not brought yet still reaches both caches.
    await raw.put(`${prefix}-other/pods/default/y`).value('{}');
    const c = await a.create('/pods/default/c', pod('c'));
    expect(await b.get('/pods/default/c')).toMatchObject({ rev: c.rev });
    expect((await a.list('/pods/')).items.map((e) => e.object.metadata.name)).toEqual(['a', 'c']);
    expect((await b.list('/pods/')).items.map((e) => e.object.metadata.name)).toEqual(['a', 'c']);
  });

  test('an update that changes nothing writes nothing, on what this store wrote and on what it read from etcd; one that changes something is written', async () => {
    const [one, two] = [await open(), await open()];
    // The revision's text also appears before metadata (an involved object's resourceVersion):
    // the comparison must still tell a changed object from an unchanged one. The revision is
    // foretold from etcd's; another writer may take it, so the create is tried again.
    let key = '';
    let created: StoredEntry | undefined;
    for (let attempt = 0; !created; attempt++) {
      const { header } = await raw.get(`${prefix}/none`).exec();
      const next = Number(header.revision) + 1;
      key = `/events/default/e${attempt}`;
      const event = { involvedObject: { kind: 'Pod', name: 'a', resourceVersion: String(next) }, apiVersion: 'v1', kind: 'Event', metadata: { name: `e${attempt}`, namespace: 'default' } } as KubeObject;
      const entry = await one.create(key, event);
      if (entry.rev === next) created = entry;
      else if (attempt >= 10) throw new Error('another writer took every foretold revision');
    }
    const copy = (o: KubeObject) => JSON.parse(JSON.stringify(o)) as KubeObject;
    expect((await one.guaranteedUpdate(key, {}, copy)).rev).toBe(created.rev);
    expect((await two.get(key))!.rev).toBe(created.rev);
    expect((await two.guaranteedUpdate(key, {}, copy)).rev).toBe(created.rev);
    const labelled = await two.guaranteedUpdate(key, {}, (o) => ({ ...o, metadata: { ...o.metadata, labels: { n: '1' } } }));
    expect(labelled.rev).toBeGreaterThan(created.rev);
    expect((await one.get(key))!.object.metadata.labels).toEqual({ n: '1' });
    expect((await one.guaranteedUpdate(key, {}, copy)).rev).toBe(labelled.rev);
    const moved = await one.guaranteedUpdate(key, {}, (o) => ({ ...o, involvedObject: { ...(o as { involvedObject: object }).involvedObject, resourceVersion: String(labelled.rev) } }));
    expect(moved.rev).toBeGreaterThan(labelled.rev);
    const kv = (await raw.get(`${prefix}${key}`).exec()).kvs[0];
    expect(JSON.parse(kv.value.toString())).toEqual({ ...copy(moved.object), metadata: { name: moved.object.metadata.name, namespace: 'default', labels: { n: '1' } } });
  });

  test('an update decided on a stale copy is decided again on what etcd holds', async () => {
    const [one, two] = [await open(), await open()];
    await one.create('/pods/default/c', { ...pod('c'), metadata: { name: 'c', namespace: 'default', labels: { n: '0' } } });
    const bump = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, labels: { n: String(Number(o.metadata.labels!.n) + 1) } } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).guaranteedUpdate('/pods/default/c', {}, bump)));
    expect((await two.get('/pods/default/c'))!.object.metadata.labels).toEqual({ n: '20' });
    expect((await one.get('/pods/default/c'))!.object.metadata.labels).toEqual({ n: '20' });
  });

  test('a read through one store sees what the other wrote, and a watch from a list revision sees every later change once', async () => {
    const [one, two] = [await open(), await open()];
    const { list } = await two.listAndWatch('/pods/', undefined, { send: () => undefined });
    const seen: StoreEvent[] = [];
    await two.watch('/pods/', list.rev, { send: (e) => seen.push(e) });
    for (let i = 0; i < 5; i++) {
      await one.create(`/pods/default/p${i}`, pod(`p${i}`));
      expect(await two.get(`/pods/default/p${i}`)).toBeDefined();
    }
    await one.delete('/pods/default/p0');
    expect(await two.get('/pods/default/p0')).toBeUndefined();
    expect(seen.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED p0', 'ADDED p1', 'ADDED p2', 'ADDED p3', 'ADDED p4', 'DELETED p0']);
    expect(seen.map((e) => e.rev)).toEqual([...seen.map((e) => e.rev)].sort((x, y) => x - y));
  });

  test('concurrent writes reach the watchers of the store that wrote them and of another store alike: each once, in revision order', async () => {
    const [one, two] = [await open(), await open()];
    const seen: StoreEvent[][] = [[], []];
    for (const [i, store] of [one, two].entries()) {
      const { list } = await store.listAndWatch('/pods/', undefined, { send: () => undefined });
      await store.watch('/pods/', list.rev, { send: (e) => seen[i].push(e) });
    }
    const names = Array.from({ length: 40 }, (_, i) => `w${i}`);
    await Promise.all(names.map((n) => one.create(`/pods/default/${n}`, pod(n))));
    const label = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, labels: { v: '1' } } });
    await Promise.all(names.slice(0, 20).map((n) => one.guaranteedUpdate(`/pods/default/${n}`, {}, label)));
    await Promise.all(names.slice(0, 10).map((n) => one.delete(`/pods/default/${n}`)));
    expect((await one.get('/pods/default/w10'))!.object.metadata.labels).toEqual({ v: '1' });
    expect(await two.get('/pods/default/w0')).toBeUndefined();
    for (const events of seen) {
      expect(events).toHaveLength(70);
      expect(events.map((e) => e.rev)).toEqual([...new Set(events.map((e) => e.rev))].sort((x, y) => x - y));
      expect(events.filter((e) => e.type === 'ADDED')).toHaveLength(40);
      expect(events.filter((e) => e.type === 'MODIFIED').map((e) => e.prev?.metadata.labels)).toEqual(Array(20).fill(undefined));
      expect(events.filter((e) => e.type === 'DELETED').map((e) => e.object.metadata.labels)).toEqual(Array(10).fill({ v: '1' }));
    }
    expect(seen[0].map((e) => e.json)).toEqual(seen[1].map((e) => e.json));
  });

  test('a watch from before the kept history gets RevisionCompactedError; compaction reaches etcd', async () => {
    const store = await open({ historyRevisions: 2, recentEvents: 2 });
    const first = await store.create('/pods/default/x0', pod('x0'));
    for (let i = 1; i < 2000; i++) await store.create(`/pods/default/x${i}`, pod(`x${i}`));
    expect(await store.compact()).toBeGreaterThan(0);
    await expect(store.watch('/pods/', first.rev, { send: () => undefined })).rejects.toThrow(RevisionCompactedError);
    await expect(raw.get(`${prefix}/pods/default/x0`).revision(first.rev).exec()).rejects.toThrow(/compacted/);
  }, 120_000);

  test('a continue page of another store\'s list is read from etcd at that list\'s revision; once compacted it is ListSnapshotExpiredError', async () => {
    const [a, b] = [await open({ historyRevisions: 2 }), await open()];
    const labelled = (name: string, app: string, v = '1'): KubeObject => ({ ...pod(name), metadata: { ...pod(name).metadata, labels: { app, v } } });
    for (let i = 0; i < 8; i++) await a.create(`/pods/default/p${i}`, labelled(`p${i}`, i % 4 === 3 ? 'other' : 'web'));
    // More keys than one etcd range of a page reads, none of which the filter passes, before the last one.
    await Promise.all(Array.from({ length: 520 }, (_, i) => a.create(`/pods/default/q${String(i).padStart(3, '0')}`, labelled(`q${i}`, 'other'))));
    await a.create('/pods/default/z', labelled('z', 'web'));
    const web = (o: KubeObject) => o.metadata.labels?.app === 'web';
    const first = await a.list('/pods/default/', { limit: 2, filter: web });
    expect(first.items.map((e) => e.key)).toEqual(['/pods/default/p0', '/pods/default/p1']);
    await a.guaranteedUpdate('/pods/default/p2', {}, (o) => ({ ...o, metadata: { ...o.metadata, labels: { app: 'web', v: '2' } } }));
    await a.delete('/pods/default/p4');
    await a.create('/pods/default/p1a', labelled('p1a', 'web'));
    await b.list('/pods/', {});
    const name = (e: StoredEntry) => `${e.object.metadata.name}@${e.object.metadata.labels?.v}`;
    const second = await b.list('/pods/default/', { limit: 2, after: first.continueAfter, snapshot: first.snapshot, filter: web });
    expect(second.items.map(name)).toEqual(['p2@1', 'p4@1']);
    expect(second.rev).toBe(first.rev);
    expect(second.items[1].object.metadata.resourceVersion).toBe(String(second.items[1].rev));
    const last = await b.list('/pods/default/', { limit: 3, after: second.continueAfter, snapshot: second.snapshot, filter: web });
    expect(last.items.map(name)).toEqual(['p5@1', 'p6@1', 'z@1']);
    expect(last.continueAfter).toBeUndefined();
    // A revision etcd never reached, and one it has compacted.
    await expect(b.list('/pods/default/', { limit: 2, after: first.continueAfter, snapshot: { rev: first.rev + 1_000_000, id: 0 } })).rejects.toThrow(ListSnapshotExpiredError);
    for (let i = 0; i < 20; i++) await a.guaranteedUpdate('/pods/default/p0', {}, (o) => ({ ...o, metadata: { ...o.metadata, labels: { app: 'web', v: String(i) } } }));
    expect(await a.compact()).toBeGreaterThan(0);
    await expect(b.list('/pods/default/', { limit: 2, after: first.continueAfter, snapshot: first.snapshot })).rejects.toThrow(ListSnapshotExpiredError);
  });

  test('a watch from before the store started is served from etcd\'s history, then live, in order (a restarted API server)', async () => {
    const before = await open();
    const start = (await before.list('/pods/')).rev;
    await before.create('/pods/default/h0', pod('h0'));
    await before.create('/pods/default/h1', pod('h1'));
    await before.guaranteedUpdate('/pods/default/h0', {}, (o) => ({ ...o, metadata: { ...o.metadata, labels: { v: '1' } } }));
    await before.delete('/pods/default/h1');
    await before.close();
    const after = await open();
    const seen: StoreEvent[] = [];
    const watch = await after.watch('/pods/', start, { send: (e) => seen.push(e) });
    const live = await after.create('/pods/default/h2', pod('h2'));
    for (let waited = 0; seen.length < 5 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    watch.stop();
    expect(seen.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED h0', 'ADDED h1', 'MODIFIED h0', 'DELETED h1', 'ADDED h2']);
    expect(seen.map((e) => e.rev)).toEqual([...seen.map((e) => e.rev)].sort((x, y) => x - y));
    expect(seen[0].rev).toBeGreaterThan(start);
    expect(seen[4].rev).toBe(live.rev);
    expect(seen[2].prev?.metadata.labels).toBeUndefined();
    expect(seen[2].object.metadata.labels).toEqual({ v: '1' });
    expect(seen[3].object.metadata.resourceVersion).toBe(String(seen[3].rev));
    for (const e of seen) expect(JSON.parse(e.json).metadata.resourceVersion).toBe(String(e.rev));
  });

  test('objects created with a TTL get an etcd lease', async () => {
    const store = await open();
    await store.create('/events/default/e', { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', namespace: 'default' } }, { ttlSeconds: 30 });
    const kv = (await raw.get(`${prefix}/events/default/e`).exec()).kvs[0];
    expect(kv.lease).not.toBe('0');
    await store.guaranteedUpdate('/events/default/e', {}, (o) => ({ ...o, metadata: { ...o.metadata, labels: { seen: '2' } } }));
    expect((await raw.get(`${prefix}/events/default/e`).exec()).kvs[0].lease).toBe(kv.lease);
  });

  test('with encryption at rest etcd holds no Secret value in clear', async () => {
    const key = crypto.randomBytes(32).toString('base64');
    const config = parseEncryptionConfig(
      JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'k1', secret: key }] } }] }] }),
      'test',
    );
    const store = await open({ transformer: encryptionTransformer(config) });
    await store.create('/secrets/default/s', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { token: 'c2VjcmV0LXZhbHVl' } } as KubeObject);
    const value = (await raw.get(`${prefix}/secrets/default/s`).exec()).kvs[0].value;
    expect(value.subarray(0, 'k8s:enc:aesgcm:v1:k1:'.length).toString()).toBe('k8s:enc:aesgcm:v1:k1:');
    expect(value.includes(Buffer.from('c2VjcmV0LXZhbHVl'))).toBe(false);
    const other = await open({ transformer: encryptionTransformer(config) });
    expect(((await other.get('/secrets/default/s'))!.object as KubeObject & { data: Record<string, string> }).data.token).toBe('c2VjcmV0LXZhbHVl');
  });

  test('gzipped values: gunzip gives the JSON; a store reads values written either way; encrypted values are not compressed', async () => {
    const gzip = await open({ transformer: etcdTransformer('gzip') });
    const a = await gzip.create('/pods/default/a', pod('a'));
    const value = (await raw.get(`${prefix}/pods/default/a`).exec()).kvs[0].value;
    expect(zlib.gunzipSync(value).toString()).toBe(JSON.stringify(pod('a')));
    const plain = await open({ transformer: etcdTransformer('none') });
    expect((await plain.get('/pods/default/a'))!.json).toBe(a.json);
    await plain.create('/pods/default/b', pod('b'));
    expect((await raw.get(`${prefix}/pods/default/b`).exec()).kvs[0].value.toString()).toBe(JSON.stringify(pod('b')));
    expect((await gzip.get('/pods/default/b'))!.object.metadata.name).toBe('b');

    const config = parseEncryptionConfig(
      JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: 'k1', secret: crypto.randomBytes(32).toString('base64') }] } }] }] }),
      'test',
    );
    const both = await open({ transformer: etcdTransformer('gzip', encryptionTransformer(config)) });
    await both.create('/secrets/default/s', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' } } as KubeObject);
    expect((await raw.get(`${prefix}/secrets/default/s`).exec()).kvs[0].value.subarray(0, 8).toString()).toBe('k8s:enc:');
    await both.create('/configmaps/default/c', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } } as KubeObject);
    expect(JSON.parse(zlib.gunzipSync((await raw.get(`${prefix}/configmaps/default/c`).exec()).kvs[0].value).toString()).kind).toBe('ConfigMap');
    const reader = await open({ transformer: etcdTransformer('gzip', encryptionTransformer(config)) });
    expect((await reader.get('/secrets/default/s'))!.object.kind).toBe('Secret');
    expect((await reader.get('/configmaps/default/c'))!.object.kind).toBe('ConfigMap');
  });
});
