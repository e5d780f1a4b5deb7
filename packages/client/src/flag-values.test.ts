import { formatGoDuration, parseBool, parseDuration } from './flag-values';

test.each([
  ['40s', 40_000],
  ['5m', 300_000],
  ['300ms', 300],
  ['1h30m', 5_400_000],
  ['1.5s', 1500],
  ['2m0.5s', 120_500],
  ['0', 0],
  ['500us', 0.5],
])('parses %s', (text, ms) => {
  expect(parseDuration(text)).toBe(ms);
});

test.each(['', '40', 's', '-5s', '5 s', '5d', '1m-2s'])('rejects %j', (text) => {
  expect(() => parseDuration(text)).toThrow(/invalid duration/);
});

test('formats like Go', () => {
  expect(formatGoDuration(40_000)).toBe('40s');
  expect(formatGoDuration(90_000)).toBe('1m30s');
  expect(formatGoDuration(300)).toBe('300ms');
  expect(formatGoDuration(3_600_000)).toBe('1h0m0s');
});

describe('parseBool', () => {
  it("reads Go's strconv.ParseBool words", () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseBool(t)).toBe(true);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseBool(f)).toBe(false);
    expect(() => parseBool('yes')).toThrow('strconv.ParseBool: parsing "yes": invalid syntax');
  });
});
