import fc from 'fast-check';
import { formatBytes, formatCpuMillis, isValidQuantity, parseBytes, parseCpuMillis, parseQuantity } from './quantity';

describe('parseQuantity', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['1', 1],
    ['+1', 1],
    ['-1', -1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['5.', 5],
    ['100m', 0.1],
    ['1k', 1000],
    ['1M', 1e6],
    ['2G', 2e9],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1E', 1e18],
    ['1Ki', 1024],
    ['64Mi', 64 * 2 ** 20],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['1Ti', 2 ** 40],
    ['1Pi', 2 ** 50],
    ['1Ei', 2 ** 60],
    ['1e3', 1000],
    ['1E3', 1000],
    ['12e-1', 1.2],
    ['500u', 0.0005],
    ['5n', 5e-9],
  ])('%s = %d', (s, v) => {
    expect(parseQuantity(s)).toBeCloseTo(v, 12);
  });

  it.each(['', ' 1', '1 ', 'abc', '1KI', '1ki', '1K', '1.2.3', '--1', '1e', 'e3', '1Mi5', '.', 'm', '1e9999'])(
    'rejects %j',
    (s) => {
      expect(() => parseQuantity(s)).toThrow(/quantit/);
      expect(isValidQuantity(s)).toBe(false);
    },
  );

  it('accepts what it formats', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), (n) => {
        expect(parseBytes(formatBytes(n))).toBe(n);
        expect(parseCpuMillis(formatCpuMillis(n))).toBe(n);
      }),
    );
  });
});

describe('parseCpuMillis', () => {
  it.each<[string, number]>([
    ['250m', 250],
    ['0.1', 100],
    ['0.3', 300],
    ['1', 1000],
    ['2.5', 2500],
    ['1.0001', 1001],
    ['0.5m', 1],
    ['1e-3', 1],
    ['-100m', -100],
  ])('%s = %d', (s, v) => {
    expect(parseCpuMillis(s)).toBe(v);
  });
});

describe('parseBytes', () => {
  it.each<[string, number]>([
    ['128974848', 128974848],
    ['129e6', 129000000],
    ['129M', 129000000],
    ['123Mi', 128974848],
    ['1.5Ki', 1536],
    ['0.5', 1],
    ['1k', 1000],
  ])('%s = %d', (s, v) => {
    expect(parseBytes(s)).toBe(v);
  });
});

describe('formatting', () => {
  it('formats millicores', () => {
    expect(formatCpuMillis(250)).toBe('250m');
    expect(formatCpuMillis(2000)).toBe('2');
    expect(formatCpuMillis(0)).toBe('0');
    expect(formatCpuMillis(1500)).toBe('1500m');
  });

  it('formats bytes', () => {
    expect(formatBytes(64 * 2 ** 20)).toBe('64Mi');
    expect(formatBytes(2 ** 30)).toBe('1Gi');
    expect(formatBytes(1536)).toBe('1536');
    expect(formatBytes(1000)).toBe('1000');
    expect(formatBytes(0)).toBe('0');
    expect(formatBytes(3 * 2 ** 60)).toBe('3Ei');
  });
});
