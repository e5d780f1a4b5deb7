// Buffers handed out as slices of large ones. Memory outside V8's heap is reported to V8 when
// it is made, and while V8 marks a large heap with that memory over its limit, each report
// makes the caller mark for milliseconds; Node's own pool is 8 KiB, made anew every few etcd
// calls, and a buffer of 4 KiB or more is memory of its own. Made a slab at a time, it is
// reported once for about a hundred values. A slab lives while any of its slices does, so
// one slab serves bytes that live about as long as each other.

/** A slab serves about a hundred etcd requests or stored pods; a buffer over an eighth of it gets memory of its own. */
const defaultSlabBytes = 256 * 1024;

export class Slab {
  private slab: Buffer = Buffer.allocUnsafeSlow(0);
  private used = 0;

  constructor(private readonly slabBytes = defaultSlabBytes) {}

  /** A buffer of `bytes`, not zeroed. */
  take(bytes: number): Buffer {
    if (bytes > this.slabBytes / 8) return Buffer.allocUnsafeSlow(bytes);
    if (this.used + bytes > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.used = 0;
    }
    const taken = this.slab.subarray(this.used, this.used + bytes);
    this.used += bytes;
    return taken;
  }

  /** A copy of `bytes`. */
  copy(bytes: Buffer): Buffer {
    const copied = this.take(bytes.length);
    bytes.copy(copied);
    return copied;
  }
}
