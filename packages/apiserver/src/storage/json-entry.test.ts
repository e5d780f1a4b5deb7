import { packEntry, ParsedOnRead, unpackEntry } from './json-entry';

describe('packEntry', () => {
  it('keeps a revision and JSON in one string that reads back as the same entry', () => {
    const object = { metadata: { name: 'e', resourceVersion: '42' }, message: 'line one\nline two ✓', note: '\\n' };
    const json = JSON.stringify(object);
    const entry = unpackEntry('/events/ns/e', packEntry(42, json));
    expect(entry).toBeInstanceOf(ParsedOnRead);
    expect([entry.key, entry.rev, entry.json]).toEqual(['/events/ns/e', 42, json]);
    expect(entry.object).toEqual(object);
    expect(entry.selectable).toBeUndefined();
  });
});
