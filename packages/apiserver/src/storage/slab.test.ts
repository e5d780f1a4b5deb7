import crypto from 'crypto';
import { Slab } from './slab';

describe('Slab', () => {
  test('buffers it hands out do not overlap and keep their bytes while later ones are taken', () => {
    const slab = new Slab(4096);
    const taken = Array.from({ length: 400 }, (_, i) => {
      const bytes = crypto.randomBytes((i * 37) % 700);
      const b = slab.take(bytes.length);
      bytes.copy(b);
      return { b, bytes };
    });
    for (const { b, bytes } of taken) expect(b.equals(bytes)).toBe(true);
  });

  test('a buffer over an eighth of a slab gets memory of its own; smaller ones share slabs', () => {
    const slab = new Slab(4096);
    const big = slab.take(513);
    expect(big.length).toBe(513);
    expect(big.buffer.byteLength).toBe(513);
    const a = slab.take(100);
    const b = slab.take(100);
    expect(a.buffer).toBe(b.buffer);
    expect(a.buffer.byteLength).toBe(4096);
    expect(b.byteOffset).toBe(a.byteOffset + 100);
  });
});
