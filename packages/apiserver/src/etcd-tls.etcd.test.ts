// peapod-apiserver on an etcd that requires client TLS (--etcd-cafile, --etcd-certfile,
// --etcd-keyfile), with certificates made by the test; and the start-up error when the CA is
// not the one that signed etcd's certificate. Runs in the etcd jest project (its own etcd).
import fs from 'fs';
import os from 'os';
import path from 'path';
import forge from 'node-forge';
import { EtcdCluster, hasEtcd, removeDir, startApiServer, startComponent, startEtcdCluster } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { issueCertificate, makeCa } from './pki/bootstrap';
import { call } from './testing/http';

const maybe = hasEtcd() ? describe : describe.skip;

maybe('the API server on etcd with client TLS', () => {
  jest.setTimeout(120_000);
  let dir: string;
  let cluster: EtcdCluster;
  let server: RunningApiServer | undefined;
  const file = (name: string) => path.join(dir, name);

  /** Writes a certificate and its key as NAME.crt and NAME.key. */
  function write(name: string, pair: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey }): void {
    fs.writeFileSync(file(`${name}.crt`), forge.pki.certificateToPem(pair.cert));
    fs.writeFileSync(file(`${name}.key`), forge.pki.privateKeyToPem(pair.key), { mode: 0o600 });
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-etcd-tls-'));
    const ca = makeCa();
    write('ca', ca);
    write('etcd', issueCertificate(ca, 'etcd', ['127.0.0.1', 'localhost'], { clientAuth: true }));
    write('apiserver-etcd-client', issueCertificate(ca, 'peapod-apiserver', [], { clientAuth: true }));
    write('other-ca', makeCa());
    cluster = await startEtcdCluster(1, { caFile: file('ca.crt'), certFile: file('etcd.crt'), keyFile: file('etcd.key') });
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  afterAll(async () => {
    await cluster?.stop();
    if (dir) removeDir(dir);
  });

  const etcdFlags = (caFile: string) => [
    '--storage-backend', 'etcd3',
    '--etcd-servers', cluster.endpoints.join(','),
    '--etcd-prefix', '/registry-tls',
    '--etcd-cafile', caFile,
    '--etcd-certfile', file('apiserver-etcd-client.crt'),
    '--etcd-keyfile', file('apiserver-etcd-client.key'),
  ];

  test('the server stores and serves over TLS to etcd', async () => {
    server = await startApiServer({ args: etcdFlags(file('ca.crt')) });
    const cms = '/api/v1/namespaces/default/configmaps';
    expect((await call(server.url, 'POST', cms, { metadata: { name: 'over-tls' }, data: { a: 'b' } })).status).toBe(201);
    expect((await call(server.url, 'GET', `${cms}/over-tls`)).body.data).toEqual({ a: 'b' });
  });

  test('a CA that did not sign etcd\'s certificate stops the server at start-up with a clear error', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-apiserver-'));
    const proc = startComponent('apiserver', ['--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, ...etcdFlags(file('other-ca.crt'))]);
    try {
      const line = await proc.ready(/peapod-apiserver: .*/, 60_000);
      expect(line[0]).toMatch(/etcd/);
      expect(line[0]).toMatch(/certificate/i);
    } finally {
      await proc.kill('SIGKILL');
      removeDir(dataDir);
    }
  });
});
