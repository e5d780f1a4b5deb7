import crypto from 'crypto';
import zlib from 'zlib';
import { etcdTransformer, gzipOptions } from './compression';
import { encryptionTransformer, parseEncryptionConfig } from './encryption';

const json = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } }, spec: { containers: ['a', 'b', 'c'].map((name) => ({ name, image: 'busybox', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' })) } });

function encryption(resources: string[], providers: unknown[]) {
  const text = JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources, providers }] });
  return encryptionTransformer(parseEncryptionConfig(text, 'test'));
}

const secretbox = () => ({ secretbox: { keys: [{ name: 'k1', secret: crypto.randomBytes(32).toString('base64') }] } });

describe("etcdTransformer('gzip')", () => {
  test('keeps gzip that gunzip reads, smaller than the JSON, and reads it back', () => {
    const t = etcdTransformer('gzip');
    const stored = t.toStorage('/pods/default/web', json) as Buffer;
    expect(Buffer.isBuffer(stored)).toBe(true);
    expect(stored.length).toBeLessThan(json.length / 2);
    expect(zlib.gunzipSync(stored).toString()).toBe(json);
    expect(t.fromStorage('/pods/default/web', stored)).toEqual({ json, stale: false });
  });

  test('values of every size, multi-byte text included, come back whole, and no bigger than with zlib\'s largest window', () => {
    const t = etcdTransformer('gzip');
    const text = (n: number) => JSON.stringify({ data: Array.from({ length: n }, (_, i) => `é${i % 97}${crypto.randomBytes(1).toString('hex')}`).join(',') });
    for (const value of ['{}', json, text(100), text(1000), text(5000), text(40000), JSON.stringify({ a: 'x'.repeat(70000) })]) {
      const stored = t.toStorage('/configmaps/default/c', value) as Buffer;
      expect(t.fromStorage('/configmaps/default/c', stored).json).toBe(value);
      expect(stored.length).toBeLessThanOrEqual(zlib.gzipSync(value, { level: 1 }).length);
    }
  });

  test('a small value gets a window no bigger than it needs', () => {
    expect(gzipOptions(400)).toEqual({ level: 1, windowBits: 10, memLevel: 3 });
    expect(gzipOptions(2600)).toMatchObject({ windowBits: 12, memLevel: 5 });
    expect(gzipOptions(5000)).toEqual({ level: 1, windowBits: 13, memLevel: 6 });
    expect(gzipOptions(1_000_000)).toEqual({ level: 1, windowBits: 15, memLevel: 8 });
  });

  test('reads JSON written without compression, as a string or as bytes', () => {
    const t = etcdTransformer('gzip');
    expect(t.fromStorage('/pods/default/web', json).json).toBe(json);
    expect(t.fromStorage('/pods/default/web', Buffer.from(json)).json).toBe(json);
  });

  test('encrypted values are not compressed; what the configuration keeps in clear is', () => {
    const t = etcdTransformer('gzip', encryption(['secrets'], [secretbox(), { identity: {} }]));
    const secret = t.toStorage('/secrets/default/s', json) as Buffer;
    expect(secret.subarray(0, 'k8s:enc:secretbox:v1:k1:'.length).toString()).toBe('k8s:enc:secretbox:v1:k1:');
    expect(t.fromStorage('/secrets/default/s', secret).json).toBe(json);
    const pod = t.toStorage('/pods/default/web', json) as Buffer;
    expect(zlib.gunzipSync(pod).toString()).toBe(json);
    // A secret written in clear and gzipped before encryption was configured: read, and stale.
    expect(t.fromStorage('/secrets/default/s', etcdTransformer('gzip').toStorage('/secrets/default/s', json))).toEqual({ json, stale: true });
  });

  test('a configuration without identity refuses a gzipped value in clear as it refuses JSON', () => {
    const t = etcdTransformer('gzip', encryption(['secrets'], [secretbox()]));
    const inClear = etcdTransformer('gzip').toStorage('/secrets/default/s', json);
    expect(() => t.fromStorage('/secrets/default/s', inClear)).toThrow(/no provider .* reads values written by identity/);
  });
});

describe("etcdTransformer('none')", () => {
  test('keeps JSON, or what encryption makes of it, and still reads gzipped values', () => {
    const t = etcdTransformer('none');
    expect(t.toStorage('/pods/default/web', json)).toBe(json);
    expect(t.fromStorage('/pods/default/web', etcdTransformer('gzip').toStorage('/pods/default/web', json)).json).toBe(json);
    const enc = etcdTransformer('none', encryption(['secrets'], [secretbox()]));
    const secret = enc.toStorage('/secrets/default/s', json) as Buffer;
    expect(secret.subarray(0, 8).toString()).toBe('k8s:enc:');
    expect(enc.fromStorage('/secrets/default/s', secret).json).toBe(json);
  });
});
