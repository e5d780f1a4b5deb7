// peactl create configmap|secret generic|secret tls|serviceaccount|token, and get and describe
// of what they make, beside the real kubectl on the same server.

import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import forge from 'node-forge';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { hasKubectl, kubectlFor, peactlFor } from './testing/process';

jest.setTimeout(60_000);

let server: RunningApiServer;
let run: ReturnType<typeof peactlFor>;
let dir: string;
let kubectl: ReturnType<typeof kubectlFor>;

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const file = (name: string, content: string | Buffer): string => {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
};

beforeAll(async () => {
  server = await startApiServer();
  run = peactlFor(server.url);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peactl-config-'));
  kubectl = kubectlFor(server.url);
});

afterAll(async () => {
  await server?.stop();
  kubectl.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function json(args: string[]): any {
  const r = run([...args, '-o', 'json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

describe('create configmap', () => {
  test('--from-file (a file, key=file, a directory), --from-literal, and text or binary files', () => {
    file('conf/app.properties', 'mode=fast\n');
    file('conf/logo.bin', Buffer.from([0xff, 0xfe, 0x00]));
    file('conf/.hidden', 'h');
    const other = file('other.txt', 'other\n');
    const r = run(['create', 'configmap', 'app', `--from-file=${path.join(dir, 'conf')}`, `--from-file=renamed=${other}`, '--from-literal=level=3', '--from-literal=url=http://x/?a=b']);
    expect(r).toEqual({ code: 0, stdout: 'configmap/app created\n', stderr: '' });
    const cm = json(['get', 'cm', 'app']);
    expect(cm.data).toEqual({ 'app.properties': 'mode=fast\n', '.hidden': 'h', renamed: 'other\n', level: '3', url: 'http://x/?a=b' });
    expect(cm.binaryData).toEqual({ 'logo.bin': b64(Buffer.from([0xff, 0xfe, 0x00])) });
  });

  test('--from-env-file: KEY=value lines, comments, and a bare KEY from the environment', () => {
    const env = file('app.env', '\uFEFF# settings\nMODE=fast\n  LEVEL=3\nEMPTY=\nURL=a=b\n');
    expect(run(['create', 'cm', 'env', `--from-env-file=${env}`]).stdout).toBe('configmap/env created\n');
    expect(json(['get', 'cm', 'env']).data).toEqual({ MODE: 'fast', LEVEL: '3', EMPTY: '', URL: 'a=b' });
  });

  test("refusals worded as kubectl's", () => {
    const env = file('ok.env', 'A=1\n');
    const cases: [string[], string][] = [
      [['--from-literal=a b=c'], `error: "a b" is not a valid key name for a ConfigMap: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')\n`],
      [['--from-literal=k=1', '--from-literal=k=2'], 'error: cannot add key "k", another key by that name already exists in Data for ConfigMap "bad"\n'],
      [['--from-literal=novalue'], 'error: invalid literal source novalue, expected key=value\n'],
      [[`--from-env-file=${env}`, '--from-literal=a=b'], 'error: from-env-file cannot be combined with from-file or from-literal\n'],
      [[`--from-file=k=${dir}`], 'error: cannot give a key name for a directory path\n'],
      [[`--from-file=${path.join(dir, 'missing')}`], `error: error reading ${path.join(dir, 'missing')}: no such file or directory\n`],
      [['--from-env-file', file('bad.env', '1BAD=x\n')], 'error: "1BAD" is not a valid key name: a valid environment variable name must consist of alphabetic characters, digits, \'_\', \'-\', or \'.\', and must not start with a digit (e.g. \'my.env-name\',  or \'MY_ENV.NAME\',  or \'MyEnvName1\', regex used for validation is \'[-._a-zA-Z][-._a-zA-Z0-9]*\')\n'],
    ];
    for (const [flags, stderr] of cases) expect(run(['create', 'configmap', 'bad', ...flags])).toEqual({ code: 1, stdout: '', stderr });
    expect(run(['create', 'configmap', 'app', '--from-literal=a=b']).stderr).toBe('error: failed to create configmap: configmaps "app" already exists\n');
  });

  test('--dry-run=client prints without sending, --dry-run=server sends without storing; -o yaml; --save-config', () => {
    expect(run(['create', 'cm', 'dry', '--from-literal=a=b', '--dry-run=client']).stdout).toBe('configmap/dry created (dry run)\n');
    expect(run(['create', 'cm', 'dry', '--from-literal=a=b', '--dry-run=server']).stdout).toBe('configmap/dry created (server dry run)\n');
    expect(run(['get', 'cm', 'dry']).stderr).toBe('Error from server (NotFound): configmaps "dry" not found\n');
    const yaml = run(['create', 'cm', 'shown', '--from-literal=a=b', '--dry-run=client', '-o', 'yaml']).stdout;
    expect(yaml).toBe('apiVersion: v1\nbinaryData: {}\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n  name: shown\n');
    run(['create', 'cm', 'saved', '--from-literal=a=b', '--save-config']);
    expect(JSON.parse(json(['get', 'cm', 'saved']).metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])).toMatchObject({ kind: 'ConfigMap', data: { a: 'b' } });
  });
});

describe('create secret', () => {
  test('generic: data base64, --type; keys checked as kubectl checks them', () => {
    const pw = file('pw.txt', 's3cret\n');
    expect(run(['create', 'secret', 'generic', 'creds', '--from-literal=user=admin', `--from-file=password=${pw}`]).stdout).toBe('secret/creds created\n');
    const s = json(['get', 'secret', 'creds']);
    expect(s).toMatchObject({ type: 'Opaque', data: { user: b64('admin'), password: b64('s3cret\n') } });
    expect(run(['create', 'secret', 'generic', 'auth', '--type=kubernetes.io/basic-auth', '--from-literal=username=u', '--from-literal=password=p']).stdout).toBe('secret/auth created\n');
    expect(run(['create', 'secret', 'generic', 'x', '--from-literal=a b=c']).stderr).toMatch(/^error: "a b" is not valid key name for a Secret a valid config key must consist/);
    expect(run(['create', 'secret', 'generic', 'x', '--from-literal=a=1', '--from-literal=a=2']).stderr).toBe('error: cannot add key a, another key by that name already exists\n');
    expect(run(['create', 'secret', 'generic', 'x', '--type=kubernetes.io/tls', '--from-literal=a=1']).stderr).toBe(
      'error: failed to create secret Secret "x" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]\n',
    );
  });

  test('tls: a certificate and its own key', () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const certPem = selfSigned(privateKey);
    const cert = file('tls.crt', certPem);
    const key = file('tls.key', privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const wrong = file('wrong.key', other.export({ type: 'pkcs8', format: 'pem' }));
    expect(run(['create', 'secret', 'tls', 'web-tls', `--cert=${cert}`, `--key=${key}`]).stdout).toBe('secret/web-tls created\n');
    expect(json(['get', 'secret', 'web-tls'])).toMatchObject({ type: 'kubernetes.io/tls', data: { 'tls.crt': b64(certPem) } });
    expect(run(['create', 'secret', 'tls', 'bad', `--cert=${cert}`, `--key=${wrong}`]).stderr).toBe('error: failed to load key pair tls: private key does not match public key\n');
    expect(run(['create', 'secret', 'tls', 'bad', `--cert=${cert}`]).stderr).toBe('error: key and cert must be specified\n');
  });
});

describe('create serviceaccount and token', () => {
  test('a service account, then tokens for it: printed bare, bound to a pod', () => {
    expect(run(['create', 'serviceaccount', 'robot']).stdout).toBe('serviceaccount/robot created\n');
    const token = run(['create', 'token', 'robot', '--duration=20m', '--audience=vault']);
    expect(token.stderr).toBe('');
    expect(token.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(token.stdout.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'system:serviceaccount:default:robot', aud: ['vault'] });
    expect(claims.exp - claims.iat).toBe(1200);
    run(['run', 'worker', '--image=peapod/busybox:latest']);
    expect(run(['create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=worker']).stderr).toBe('error: failed to create token: serviceaccounts "default" not found\n');
    expect(run(['create', 'serviceaccount', 'default']).code).toBe(0);
    const bound = run(['create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=worker', '-o', 'json']);
    expect(JSON.parse(bound.stdout)).toMatchObject({ kind: 'TokenRequest', spec: { boundObjectRef: { kind: 'Pod', name: 'worker' } } });
    expect(run(['create', 'token', 'robot', '--bound-object-name=x']).stderr).toBe('error: --bound-object-name can only be set if --bound-object-kind is provided\n');
    expect(run(['create', 'token', 'robot', '--bound-object-kind=Job', '--bound-object-name=x']).stderr).toBe('error: supported --bound-object-kind values are Node, Pod, Secret\n');
    expect(run(['create', 'token', 'robot', '--duration=1500ms']).stderr).toBe('error: --duration cannot be expressed in units less than seconds\n');
  });
});

const kubectlIt = hasKubectl() ? test : test.skip;

describe('beside kubectl', () => {
  kubectlIt('get configmaps, secrets and serviceaccounts: the same tables', () => {
    for (const type of ['configmaps', 'secrets', 'serviceaccounts']) {
      const ours = run(['get', type]).stdout.replace(/\d+[smh]\n/g, 'AGE\n');
      const theirs = kubectl.run(['get', type]).stdout.replace(/\d+[smh]\n/g, 'AGE\n');
      expect(ours).toBe(theirs);
    }
  });

  kubectlIt('describe configmap, secret and serviceaccount: the same text (kubectl 1.32 lists data keys in map order)', () => {
    const sorted = (text: string) => text.split('\n').sort();
    for (const args of [['describe', 'configmap', 'env'], ['describe', 'secret', 'creds'], ['describe', 'secret', 'web-tls'], ['describe', 'sa', 'robot']]) {
      const ours = run(args);
      expect(ours.code).toBe(0);
      expect(sorted(ours.stdout)).toEqual(sorted(kubectl.run(args).stdout));
    }
    expect(run(['describe', 'configmap', 'saved']).stdout).toBe(kubectl.run(['describe', 'configmap', 'saved']).stdout);
    expect(run(['describe', 'secret', 'creds']).stdout).not.toContain('s3cret');
  });

  kubectlIt("describe pod shows the kube-api-access volume as kubectl does", () => {
    expect(run(['describe', 'pod', 'worker']).stdout).toBe(kubectl.run(['describe', 'pod', 'worker']).stdout);
  });
});

/** A self-signed certificate for an RSA key. */
function selfSigned(key: crypto.KeyObject): string {
  const privateKey = forge.pki.privateKeyFromPem(key.export({ type: 'pkcs8', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3_600_000);
  cert.setSubject([{ name: 'commonName', value: 'web' }]);
  cert.setIssuer([{ name: 'commonName', value: 'web' }]);
  cert.sign(privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}
