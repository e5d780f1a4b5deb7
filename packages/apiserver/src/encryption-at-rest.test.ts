// --encryption-provider-config on a running peapod-apiserver: no Secret value in clear in the
// SQLite file or its WAL (grep finds it without encryption), Secrets read back after a restart,
// and a key listed first re-encrypts what an older key wrote once it is written again.
import { spawnSync } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { call } from './testing/http';
import { kubectlFor } from './testing/kubectl';

jest.setTimeout(120_000);

let dir: string;
const running: RunningApiServer[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-encryption-'));
});

afterAll(async () => {
  for (const s of running) await s.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

function configFile(name: string, providers: { type: string; keys?: { name: string; secret: string }[] }[]): string {
  const file = path.join(dir, `${name}.yaml`);
  const list = providers.map((p) => (p.type === 'identity' ? { identity: {} } : { [p.type]: { keys: p.keys } }));
  fs.writeFileSync(file, JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources: ['secrets'], providers: list }] }));
  return file;
}

async function start(dataDir: string, config?: string): Promise<RunningApiServer> {
  const server = await startApiServer({ dataDir, args: config ? ['--encryption-provider-config', config] : [] });
  running.push(server);
  return server;
}

/** The files grep reads: the database and, while the server runs, its write-ahead log. */
function grepCount(dataDir: string, needle: string): number {
  let total = 0;
  for (const f of ['peapod.db', 'peapod.db-wal']) {
    const file = path.join(dataDir, f);
    if (!fs.existsSync(file)) continue;
    const r = spawnSync('grep', ['-a', '-c', '-F', needle, file], { encoding: 'utf8' });
    total += Number(r.stdout.trim() || '0');
  }
  return total;
}

/** The stored value of a key as SQLite holds it (read with the server stopped). */
function storedValue(dataDir: string, key: string): Buffer {
  const db = new Database(path.join(dataDir, 'peapod.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT log.value FROM current JOIN log ON log.rev = current.rev WHERE current.key = ?').get(key) as { value: string | Buffer };
    return Buffer.isBuffer(row.value) ? row.value : Buffer.from(row.value);
  } finally {
    db.close();
  }
}

const newKey = () => crypto.randomBytes(32).toString('base64');

async function putSecret(server: RunningApiServer, name: string, value: string): Promise<void> {
  const kubectl = kubectlFor(server.url);
  try {
    // Applied, so that the last-applied annotation holds the value in clear too.
    const r = kubectl.run(['apply', '-f', '-'], `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}}\nstringData: {password: ${value}}\n`);
    expect(r.stdout).toBe(`secret/${name} created\n`);
  } finally {
    kubectl.cleanup();
  }
}

async function readSecret(server: RunningApiServer, name: string): Promise<string> {
  const r = await call(server.url, 'GET', `/api/v1/namespaces/default/secrets/${name}`);
  return Buffer.from(r.body.data.password, 'base64').toString();
}

test.each(['aesgcm', 'aescbc', 'secretbox'])('%s: grep finds no Secret value in the database or its WAL, and the Secret reads back after a restart', async (type) => {
  const dataDir = path.join(dir, type);
  const config = configFile(type, [{ type, keys: [{ name: 'key1', secret: newKey() }] }, { type: 'identity' }]);
  const value = `TopSecret-${type}-${crypto.randomBytes(6).toString('hex')}`;
  const note = `NotSecret-${crypto.randomBytes(6).toString('hex')}`;
  let server = await start(dataDir, config);
  await putSecret(server, 'db-password', value);
  await call(server.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'plain' }, data: { note } });
  expect(await readSecret(server, 'db-password')).toBe(value);
  expect(grepCount(dataDir, value)).toBe(0);
  expect(grepCount(dataDir, Buffer.from(value).toString('base64'))).toBe(0);
  expect(grepCount(dataDir, `k8s:enc:${type}:v1:key1:`)).toBeGreaterThan(0);
  // What is not listed (ConfigMaps) is kept as it is.
  expect(grepCount(dataDir, note)).toBeGreaterThan(0);
  await server.kill();
  expect(grepCount(dataDir, value)).toBe(0);
  server = await start(dataDir, config);
  expect(await readSecret(server, 'db-password')).toBe(value);
  await server.kill();
});

test('without encryption, grep does find the value', async () => {
  const dataDir = path.join(dir, 'clear');
  const value = `Clear-${crypto.randomBytes(6).toString('hex')}`;
  const server = await start(dataDir);
  await putSecret(server, 'db-password', value);
  expect(grepCount(dataDir, value)).toBeGreaterThan(0);
  await server.kill();
});

test('key rotation: a new key listed first re-encrypts a Secret when it is written again; the old key can then go', async () => {
  const dataDir = path.join(dir, 'rotation');
  const key1 = { name: 'key1', secret: newKey() };
  const key2 = { name: 'key2', secret: newKey() };
  const value = `Rotated-${crypto.randomBytes(6).toString('hex')}`;
  let server = await start(dataDir, configFile('rot1', [{ type: 'aesgcm', keys: [key1] }]));
  await putSecret(server, 'rotated', value);
  await putSecret(server, 'untouched', value);
  await server.kill();
  const key = '/secrets/default/rotated';
  expect(storedValue(dataDir, key).subarray(0, 23).toString()).toBe('k8s:enc:aesgcm:v1:key1:');

  server = await start(dataDir, configFile('rot2', [{ type: 'aesgcm', keys: [key2, key1] }]));
  expect(await readSecret(server, 'rotated')).toBe(value);
  // An unchanged replace still writes, as Kubernetes' does for a value read with an old key.
  const current = await call(server.url, 'GET', '/api/v1/namespaces/default/secrets/rotated');
  const replaced = await call(server.url, 'PUT', '/api/v1/namespaces/default/secrets/rotated', current.body);
  expect(Number(replaced.body.metadata.resourceVersion)).toBeGreaterThan(Number(current.body.metadata.resourceVersion));
  // Written once, it is no longer stale: a second unchanged replace is no write.
  const again = await call(server.url, 'PUT', '/api/v1/namespaces/default/secrets/rotated', replaced.body);
  expect(again.body.metadata.resourceVersion).toBe(replaced.body.metadata.resourceVersion);
  await server.kill();
  expect(storedValue(dataDir, key).subarray(0, 23).toString()).toBe('k8s:enc:aesgcm:v1:key2:');
  expect(storedValue(dataDir, '/secrets/default/untouched').subarray(0, 23).toString()).toBe('k8s:enc:aesgcm:v1:key1:');

  server = await start(dataDir, configFile('rot3', [{ type: 'aesgcm', keys: [key2] }, { type: 'aesgcm', keys: [key1] }]));
  expect(await readSecret(server, 'untouched')).toBe(value);
  await server.kill();
});

test('the server refuses to start on a bad configuration, or on data it cannot decrypt', async () => {
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'k', secret: 'c2hvcnQ=' }] } }] }] }));
  await expect(startApiServer({ dataDir: path.join(dir, 'bad'), args: ['--encryption-provider-config', bad], timeoutMs: 5000 })).rejects.toThrow(
    /secret is not of the expected length, got 5, expected one of \[16 24 32\]/,
  );
  await expect(startApiServer({ dataDir: path.join(dir, 'aesgcm'), timeoutMs: 5000 })).rejects.toThrow(
    /is stored encrypted: start the API server with the --encryption-provider-config that wrote it/,
  );
});
