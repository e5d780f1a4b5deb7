// Encryption at rest (--encryption-provider-config), in Kubernetes' EncryptionConfiguration
// format: for each listed resource, an ordered list of providers; the first encrypts every
// write, and any of them decrypts what it wrote, found by the prefix it put on the value
// ("k8s:enc:aesgcm:v1:KEYNAME:"). `identity` writes JSON in clear. A value read through a
// provider or key that is not the first is "stale": the store rewrites it on the next update
// even when the object did not change, which is how keys are rotated.
//
// The transformer works at the storage boundary: the store keeps objects in clear in memory
// and hands only transformed values to SQLite.

import crypto from 'crypto';
import { findResource } from '@peapod/api';
import nacl from 'tweetnacl';
import YAML from 'yaml';

/** How the store turns an object's JSON into the bytes it keeps, and back. */
export interface ValueTransformer {
  toStorage(key: string, json: string): string | Buffer;
  /** stale: written by a provider or key that is no longer the first; the next write should replace it */
  fromStorage(key: string, stored: string | Buffer): { json: string; stale: boolean };
}

export class EncryptionConfigError extends Error {}

type ProviderType = 'aesgcm' | 'aescbc' | 'secretbox' | 'identity';

interface KeyedCipher {
  /** "k8s:enc:aesgcm:v1:key1:"; empty for identity */
  prefix: Buffer;
  encrypt(plain: Buffer, key: string): Buffer;
  decrypt(sealed: Buffer, key: string): Buffer;
}

const keyLengths: Record<Exclude<ProviderType, 'identity'>, number[]> = {
  aesgcm: [16, 24, 32],
  aescbc: [16, 24, 32],
  secretbox: [32],
};

function aesGcm(secret: Buffer): Pick<KeyedCipher, 'encrypt' | 'decrypt'> {
  const algorithm = `aes-${secret.length * 8}-gcm` as crypto.CipherGCMTypes;
  return {
    // The storage key is authenticated with the value, so a value moved to another key does not decrypt.
    encrypt(plain, key) {
      const nonce = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv(algorithm, secret, nonce);
      cipher.setAAD(Buffer.from(key));
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([nonce, body, cipher.getAuthTag()]);
    },
    decrypt(sealed, key) {
      if (sealed.length < 12 + 16) throw new Error('the data is too short');
      const decipher = crypto.createDecipheriv(algorithm, secret, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(key));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
    },
  };
}

function aesCbc(secret: Buffer): Pick<KeyedCipher, 'encrypt' | 'decrypt'> {
  const algorithm = `aes-${secret.length * 8}-cbc`;
  return {
    encrypt(plain) {
      const iv = crypto.randomBytes(16);
      const cipher = crypto.createCipheriv(algorithm, secret, iv);
      return Buffer.concat([iv, cipher.update(plain), cipher.final()]);
    },
    decrypt(sealed) {
      if (sealed.length < 32 || sealed.length % 16 !== 0) throw new Error('the data is not a whole number of blocks');
      const decipher = crypto.createDecipheriv(algorithm, secret, sealed.subarray(0, 16));
      return Buffer.concat([decipher.update(sealed.subarray(16)), decipher.final()]);
    },
  };
}

function secretbox(secret: Buffer): Pick<KeyedCipher, 'encrypt' | 'decrypt'> {
  const key = new Uint8Array(secret);
  return {
    encrypt(plain) {
      const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
      return Buffer.concat([nonce, nacl.secretbox(new Uint8Array(plain), nonce, key)]);
    },
    decrypt(sealed) {
      const n = nacl.secretbox.nonceLength;
      if (sealed.length < n + nacl.secretbox.overheadLength) throw new Error('the data is too short');
      const opened = nacl.secretbox.open(new Uint8Array(sealed.subarray(n)), new Uint8Array(sealed.subarray(0, n)), key);
      if (!opened) throw new Error('the data did not authenticate');
      return Buffer.from(opened);
    },
  };
}

