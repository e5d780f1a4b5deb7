// An API server in this process with --token-auth-file and TLS, as a cluster runs it, for the
// tests of one file: requests and the real kubectl as any of its users (or with any token).
// Started before the file's tests, stopped and removed after them.

import { execFile } from 'child_process';
import fs from 'fs';
import https from 'https';
import os from 'os';
import path from 'path';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../server';
import { bootstrapCluster } from '../pki/bootstrap';
import { kubectlPath } from './kubectl';

/** Who a request is from: a user of the token file, a raw token, or no token at all (undefined). */
export type Caller = string | { token: string } | undefined;

export interface Reply {
  status: number;
  /** the body as it came */
  text: string;
  // Test code reads decoded JSON freely.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface SecureServer {
  api: ApiServer;
  base: string;
  /** the cluster CA's certificate file (it signed the server's) */
  caFile: string;
  /** the token of each user of the token file */
  tokens: Record<string, string>;
  req(as: Caller, method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** The real kubectl, asynchronously (the server runs in this process), with `input` on its stdin. */
  kubectl(as: Caller, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface SecureServerOptions {
  /** nodes that get a token (system:node:NAME in system:nodes) */
  nodes?: string[];
  /** more users of the token file: name and groups */
  users?: { name: string; groups: string[] }[];
  /** more options of the server */
  server?: Partial<ApiServerOptions>;
}

/** One JSON document decoded; anything else (a watch's events, plain text) as it is. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** 'bogus' is a token nobody has. */
function tokenOf(t: SecureServer, as: Caller): string | undefined {
  if (as === undefined) return undefined;
  if (typeof as === 'object') return as.token;
  return as === 'bogus' ? 'not-a-token' : t.tokens[as];
}

export function secureServerPerFile(opts: SecureServerOptions = {}): SecureServer {
  let dir = '';
  let ca: Buffer;
  let caFile = '';
  const t = { tokens: {} } as SecureServer;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-secure-'));
    const pki = bootstrapCluster({ dir: path.join(dir, 'pki'), server: 'https://127.0.0.1:1', hosts: ['127.0.0.1'], nodes: opts.nodes ?? [] });
    const extra = (opts.users ?? []).map((u, i) => `user-token-${i}-${Date.now()},${u.name},${u.name}-uid,"${u.groups.join(',')}"\n`);
    fs.appendFileSync(pki.tokenFile, extra.join(''));
    for (const line of fs.readFileSync(pki.tokenFile, 'utf8').trim().split('\n')) {
      const [token, user] = line.split(',');
      t.tokens[user] = token;
    }
    caFile = pki.caFile;
    ca = fs.readFileSync(caFile);
    t.caFile = caFile;
    t.api = createApiServer({
      dataDir: ':memory:',
      allowPrivileged: true,
      tokenAuthFile: pki.tokenFile,
      tls: { cert: fs.readFileSync(pki.certFile), key: fs.readFileSync(pki.keyFile) },
      logger: { info() {}, warn() {}, error() {}, debug() {} },
      ...opts.server,
    });
    t.base = `https://127.0.0.1:${await t.api.listen(0, '127.0.0.1')}`;
  });

  afterAll(async () => {
    await t.api?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  t.req = (as, method, p, body, extraHeaders = {}) => {
    const headers: Record<string, string> = { ...extraHeaders };
    const token = tokenOf(t, as);
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] ??= method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    return new Promise((resolve, reject) => {
      const r = https.request(t.base + p, { method, headers, ca }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, body: parsed(text) }));
      });
      r.on('error', reject);
      r.end(body === undefined ? undefined : JSON.stringify(body));
    });
  };

  t.kubectl = (as, args, input) => {
    const home = fs.mkdtempSync(path.join(dir, 'home-'));
    const token = tokenOf(t, as);
    const auth = token ? ['--token', token] : [];
    const env = { ...process.env, HOME: home, KUBECONFIG: path.join(home, 'none') };
    return new Promise((resolve) => {
      const child = execFile(kubectlPath, ['--server', t.base, '--certificate-authority', caFile, '--cache-dir', path.join(home, 'cache'), ...auth, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      // Without a token kubectl would wait on an open stdin for a user name.
      child.stdin?.end(input);
    });
  };
  return t;
}
