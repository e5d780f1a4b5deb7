// The etcd store on an etcd with authentication on (users from client certificates' common
// names, etcd's --client-cert-auth): a user that may read only the prefix cannot hold the
// store's watch of every key, and the store keeps trying with a back-off, saying why, rather
// than taking the refusal for a compaction and reloading in a loop. A user that may read every
// key gets a working store. Runs in the etcd jest project, on an etcd of its own.
import fs from 'fs';
import os from 'os';
import path from 'path';
import forge from 'node-forge';
import { Etcd3, Range } from 'etcd3';
import type { KubeObject } from '@peapod/api';
import type { LogFields } from '@peapod/client';
import { EtcdCluster, hasEtcd, removeDir, startEtcdCluster } from '@peapod/client/testing';
import { issueCertificate, makeCa } from '../pki/bootstrap';
import { EtcdStore } from './etcd-store';

const maybe = hasEtcd() ? describe : describe.skip;

type Pair = { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
const pem = (pair: Pair) => ({ cert: Buffer.from(forge.pki.certificateToPem(pair.cert)), key: Buffer.from(forge.pki.privateKeyToPem(pair.key)) });

maybe('EtcdStore on an etcd with authentication on', () => {
  jest.setTimeout(120_000);
  const prefix = '/registry-auth';
  let dir: string;
  let cluster: EtcdCluster;
  let ca: Pair;
  const stores: EtcdStore[] = [];

  /** A store whose client certificate names `user` (etcd takes the common name for the user). */
  const storeAs = (user: string, warnings: { msg: string; fields?: LogFields }[] = []) => {
    const client = pem(issueCertificate(ca, user, [], { clientAuth: true }));
    const noop = () => undefined;
    const store = new EtcdStore({
      servers: cluster.endpoints,
      prefix,
      requestTimeoutMs: 3000,
      tls: { ca: Buffer.from(forge.pki.certificateToPem(ca.cert)), ...client },
      log: { debug: noop, info: noop, error: noop, warn: (msg, fields) => warnings.push({ msg, fields }) },
    });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-etcd-auth-'));
    ca = makeCa();
    const file = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 }), path.join(dir, name));
    const server = issueCertificate(ca, 'etcd', ['127.0.0.1', 'localhost'], { clientAuth: true });
    cluster = await startEtcdCluster(1, {
      caFile: file('ca.crt', forge.pki.certificateToPem(ca.cert)),
      certFile: file('etcd.crt', forge.pki.certificateToPem(server.cert)),
      keyFile: file('etcd.key', forge.pki.privateKeyToPem(server.key)),
    });
    const root = pem(issueCertificate(ca, 'root', [], { clientAuth: true }));
    const admin = new Etcd3({ hosts: cluster.endpoints, credentials: { rootCertificate: Buffer.from(forge.pki.certificateToPem(ca.cert)), certChain: root.cert, privateKey: root.key } });
    try {
      await admin.user('root').create('root-password');
      await admin.user('root').addRole('root');
      // The prefix and its revision probe (`PREFIX#revision`), nothing else.
      const limited = await admin.role('prefix-only').create();
      await limited.grant({ permission: 'Readwrite', range: Range.prefix(prefix) });
      await admin.user('peapod-prefix-only').create('unused-password');
      await admin.user('peapod-prefix-only').addRole('prefix-only');
      const everything = await admin.role('every-key').create();
      // From the key \0 to the end: every key.
      await everything.grant({ permission: 'Readwrite', range: new Range(Buffer.from([0]), Buffer.from([0])) });
      await admin.user('peapod-every-key').create('unused-password');
      await admin.user('peapod-every-key').addRole('every-key');
      await admin.auth.authEnable();
    } finally {
      admin.close();
    }
  });

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  afterAll(async () => {
    await cluster?.stop();
    if (dir) removeDir(dir);
  });

  test('a user that may read only the prefix: the refused watch is tried again with a back-off, and the log says why', async () => {
    const warnings: { msg: string; fields?: LogFields }[] = [];
    void storeAs('peapod-prefix-only', warnings).ready().catch(() => undefined);
    const refusals = () => warnings.filter((w) => w.msg === 'etcd watch broken: resuming');
    const deadline = Date.now() + 20_000;
    while (refusals().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(String(refusals()[0]?.fields?.error)).toMatch(/etcd refused the watch: .*permission denied/);
    const first = refusals().length;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // Backing off (0.1, 0.2, 0.4, 0.8, 1.6 s...): a handful in 3 s, where a retry at once would be hundreds.
    const inThreeSeconds = refusals().length - first;
    expect(inThreeSeconds).toBeGreaterThanOrEqual(2);
    expect(inThreeSeconds).toBeLessThanOrEqual(8);
    expect(warnings.some((w) => /compaction/.test(w.msg))).toBe(false);
  });

  test('a user that may read every key: writes, consistent reads and the watch work', async () => {
    const store = storeAs('peapod-every-key');
    await store.ready();
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default' } };
    const created = await store.create('/pods/default/a', pod);
    await expect(store.check()).resolves.toBeUndefined();
    expect((await store.get('/pods/default/a'))?.rev).toBe(created.rev);
  });
});