const ciphers = { aesgcm: aesGcm, aescbc: aesCbc, secretbox };

type Json = Record<string, unknown>;

function asObject(x: unknown): Json | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Json) : undefined;
}

/** The ciphers of one provider entry, one per key, in order. */
function providerCiphers(entry: unknown, path: string): KeyedCipher[] {
  const e = asObject(entry);
  const types = Object.keys(e ?? {}).filter((k): k is ProviderType => k === 'aesgcm' || k === 'aescbc' || k === 'secretbox' || k === 'identity');
  const unknown = Object.keys(e ?? {}).filter((k) => !types.includes(k as ProviderType));
  if (unknown.length) throw new EncryptionConfigError(`${path}: unsupported provider ${JSON.stringify(unknown[0])} (supported: aesgcm, aescbc, secretbox, identity)`);
  if (types.length === 0) throw new EncryptionConfigError(`${path}: Required value: provider does not contain any of the expected providers: aesgcm, aescbc, secretbox, identity`);
  if (types.length > 1) throw new EncryptionConfigError(`${path}: Invalid value: more than one provider specified in a single element, should split into different list elements`);
  const type = types[0];
  if (type === 'identity') return [{ prefix: Buffer.alloc(0), encrypt: (p) => p, decrypt: (d) => d }];
  const keys = asObject(e![type])?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new EncryptionConfigError(`${path}.${type}.keys: Required value: ${type} provider should have at least one key`);
  const names = new Set<string>();
  return keys.map((k, i) => {
    const kp = `${path}.${type}.keys[${i}]`;
    const name = asObject(k)?.name;
    const secretText = asObject(k)?.secret;
    if (typeof name !== 'string' || name === '') throw new EncryptionConfigError(`${kp}.name: Required value: key name is required`);
    if (name.includes(':')) throw new EncryptionConfigError(`${kp}.name: Invalid value: ${JSON.stringify(name)}: should not contain ':'`);
    if (names.has(name)) throw new EncryptionConfigError(`${kp}.name: Duplicate value: ${JSON.stringify(name)}`);
    names.add(name);
    if (typeof secretText !== 'string' || secretText === '') throw new EncryptionConfigError(`${kp}.secret: Required value: secret is required`);
    const secret = Buffer.from(secretText, 'base64');
    if (secret.toString('base64') !== secretText.replace(/\s/g, '')) throw new EncryptionConfigError(`${kp}.secret: Invalid value: "REDACTED": secrets must be base64 encoded`);
    const lengths = keyLengths[type];
    if (!lengths.includes(secret.length)) {
      throw new EncryptionConfigError(`${kp}.secret: Invalid value: "REDACTED": secret is not of the expected length, got ${secret.length}, expected one of [${lengths.join(' ')}]`);
    }
    return { prefix: Buffer.from(`k8s:enc:${type}:v1:${name}:`), ...ciphers[type](secret) };
  });
}

/**
 * What the configuration says for each resource it names: "secrets", "leases.coordination.k8s.io",
 * "*." (the core group), "*.GROUP" or "*.*" (everything).
 */
export interface EncryptionConfig {
  /** resource → ciphers, the first one writing */
  resources: Map<string, KeyedCipher[]>;
}

