import { removeDir, startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { call, podManifest } from './testing/http';
import { watchHttp } from './testing/watch';
import { testsOnEtcd } from './testing/storage';

jest.setTimeout(60_000);

const pods = '/api/v1/namespaces/default/pods';
let server: RunningApiServer | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await server?.kill('SIGKILL');
  if (dataDir) removeDir(dataDir);
});

test('SIGKILL during a burst of writes loses no acknowledged write; watches resume after restart', async () => {
  server = await startApiServer();
  dataDir = server.dataDir;
  const base = server.url;
  const startRv = Number((await call(base, 'GET', pods)).body.metadata.resourceVersion);
  const watch = await watchHttp(base, `${pods}?watch=true&resourceVersion=${startRv}`);

  const acked = new Map<string, number>();
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      try {
        const r = await call(base, 'POST', pods, podManifest(`w${w}-${i}`));
        if (r.status === 201) acked.set(r.body.metadata.name, Number(r.body.metadata.resourceVersion));
      } catch {
        return; // the server is gone
      }
    }
  };
  const writers = Array.from({ length: 8 }, (_, w) => writer(w));
  while (acked.size < 300) await new Promise((r) => setTimeout(r, 10));
  const killed = server.kill('SIGKILL');
  stop = true;
  await killed;
  await Promise.all(writers);
  watch.close();
  const seenRvs = watch.events.map((e) => Number(e.object.metadata.resourceVersion));
  expect([...seenRvs].sort((a, b) => a - b)).toEqual(seenRvs);
  const lastSeen = seenRvs.length ? seenRvs[seenRvs.length - 1] : startRv;

  server = await startApiServer({ dataDir });
  const list = await call(server.url, 'GET', pods);
  const stored = new Map<string, number>(list.body.items.map((p: { metadata: { name: string; resourceVersion: string } }) => [p.metadata.name, Number(p.metadata.resourceVersion)]));
  for (const [name, rv] of acked) expect(stored.get(name)).toBe(rv);
  const maxAcked = Math.max(...acked.values());
  const listRv = Number(list.body.metadata.resourceVersion);
  expect(listRv).toBeGreaterThanOrEqual(maxAcked);

  const after = await call(server.url, 'POST', pods, podManifest('after-restart'));
  const afterRv = Number(after.body.metadata.resourceVersion);
  // On SQLite the revisions are the server's alone; on etcd every test on the cluster shares them.
  if (testsOnEtcd()) expect(afterRv).toBeGreaterThan(listRv);
  else expect(afterRv).toBe(listRv + 1);

  // The resumed watch (served from the log on SQLite, from etcd's history on etcd) brings
  // every pod written after the last event seen, in order, then the new one.
  const expected = [...[...stored.values()].filter((rv) => rv > lastSeen).sort((a, b) => a - b), afterRv];
  const resumed = await watchHttp(server.url, `${pods}?watch=true&resourceVersion=${lastSeen}`);
  await resumed.waitFor(expected.length, 10_000);
  resumed.close();
  const rvs = resumed.events.map((e) => Number(e.object.metadata.resourceVersion));
  expect(rvs).toEqual(expected);
  for (const [name, rv] of acked) {
    if (rv > lastSeen) expect(resumed.events.find((e) => e.object.metadata.name === name)).toBeDefined();
  }
});
