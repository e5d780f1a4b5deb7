// The key pair that signs service account tokens. Given as files (--service-account-signing-key-file,
// and --service-account-key-file for more keys that tokens may have been signed with), or else
// generated on the first start into the data directory (mode 0600) and reused afterwards, so
// tokens survive a restart.

import crypto from 'crypto';
import fs from 'fs';
import path from 'path';

export interface ServiceAccountKeys {
  /** signs new tokens */
  signing: crypto.KeyObject;
  /** "RS256" or "ES256", from the signing key's type */
  algorithm: 'RS256' | 'ES256';
  /** the key id put in each token's header */
  keyId: string;
  /** every public key a token may be verified with, by key id */
  verifying: Map<string, crypto.KeyObject>;
}

export const generatedKeyFile = 'service-account.key';

/** Kubernetes' key id: the unpadded base64url of the SHA-256 of the public key's DER (PKIX). */
export function keyIdOf(publicKey: crypto.KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

function algorithmOf(key: crypto.KeyObject, source: string): 'RS256' | 'ES256' {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(`${source}: a service account key must be RSA or EC P-256`);
}

/** Every PEM block of a file that holds a key, public or private. */
function publicKeysIn(file: string): crypto.KeyObject[] {
  const text = fs.readFileSync(file, 'utf8');
  const blocks = text.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
  const keys = blocks.filter((b) => b.includes('KEY-----')).map((b) => crypto.createPublicKey(b));
  if (keys.length === 0) throw new Error(`${file}: no PEM key in it`);
  return keys;
}

function readOrCreate(dataDir: string | undefined): crypto.KeyObject {
  const file = dataDir ? path.join(dataDir, generatedKeyFile) : undefined;
  if (file && fs.existsSync(file)) return crypto.createPrivateKey(fs.readFileSync(file));
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (file) {
    // Written beside the target and renamed: a reader never sees half a key.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  return privateKey;
}

export interface ServiceAccountKeyOptions {
  signingKeyFile?: string;
  keyFiles?: string[];
  /** where a generated key is kept; undefined keeps it in memory only */
  dataDir?: string;
}

export function loadServiceAccountKeys(opts: ServiceAccountKeyOptions): ServiceAccountKeys {
  const signing = opts.signingKeyFile ? crypto.createPrivateKey(fs.readFileSync(opts.signingKeyFile)) : readOrCreate(opts.dataDir);
  const algorithm = algorithmOf(signing, opts.signingKeyFile ?? generatedKeyFile);
  const signingPublic = crypto.createPublicKey(signing);
  const verifying = new Map<string, crypto.KeyObject>([[keyIdOf(signingPublic), signingPublic]]);
  for (const file of opts.keyFiles ?? []) {
    for (const key of publicKeysIn(file)) {
      algorithmOf(key, file);
      verifying.set(keyIdOf(key), key);
    }
  }
  return { signing, algorithm, keyId: keyIdOf(signingPublic), verifying };
}
