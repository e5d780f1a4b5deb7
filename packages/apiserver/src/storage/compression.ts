// Values in etcd gzipped (--etcd-compression gzip, the default). An object's JSON shrinks to
// about 40% (a stored pod 2.6 KB to 1.05 KB), and etcd's work per write goes with the bytes
// it replicates, logs and keeps: on this project's machine a create transaction of the stored
// pod cost etcd about 0.07 ms less CPU gzipped (0.40 against 0.47 ms), for 0.02 to 0.04 ms
// of the API server's to compress it. It also keeps the database, its snapshots and the watch
// stream at 40%, against etcd's space quota. Gzip rather than a bare deflate stream so that an
// operator can read a value with gunzip (from `etcdctl get KEY -w json`), and so that a
// value is told apart by its first bytes: JSON starts with `{`, an encrypted value with
// `k8s:enc:`. SQLite keeps JSON: its values stay on the machine, and a create there costs the
// server about a third of what it does on etcd, so the compression's CPU would show.

import zlib from 'zlib';
import type { ValueTransformer } from './encryption';
import { ReusedGzip } from './reused-zlib';

export type Compression = 'gzip' | 'none';

const gzipMagic = [0x1f, 0x8b];
/** The fastest level: at 6 a pod compresses 5% smaller for a fifth more CPU. */
const level = 1;
/** deflate looks this far past a position, so its window must hold the value and this much more for nothing to be lost */
const lookahead = 262;
/**
 * zlib's settings for a value of `bytes`: a window (and hash table) no bigger than the value
 * needs (the values tried, pods, leases and larger ones, came out the same size as with the
 * largest). With zlib's defaults every value got a 64 KiB window and a 64 KiB hash table
 * cleared for it, and 128 KiB more: on the API server under the envelope's writes (1,800 a
 * second, mostly small leases and statuses) compression took 12% of its CPU.
 */
export function gzipOptions(bytes: number): zlib.ZlibOptions {
  let windowBits = 9;
  while (windowBits < 15 && 2 ** windowBits < bytes + lookahead) windowBits++;
  return { level, windowBits, memLevel: Math.min(8, windowBits - 7) };
}

function gzipped(value: string | Buffer): value is Buffer {
  return typeof value !== 'string' && value.length > 2 && value[0] === gzipMagic[0] && value[1] === gzipMagic[1];
}

/** JSON as it is kept in clear, with no encryption configured. */
const inClear: ValueTransformer = {
  toStorage: (_key, json) => json,
  fromStorage: (_key, stored) => ({ json: stored.toString(), stale: false }),
};

/**
 * The etcd backend's transformer: `encryption`'s (if any), with what it keeps in clear
 * gzipped unless compression is 'none'. Encrypted values are not compressed: compressing
 * before encrypting would let a value's length tell of its content. Values are read whichever
 * way they were written, so switching compression on or off needs no migration; a gzipped
 * value then passes through `encryption` as JSON in clear (which a configuration without
 * `identity` refuses, as it refuses any value in clear).
 */
export function etcdTransformer(compression: Compression, encryption: ValueTransformer = inClear): ValueTransformer {
  const gzip = new ReusedGzip(gzipOptions);
  return {
    toStorage(key, json) {
      const stored = encryption.toStorage(key, json);
      if (compression !== 'gzip' || typeof stored !== 'string') return stored;
      return gzip.gzip(stored);
    },
    fromStorage(key, stored) {
      return encryption.fromStorage(key, gzipped(stored) ? gzip.gunzip(stored) : stored);
    },
  };
}
