// --etcd-compression end to end, on the etcd jest project's cluster: a server that keeps JSON,
// the same data served by a server restarted with gzip (the default), and a value of the flag
// that does not exist refused at start-up.
import fs from 'fs';
import os from 'os';
import path from 'path';
import zlib from 'zlib';
import { Etcd3 } from 'etcd3';
import { removeDir, startApiServer, startComponent } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { call } from './testing/http';

const endpoints = (process.env.PEAPOD_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
const maybe = endpoints.length ? describe : describe.skip;

maybe('--etcd-compression', () => {
  jest.setTimeout(60_000);
  let dataDir: string;
  let raw: Etcd3;
  let server: RunningApiServer | undefined;
  const cms = '/api/v1/namespaces/default/configmaps';
  /** The prefix startApiServer gives a server on the etcd project's cluster: named after its data directory. */
  const value = async (name: string) => (await raw.get(`/peapod-test/${path.basename(dataDir)}/configmaps/default/${name}`).exec()).kvs[0].value;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-compression-'));
    raw = new Etcd3({ hosts: endpoints });
  });
  afterEach(async () => {
    await server?.kill('SIGKILL');
    server = undefined;
    raw.close();
    removeDir(dataDir);
  });

  test('none keeps JSON; a server restarted with gzip serves it and gzips what it writes', async () => {
    server = await startApiServer({ dataDir, args: ['--etcd-compression', 'none'] });
    expect((await call(server.url, 'POST', cms, { metadata: { name: 'plain' }, data: { a: 'b' } })).status).toBe(201);
    expect(JSON.parse((await value('plain')).toString()).data).toEqual({ a: 'b' });
    await server.kill('SIGTERM');

    server = await startApiServer({ dataDir });
    expect((await call(server.url, 'GET', `${cms}/plain`)).body.data).toEqual({ a: 'b' });
    expect((await call(server.url, 'POST', cms, { metadata: { name: 'zipped' }, data: { c: 'd'.repeat(500) } })).status).toBe(201);
    const stored = await value('zipped');
    expect(stored.length).toBeLessThan(500);
    expect(JSON.parse(zlib.gunzipSync(stored).toString()).data).toEqual({ c: 'd'.repeat(500) });
    expect((await call(server.url, 'GET', `${cms}/zipped`)).body.data).toEqual({ c: 'd'.repeat(500) });
  });

  test('an unknown compression stops the server at start-up with one line', async () => {
    const proc = startComponent('apiserver', ['--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, '--storage-backend', 'etcd3', '--etcd-servers', endpoints.join(','), '--etcd-compression', 'zstd']);
    try {
      const line = await proc.ready(/error: .*etcd-compression.*/, 30_000);
      expect(line[0]).toMatch(/gzip, none/);
    } finally {
      await proc.kill('SIGKILL');
    }
  });
});
