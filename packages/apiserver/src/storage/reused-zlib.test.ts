import crypto from 'crypto';
import zlib from 'zlib';
import { gzipOptions } from './compression';
import { ReusedGzip } from './reused-zlib';

jest.mock('zlib', () => {
  const actual = jest.requireActual<typeof zlib>('zlib');
  return { ...actual, createGzip: jest.fn(actual.createGzip) };
});

const text = (n: number) => JSON.stringify({ data: Array.from({ length: n }, (_, i) => `é${i % 97}${crypto.randomBytes(2).toString('hex')}`).join(',') });
const values = ['{}', text(10), text(300), text(2000), text(20000), JSON.stringify({ a: 'x'.repeat(300000) }), text(3), text(700)];

describe('ReusedGzip', () => {
  test('gives the bytes zlib.gzipSync gives, value after value, whatever their sizes', () => {
    const gz = new ReusedGzip(gzipOptions);
    for (let round = 0; round < 3; round++) {
      for (const value of values) {
        const bytes = Buffer.from(value);
        expect(gz.gzip(value).equals(zlib.gzipSync(bytes, gzipOptions(bytes.length)))).toBe(true);
      }
    }
  });

  test('reads back what it wrote, and what zlib wrote with any setting', () => {
    const gz = new ReusedGzip(gzipOptions);
    for (const value of values) {
      expect(gz.gunzip(gz.gzip(value))).toBe(value);
      expect(gz.gunzip(zlib.gzipSync(value, { level: 9 }))).toBe(value);
    }
  });

  test('values it handed out stay as they were while later ones are made', () => {
    const gz = new ReusedGzip(gzipOptions);
    const made = Array.from({ length: 600 }, (_, i) => {
      const value = text(50 + (i % 7) * 40);
      return { value, stored: gz.gzip(value) };
    });
    for (const { value, stored } of made) expect(zlib.gunzipSync(stored).toString()).toBe(value);
  });

  test('one zlib stream per setting, not one per value', () => {
    const createGzip = zlib.createGzip as jest.Mock;
    createGzip.mockClear();
    const gz = new ReusedGzip(gzipOptions);
    for (let i = 0; i < 200; i++) gz.gzip(text(100));
    expect(createGzip).toHaveBeenCalledTimes(1);
    gz.gzip(text(5000));
    expect(createGzip).toHaveBeenCalledTimes(2);
  });

  test('what is not gzip, or is cut short, throws as zlib does, and the next value is read as before', () => {
    const gz = new ReusedGzip(gzipOptions);
    const whole = gz.gzip(text(500));
    expect(() => gz.gunzip(whole.subarray(0, whole.length - 10))).toThrow(/unexpected end of file/);
    expect(() => gz.gunzip(Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toThrow();
    const value = text(400);
    expect(gz.gunzip(gz.gzip(value))).toBe(value);
  });
});
