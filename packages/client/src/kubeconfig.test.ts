import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import {
  KubeconfigError,
  clientFromFlags,
  kubeconfigFiles,
  loadKubeconfig,
  noConfigurationMessage,
  optionsFromFlags,
  writeKubeconfig,
} from './kubeconfig';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-kubeconfig-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Entry {
  name: string;
  [field: string]: unknown;
}

function writeConfig(
  file: string,
  cfg: { clusters?: Entry[]; users?: Entry[]; contexts?: Entry[]; current?: string },
): string {
  const full = path.join(dir, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  const doc: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: cfg.clusters ?? [],
    users: cfg.users ?? [],
    contexts: cfg.contexts ?? [],
  };
  if (cfg.current !== undefined) doc['current-context'] = cfg.current;
  fs.writeFileSync(full, stringify(doc));
  return full;
}

const pem = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

describe('loadKubeconfig', () => {
  it('merges a KUBECONFIG list: first file to name an entry wins, first current-context wins', () => {
    const a = writeConfig('a/config', {
      clusters: [{ name: 'c1', cluster: { server: 'https://a:6443' } }],
      users: [{ name: 'u1', user: { token: 'token-a' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c1', user: 'u1', namespace: 'from-a' } }],
    });
    const b = writeConfig('b/config', {
      clusters: [
        { name: 'c1', cluster: { server: 'https://b:6443' } },
        { name: 'c2', cluster: { server: 'https://b2:6443' } },
      ],
      users: [{ name: 'u1', user: { token: 'token-b' } }],
      contexts: [
        { name: 'ctx', context: { cluster: 'c2', user: 'u1' } },
        { name: 'other', context: { cluster: 'c2' } },
      ],
      current: 'ctx',
    });
    const c = writeConfig('c/config', { current: 'other' });
    const env = { KUBECONFIG: [path.join(dir, 'missing'), a, '', b, c, a].join(':') };
    expect(kubeconfigFiles({ env })).toEqual([a, b, c]);
    const kc = loadKubeconfig({ env });
    expect(kc.currentContext).toBe('ctx');
    expect(kc.context).toEqual({ name: 'ctx', cluster: 'c1', user: 'u1', namespace: 'from-a' });
    expect(kc.namespace).toBe('from-a');
    expect(kc.clientOptions()).toEqual({ server: 'https://a:6443', token: 'token-a' });
    expect([...kc.clusters.keys()]).toEqual(['c1', 'c2']);
    const other = loadKubeconfig({ env, context: 'other' });
    expect(other.namespace).toBe('default');
    expect(other.clientOptions()).toEqual({ server: 'https://b2:6443' });
  });

  it('an explicit path wins over KUBECONFIG, and must exist', () => {
    const a = writeConfig('a', { clusters: [{ name: 'c', cluster: { server: 'http://a' } }], contexts: [{ name: 'x', context: { cluster: 'c' } }], current: 'x' });
    const b = writeConfig('b', { clusters: [{ name: 'c', cluster: { server: 'http://b' } }], contexts: [{ name: 'x', context: { cluster: 'c' } }], current: 'x' });
    expect(loadKubeconfig({ path: b, env: { KUBECONFIG: a } }).clientOptions().server).toBe('http://b');
    expect(() => loadKubeconfig({ path: path.join(dir, 'nope') })).toThrow(/kubeconfig file .*nope does not exist/);
  });

  it('falls back to ~/.kube/config, then to an empty config', () => {
    writeConfig('home/.kube/config', { clusters: [{ name: 'c', cluster: { server: 'http://home' } }], contexts: [{ name: 'x', context: { cluster: 'c' } }], current: 'x' });
    expect(loadKubeconfig({ env: {}, homeDir: path.join(dir, 'home') }).clientOptions().server).toBe('http://home');
    const empty = loadKubeconfig({ env: {}, homeDir: path.join(dir, 'nobody') });
    expect(empty.files).toEqual([]);
    expect(empty.namespace).toBe('default');
    expect(() => empty.clientOptions()).toThrow(noConfigurationMessage);
  });

  it('resolves relative file paths against the file that names them', () => {
    fs.mkdirSync(path.join(dir, 'conf', 'pki'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'conf', 'pki', 'ca.crt'), pem);
    fs.writeFileSync(path.join(dir, 'conf', 'pki', 'client.crt'), 'CERT');
    fs.writeFileSync(path.join(dir, 'conf', 'pki', 'client.key'), 'KEY');
    fs.writeFileSync(path.join(dir, 'conf', 'token'), 'file-token\n');
    const file = writeConfig('conf/kubeconfig', {
      clusters: [{ name: 'c', cluster: { server: 'https://x:6443', 'certificate-authority': 'pki/ca.crt' } }],
      users: [{ name: 'u', user: { tokenFile: './token', 'client-certificate': 'pki/client.crt', 'client-key': 'pki/client.key' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      current: 'x',
    });
    const kc = loadKubeconfig({ path: file });
    expect(kc.cluster?.certificateAuthority).toBe(path.join(dir, 'conf', 'pki', 'ca.crt'));
    const opts = kc.clientOptions();
    expect(opts.ca?.toString()).toBe(pem);
    expect(opts.token).toBe('file-token');
    expect(opts.cert?.toString()).toBe('CERT');
    expect(opts.key?.toString()).toBe('KEY');
  });

  it('reads inline data and insecure-skip-tls-verify', () => {
    const file = writeConfig('k', {
      clusters: [{ name: 'c', cluster: { server: 'https://x', 'certificate-authority-data': Buffer.from(pem).toString('base64'), 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't', 'client-certificate-data': Buffer.from('C').toString('base64'), 'client-key-data': Buffer.from('K').toString('base64') } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      current: 'x',
    });
    const opts = loadKubeconfig({ path: file }).clientOptions();
    expect(opts.ca?.toString()).toBe(pem);
    expect(opts.cert?.toString()).toBe('C');
    expect(opts.key?.toString()).toBe('K');
    expect(opts.insecureSkipTLSVerify).toBe(true);
    expect(opts.token).toBe('t');
  });

  it('says what is wrong with an unusable context', () => {
    const file = writeConfig('k', {
      clusters: [{ name: 'noserver', cluster: {} }],
      contexts: [
        { name: 'dangling', context: { cluster: 'missing' } },
        { name: 'empty', context: { cluster: 'noserver' } },
      ],
    });
    expect(() => loadKubeconfig({ path: file }).clientOptions()).toThrow(/sets no current-context/);
    expect(() => loadKubeconfig({ path: file, context: 'nope' })).toThrow('context "nope" was not found in the kubeconfig');
    expect(() => loadKubeconfig({ path: file, context: 'dangling' }).clientOptions()).toThrow(/cluster "missing" of context "dangling" was not found/);
    expect(() => loadKubeconfig({ path: file, context: 'empty' }).clientOptions()).toThrow(/has no server/);
    fs.writeFileSync(file, 'clusters: [unclosed');
    expect(() => loadKubeconfig({ path: file })).toThrow(KubeconfigError);
  });
});

describe('writeKubeconfig', () => {
  it('round-trips through loadKubeconfig with mode 0600', () => {
    const file = path.join(dir, 'new', 'kubeconfig');
    writeKubeconfig(file, { server: 'https://127.0.0.1:6443', token: 'abc', caData: pem, namespace: 'team' });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const kc = loadKubeconfig({ path: file });
    expect(kc.contextName).toBe('peapod');
    expect(kc.namespace).toBe('team');
    const opts = kc.clientOptions();
    expect(opts.server).toBe('https://127.0.0.1:6443');
    expect(opts.token).toBe('abc');
    expect(opts.ca?.toString()).toBe(pem);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['kubeconfig']);
  });

  it('accepts base64 CA data as is, and tightens an existing file', () => {
    const file = path.join(dir, 'kc');
    fs.writeFileSync(file, 'old', { mode: 0o644 });
    writeKubeconfig(file, { server: 'http://127.0.0.1:1', caData: Buffer.from(pem).toString('base64'), name: 'local' });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const kc = loadKubeconfig({ path: file });
    expect(kc.contextName).toBe('local');
    expect(kc.clientOptions().ca?.toString()).toBe(pem);
    expect(kc.clientOptions().token).toBeUndefined();
  });

  it('is read by the real kubectl', () => {
    const file = path.join(dir, 'kubeconfig');
    writeKubeconfig(file, { server: 'https://127.0.0.1:6443', token: 'abc', caData: pem, namespace: 'team' });
    const out = execFileSync('/usr/bin/kubectl', ['config', 'view', '--kubeconfig', file, '--raw', '-o', 'json'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: dir },
    });
    const view = JSON.parse(out) as {
      clusters: { name: string; cluster: Record<string, string> }[];
      users: { name: string; user: Record<string, string> }[];
      contexts: { name: string; context: Record<string, string> }[];
      'current-context': string;
    };
    expect(view['current-context']).toBe('peapod');
    expect(view.clusters).toEqual([
      { name: 'peapod', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from(pem).toString('base64') } },
    ]);
    expect(view.users).toEqual([{ name: 'peapod', user: { token: 'abc' } }]);
    expect(view.contexts).toEqual([{ name: 'peapod', context: { cluster: 'peapod', user: 'peapod', namespace: 'team' } }]);
    const ns = execFileSync('/usr/bin/kubectl', ['config', 'view', '--kubeconfig', file, '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: dir },
    });
    expect(ns).toBe('team');
  });
});

describe('clientFromFlags', () => {
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
  beforeEach(() => {
    delete process.env.KUBECONFIG;
    process.env.HOME = path.join(dir, 'home');
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  function kubeconfig(): string {
    const file = path.join(dir, 'kc');
    writeKubeconfig(file, { server: 'https://cfg:6443', token: 'cfg-token', caData: pem, namespace: 'cfg-ns' });
    return file;
  }

  it('with no kubeconfig and no --server, says to pass one', () => {
    expect(() => clientFromFlags({})).toThrow(new KubeconfigError(noConfigurationMessage));
    expect(noConfigurationMessage).toMatch(/--server/);
    expect(noConfigurationMessage).toMatch(/--kubeconfig/);
  });

  it('uses --server and --token alone', () => {
    const { client, namespace } = clientFromFlags({ server: 'http://127.0.0.1:6443', token: 't' });
    expect(client.server).toBe('http://127.0.0.1:6443');
    expect(namespace).toBe('default');
    client.close();
    expect(optionsFromFlags({ server: 'http://127.0.0.1:6443', token: 't', namespace: 'n1' })).toEqual({
      options: { server: 'http://127.0.0.1:6443', token: 't' },
      namespace: 'n1',
    });
  });

  it('reads the kubeconfig and lets flags override it', () => {
    const file = kubeconfig();
    expect(optionsFromFlags({ kubeconfig: file })).toEqual({
      options: { server: 'https://cfg:6443', token: 'cfg-token', ca: Buffer.from(pem) },
      namespace: 'cfg-ns',
    });
    expect(optionsFromFlags({ kubeconfig: file, server: 'https://flag:1', token: 'flag-token', namespace: 'flag-ns' })).toEqual({
      options: { server: 'https://flag:1', token: 'flag-token', ca: Buffer.from(pem) },
      namespace: 'flag-ns',
    });
    process.env.KUBECONFIG = file;
    expect(optionsFromFlags({}).options.server).toBe('https://cfg:6443');
  });

  it('takes the TLS flags over the files the kubeconfig names, as kubectl does', () => {
    const file = kubeconfig();
    const caFile = path.join(dir, 'flag-ca.crt');
    const certFile = path.join(dir, 'client.crt');
    const keyFile = path.join(dir, 'client.key');
    fs.writeFileSync(caFile, 'flag-ca');
    fs.writeFileSync(certFile, 'cert');
    fs.writeFileSync(keyFile, 'key');
    expect(optionsFromFlags({ kubeconfig: file, certificateAuthority: caFile, clientCertificate: certFile, clientKey: keyFile }).options).toEqual({
      server: 'https://cfg:6443',
      token: 'cfg-token',
      ca: Buffer.from('flag-ca'),
      cert: Buffer.from('cert'),
      key: Buffer.from('key'),
    });
    // Skipping verification drops the kubeconfig's CA; naming a CA as well is a contradiction.
    expect(optionsFromFlags({ kubeconfig: file, insecureSkipTlsVerify: true }).options).toEqual({ server: 'https://cfg:6443', token: 'cfg-token', insecureSkipTLSVerify: true });
    expect(() => optionsFromFlags({ kubeconfig: file, insecureSkipTlsVerify: true, certificateAuthority: caFile })).toThrow(/insecure flag is not allowed/);
    expect(() => optionsFromFlags({ server: 'https://s:1', clientKey: path.join(dir, 'missing.key') })).toThrow(/cannot read .*missing.key/);
  });

  it('passes several servers through, for the client to move between', () => {
    const { client } = clientFromFlags({ server: 'http://a:1,http://b:2/' });
    expect(client.servers).toEqual(['http://a:1', 'http://b:2']);
    expect(client.server).toBe('http://a:1');
    client.close();
  });

  it('ignores a broken default kubeconfig when --server is given, but not an explicit one', () => {
    fs.mkdirSync(path.join(dir, 'home', '.kube'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'home', '.kube', 'config'), 'current-context: nowhere\n');
    expect(optionsFromFlags({ server: 'http://s:1' }).options).toEqual({ server: 'http://s:1' });
    expect(() => optionsFromFlags({})).toThrow(/context "nowhere" was not found/);
    expect(() => optionsFromFlags({ server: 'http://s:1', kubeconfig: path.join(dir, 'missing') })).toThrow(/does not exist/);
  });
});
