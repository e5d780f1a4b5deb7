import crypto from 'crypto';
import { EncryptionConfigError, encryptionTransformer, parseEncryptionConfig } from './encryption';

const key32 = crypto.randomBytes(32).toString('base64');
const key16 = crypto.randomBytes(16).toString('base64');

function config(providers: string, resources = '[secrets]'): string {
  return `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: ${resources}\n    providers:\n${providers}`;
}

const provider = (type: string, name: string, secret: string) => `      - ${type}:\n          keys:\n            - name: ${name}\n              secret: "${secret}"\n`;
const identity = '      - identity: {}\n';
const json = JSON.stringify({ kind: 'Secret', data: { password: 'c2VjcmV0' } });
const key = '/secrets/default/s';

describe('the EncryptionConfiguration file', () => {
  test.each([
    ['not the kind', 'kind: Other\n', 'expected kind EncryptionConfiguration'],
    ['a key of the wrong length', config(provider('aesgcm', 'k', crypto.randomBytes(10).toString('base64'))), 'secret is not of the expected length, got 10, expected one of [16 24 32]'],
    ['secretbox with a 16-byte key', config(provider('secretbox', 'k', key16)), 'got 16, expected one of [32]'],
    ['no keys', config('      - aescbc:\n          keys: []\n'), 'resources[0].providers[0].aescbc.keys: Required value: aescbc provider should have at least one key'],
    ['two providers in one element', config(`      - aesgcm:\n          keys: [{name: a, secret: "${key32}"}]\n        identity: {}\n`), 'more than one provider specified in a single element'],
    ['an unknown provider', config('      - kms: {}\n'), 'unsupported provider "kms"'],
    ['a duplicate key name', config(`      - aesgcm:\n          keys: [{name: a, secret: "${key32}"}, {name: a, secret: "${key32}"}]\n`), 'Duplicate value: "a"'],
    ['a secret that is not base64', config(provider('aesgcm', 'k', 'not base64!')), 'secrets must be base64 encoded'],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseEncryptionConfig(text)).toThrow(EncryptionConfigError);
    expect(() => parseEncryptionConfig(text)).toThrow(message);
  });
});

describe('the transformer', () => {
  test.each([
    ['aesgcm', key32],
    ['aesgcm', key16],
    ['aescbc', key32],
    ['secretbox', key32],
  ])('%s writes k8s:enc:%s:v1:NAME: and reads it back', (type, secret) => {
    const t = encryptionTransformer(parseEncryptionConfig(config(provider(type, 'key1', secret))));
    const stored = t.toStorage(key, json) as Buffer;
    expect(Buffer.isBuffer(stored)).toBe(true);
    expect(stored.subarray(0, `k8s:enc:${type}:v1:key1:`.length).toString()).toBe(`k8s:enc:${type}:v1:key1:`);
    expect(stored.includes(Buffer.from('c2VjcmV0'))).toBe(false);
    // A fresh nonce each time: the same object never gives the same bytes.
    expect((t.toStorage(key, json) as Buffer).equals(stored)).toBe(false);
    expect(t.fromStorage(key, stored)).toEqual({ json, stale: false });
  });

  test('aesgcm binds a value to its key: moved to another object, it does not decrypt', () => {
    const t = encryptionTransformer(parseEncryptionConfig(config(provider('aesgcm', 'k', key32))));
    const stored = t.toStorage(key, json);
    expect(() => t.fromStorage('/secrets/default/other', stored)).toThrow(/cannot decrypt/);
  });

  test('every provider reads; the first writes; what another wrote is stale', () => {
    const other = crypto.randomBytes(32).toString('base64');
    const old = encryptionTransformer(parseEncryptionConfig(config(provider('aesgcm', 'old', other))));
    const written = old.toStorage(key, json);
    const rotated = encryptionTransformer(parseEncryptionConfig(config(provider('secretbox', 'new', key32) + provider('aesgcm', 'old', other) + identity)));
    expect(rotated.fromStorage(key, written)).toEqual({ json, stale: true });
    expect(rotated.fromStorage(key, json)).toEqual({ json, stale: true });
    expect(rotated.fromStorage(key, rotated.toStorage(key, json))).toEqual({ json, stale: false });
    // identity first: values are written in clear, and encrypted ones are still read.
    const decrypting = encryptionTransformer(parseEncryptionConfig(config(identity + provider('aesgcm', 'old', other))));
    expect(decrypting.toStorage(key, json)).toBe(json);
    expect(decrypting.fromStorage(key, written)).toEqual({ json, stale: true });
  });

  test('what no listed provider wrote is an error naming it, not a silent loss', () => {
    const t = encryptionTransformer(parseEncryptionConfig(config(provider('aesgcm', 'k', key32))));
    expect(() => t.fromStorage(key, json)).toThrow('no provider of the encryption configuration reads values written by identity (unencrypted)');
    const other = encryptionTransformer(parseEncryptionConfig(config(provider('aescbc', 'x', key32))));
    expect(() => t.fromStorage(key, other.toStorage(key, json))).toThrow('written by k8s:enc:aescbc:v1:x');
  });

  test('resources not listed are kept in clear; "*." covers the core group and "*.*" everything', () => {
    const t = encryptionTransformer(parseEncryptionConfig(config(provider('aesgcm', 'k', key32))));
    expect(t.toStorage('/configmaps/default/c', json)).toBe(json);
    const core = encryptionTransformer(parseEncryptionConfig(config(provider('aesgcm', 'k', key32), '["*."]')));
    expect(Buffer.isBuffer(core.toStorage('/configmaps/default/c', json))).toBe(true);
    expect(core.toStorage('/leases/kube-node-lease/n1', json)).toBe(json);
    const all = encryptionTransformer(parseEncryptionConfig(config(provider('aesgcm', 'k', key32), '["*.*"]')));
    expect(Buffer.isBuffer(all.toStorage('/leases/kube-node-lease/n1', json))).toBe(true);
    const lease = encryptionTransformer(parseEncryptionConfig(config(provider('aesgcm', 'k', key32), '[leases.coordination.k8s.io]')));
    expect(Buffer.isBuffer(lease.toStorage('/leases/kube-node-lease/n1', json))).toBe(true);
  });
});