/** Reads an EncryptionConfiguration (YAML or JSON), as kube-apiserver accepts it. */
export function parseEncryptionConfig(text: string, source = 'encryption provider config'): EncryptionConfig {
  let doc: Json | undefined;
  try {
    doc = asObject(YAML.parse(text));
  } catch (err) {
    throw new EncryptionConfigError(`${source}: not YAML or JSON: ${(err as Error).message}`);
  }
  if (!doc || doc.kind !== 'EncryptionConfiguration' || (doc.apiVersion !== 'apiserver.config.k8s.io/v1' && doc.apiVersion !== 'apiserver.config.k8s.io/v1beta1')) {
    throw new EncryptionConfigError(`${source}: expected kind EncryptionConfiguration of apiVersion apiserver.config.k8s.io/v1`);
  }
  if (!Array.isArray(doc.resources) || doc.resources.length === 0) throw new EncryptionConfigError(`${source}: resources: Required value: resources is a required field`);
  const resources = new Map<string, KeyedCipher[]>();
  doc.resources.forEach((entry, i) => {
    const path = `resources[${i}]`;
    const names = asObject(entry)?.resources;
    const providers = asObject(entry)?.providers;
    if (!Array.isArray(names) || names.length === 0) throw new EncryptionConfigError(`${path}.resources: Required value: resources is a required field`);
    if (!Array.isArray(providers) || providers.length === 0) throw new EncryptionConfigError(`${path}.providers: Required value: providers is a required field`);
    const list = providers.flatMap((p, j) => providerCiphers(p, `${path}.providers[${j}]`));
    for (const name of names) {
      if (typeof name !== 'string' || name === '') throw new EncryptionConfigError(`${path}.resources: Invalid value: resource names must be strings`);
      // As in Kubernetes, the first entry that names a resource is the one that applies.
      if (!resources.has(name)) resources.set(name, list);
    }
  });
  return { resources };
}

/** Parses the storage key "/secrets/ns/name" (or "/leases.coordination.k8s.io/...") into its resource. */
function resourceOf(key: string): string {
  const end = key.indexOf('/', 1);
  return end < 0 ? key.slice(1) : key.slice(1, end);
}

const encPrefix = Buffer.from('k8s:enc:');

/** The ciphers the configuration gives a resource (its plural, as storage keys name it). */
function lookup(config: EncryptionConfig, plural: string): KeyedCipher[] | undefined {
  const group = findResource(plural)?.group ?? '';
  const qualified = group ? `${plural}.${group}` : plural;
  return config.resources.get(qualified) ?? config.resources.get(`*.${group}`) ?? config.resources.get('*.*');
}

/** The transformer of a configuration, by the resource of each storage key. */
export function encryptionTransformer(config: EncryptionConfig): ValueTransformer {
  const byResource = new Map<string, KeyedCipher[] | undefined>();
  const ciphersFor = (key: string): KeyedCipher[] | undefined => {
    const resource = resourceOf(key);
    if (!byResource.has(resource)) byResource.set(resource, lookup(config, resource));
    return byResource.get(resource);
  };
  return {
    toStorage(key, json) {
      const list = ciphersFor(key);
      const primary = list?.[0];
      if (!primary || primary.prefix.length === 0) return json;
      return Buffer.concat([primary.prefix, primary.encrypt(Buffer.from(json, 'utf8'), key)]);
    },
    fromStorage(key, stored) {
      const list = ciphersFor(key) ?? [];
      const data = typeof stored === 'string' ? Buffer.from(stored, 'utf8') : stored;
      const encrypted = data.subarray(0, encPrefix.length).equals(encPrefix);
      for (let i = 0; i < list.length; i++) {
        const c = list[i];
        // identity reads only what is not encrypted; the others what carries their prefix.
        if (c.prefix.length === 0 ? encrypted : !data.subarray(0, c.prefix.length).equals(c.prefix)) continue;
        let plain: Buffer;
        try {
          plain = c.decrypt(data.subarray(c.prefix.length), key);
        } catch (err) {
          throw new Error(`${key}: cannot decrypt with ${c.prefix.toString() || 'identity'}: ${(err as Error).message}`);
        }
        return { json: plain.toString('utf8'), stale: i !== 0 };
      }
      if (!encrypted && list.length === 0) return { json: data.toString('utf8'), stale: false };
      const written = encrypted ? data.subarray(0, Math.min(data.length, 64)).toString('latin1').split(':').slice(0, 5).join(':') : 'identity (unencrypted)';
      throw new Error(`${key}: no provider of the encryption configuration reads values written by ${written}: list it in --encryption-provider-config`);
    },
  };
}
