import * as fc from 'fast-check';
import { withoutManagedFields } from './managed-fields';
import { WatchDecoder } from './watch';

const managedFields = [
  {
    manager: 'peapod-client',
    operation: 'Update',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': { 'f:ownerReferences': { 'k:{"uid":"rc-1"}': { '.': {}, 'f:uid': {} } } }, 'f:spec': { 'f:containers': {} } },
  },
];

function podEvent(metadata: Record<string, unknown>): { type: string; object: Record<string, unknown> } {
  return { type: 'MODIFIED', object: { apiVersion: 'v1', kind: 'Pod', metadata, spec: { nodeName: 'node-1' } } };
}

/** The event as parsed after the cut. */
function cut(event: unknown): unknown {
  return JSON.parse(withoutManagedFields(JSON.stringify(event)));
}

describe('withoutManagedFields', () => {
  it("cuts the object's metadata.managedFields, wherever it stands among the metadata", () => {
    const expected = podEvent({ name: 'a', uid: 'u' });
    expect(cut(podEvent({ name: 'a', managedFields, uid: 'u' }))).toEqual(expected);
    expect(cut(podEvent({ managedFields, name: 'a', uid: 'u' }))).toEqual(expected);
    expect(cut(podEvent({ name: 'a', uid: 'u', managedFields }))).toEqual(expected);
    expect(cut(podEvent({ managedFields }))).toEqual(podEvent({}));
  });

  it('leaves the text alone when managedFields is elsewhere, not an array, or absent', () => {
    const texts = [
      JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' }, spec: { managedFields: [1] } } }),
      JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', annotations: { managedFields: '[1]' } } } }),
      JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', managedFields: null } } }),
      JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'x"managedFields":[' } } }),
      JSON.stringify({ type: 'ADDED', object: { metadata: { 'x"managedFields': [1] } } }),
      JSON.stringify({ type: 'ADDED', managedFields: [1], object: { metadata: { name: 'a' } } }),
      JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }),
      '{"type":"ADDED","object":{"metadata":{"managedFields":[{"a":"]"}',
    ];
    for (const text of texts) expect(withoutManagedFields(text)).toBe(text);
  });

  it('finds the end of managedFields past brackets, quotes and backslashes inside its strings', () => {
    const tricky = [{ manager: 'a]b}c', fieldsV1: { 'k:{"name":"x\\\\"}': {}, '\\"]': { '"': ['[', '\\'] } } }];
    expect(cut(podEvent({ name: 'a\\', managedFields: tricky, labels: { 'b]': '"}' } }))).toEqual(podEvent({ name: 'a\\', labels: { 'b]': '"}' } }));
  });

  it('gives what parsing and deleting managedFields gives, for any metadata', () => {
    const entry = fc.tuple(fc.string().filter((k) => k !== 'managedFields' && k !== '__proto__'), fc.jsonValue());
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), fc.nat(6), fc.array(fc.jsonValue(), { maxLength: 4 }), fc.jsonValue(), (entries, position, fields, spec) => {
        const others = Object.fromEntries(entries);
        const keys = Object.keys(others);
        const at = Math.min(position, keys.length);
        const metadata: Record<string, unknown> = {};
        keys.slice(0, at).forEach((k) => (metadata[k] = others[k]));
        metadata.managedFields = fields;
        keys.slice(at).forEach((k) => (metadata[k] = others[k]));
        const event = { type: 'ADDED', object: { apiVersion: 'v1', metadata, spec } };
        // Through JSON both ways, as the cut text is (-0 becomes 0).
        const expected: unknown = JSON.parse(JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', metadata: others, spec } }));
        expect(cut(event)).toEqual(expected);
      }),
    );
  });

  it('is applied by a WatchDecoder asked to drop managedFields, and only then', () => {
    const line = JSON.stringify(podEvent({ name: 'a', managedFields })) + '\n';
    expect(new WatchDecoder({ dropManagedFields: true }).push(line)).toEqual([podEvent({ name: 'a' })]);
    expect(new WatchDecoder().push(line)).toEqual([podEvent({ name: 'a', managedFields })]);
  });
});
