import fs from 'fs';
import path from 'path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { resources, groupVersion } from '../resources';
import { definitions } from '../schemas';
import { protoRoot } from './messages';
import {
  decodeObject,
  decodeWatchEvent,
  encodeList,
  encodeMessage,
  encodeObject,
  encodeWatchEvent,
  envelope,
  frame,
  FrameReader,
  hasProtobufForm,
  ProtobufConversionError,
  ProtobufDecodeError,
  unwrap,
} from './codec';
import { roundTripObjects } from '../testing/wire-objects';

type Json = Record<string, unknown>;

interface KubectlBody {
  name: string;
  command: string[];
  body: string;
  json: Json;
}

/** Go writes the zero time as null; we leave it out: the same to every reader. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
}

const kubectlBodies = JSON.parse(fs.readFileSync(path.join(__dirname, 'testdata/kubectl-bodies.json'), 'utf8')) as KubectlBody[];

describe('bodies the real kubectl sent (testdata/kubectl-bodies.json)', () => {
  test.each(kubectlBodies.map((b) => [b.name, b] as const))('%s: our encoding is byte for byte kubectl\'s, and decodes to the object it meant', (_name, fixture) => {
    const sent = Buffer.from(fixture.body, 'base64');
    expect(encodeObject(fixture.json).toString('hex')).toBe(sent.toString('hex'));
    expect(decodeObject(sent)).toEqual(withoutNulls(fixture.json));
  });

  test('they cover the kinds kubectl writes in protobuf', () => {
    expect(kubectlBodies.map((b) => b.name).sort()).toEqual(
      ['ConfigMap', 'DeleteOptions', 'Namespace', 'Secret', 'SelfSubjectAccessReview', 'SelfSubjectReview', 'Service', 'ServiceAccount', 'TokenRequest'].sort(),
    );
  });
});

describe('round trips: JSON → protobuf → JSON', () => {
  test.each(Object.entries(roundTripObjects))('%s', (_kind, obj) => {
    const bytes = encodeObject(obj);
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from('k8s\0', 'latin1'));
    const { apiVersion, kind } = unwrap(bytes);
    expect([apiVersion, kind]).toEqual([obj.apiVersion, obj.kind]);
    expect(decodeObject(bytes)).toEqual(obj);
  });

  test('every kind and list kind the API serves has a protobuf form', () => {
    for (const r of resources) {
      expect([r.kind, hasProtobufForm(groupVersion(r), r.kind)]).toEqual([r.kind, true]);
      if (r.verbs.includes('list')) expect([r.listKind, hasProtobufForm(groupVersion(r), r.listKind)]).toEqual([r.listKind, true]);
    }
    for (const kind of ['Status', 'DeleteOptions', 'WatchEvent']) expect(hasProtobufForm('v1', kind)).toBe(true);
    expect(hasProtobufForm('policy/v1', 'Eviction')).toBe(true);
    expect(hasProtobufForm('autoscaling/v1', 'Scale')).toBe(true);
  });

  test('every field the schemas know has a protobuf field: nothing a protobuf client reads or writes is dropped', () => {
    const jsonOnly = new Set(['Time', 'MicroTime', 'FieldsV1', 'Quantity', 'IntOrString', 'Patch', 'WatchEvent']);
    const missing: string[] = [];
    for (const [name, schema] of Object.entries(definitions)) {
      const props = schema.properties as Record<string, unknown> | undefined;
      if (!props || jsonOnly.has(name.split('.').pop()!)) continue;
      const message = protoRoot().lookup(name.replace(/^io\.k8s\./, 'k8s.io.'));
      if (!(message instanceof protobuf.Type)) {
        missing.push(name);
        continue;
      }
      const fields = new Set<string>();
      for (const f of message.fieldsArray) {
        if (f.options?.['(json_inline)']) for (const g of (f.resolvedType as protobuf.Type).fieldsArray) fields.add(g.name);
        else fields.add(f.name);
      }
      for (const p of Object.keys(props)) if (p !== 'apiVersion' && p !== 'kind' && !fields.has(p)) missing.push(`${name}.${p}`);
    }
    expect(missing).toEqual([]);
  });

  test('Table has no protobuf form (as in Kubernetes, whose Table is JSON only)', () => {
    expect(hasProtobufForm('meta.k8s.io/v1', 'Table')).toBe(false);
    expect(() => encodeObject({ apiVersion: 'meta.k8s.io/v1', kind: 'Table', rows: [] })).toThrow(ProtobufConversionError);
  });

  test('a list from items encoded one by one decodes to the list, items with their kind', () => {
    const pod = roundTripObjects.Pod;
    const second = { ...pod, metadata: { ...(pod.metadata as Json), name: 'web-2' } };
    const bytes = encodeList('v1', 'PodList', { resourceVersion: '42', continue: 'abc' }, [encodeMessage(pod), encodeMessage(second)]);
    expect(decodeObject(bytes)).toEqual({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '42', continue: 'abc' }, items: [pod, second] });
    // the same bytes as encoding the whole list at once
    const whole = encodeObject({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '42', continue: 'abc' }, items: [pod, second] });
    expect(bytes.equals(whole)).toBe(true);
  });

  test('watch events: framed, the object in its own envelope', () => {
    const lease = roundTripObjects.Lease;
    const frames = [
      frame(encodeWatchEvent('ADDED', encodeObject(lease))),
      frame(encodeWatchEvent('ERROR', encodeObject(roundTripObjects.Status))),
    ];
    const stream = Buffer.concat(frames);
    const reader = new FrameReader();
    // delivered in awkward pieces, as a socket may
    const got = [...reader.push(stream.subarray(0, 3)), ...reader.push(stream.subarray(3, 40)), ...reader.push(stream.subarray(40))];
    expect(got.map((f) => decodeWatchEvent(f))).toEqual([
      { type: 'ADDED', object: lease },
      { type: 'ERROR', object: roundTripObjects.Status },
    ]);
    // Each frame is a bare WatchEvent, as client-go reads it (its stream serializer is the raw
    // one): its fields from the first byte, type (1) then object (2), no "k8s\0" envelope;
    // the object's RawExtension holds the enveloped object.
    const r = protobuf.Reader.create(got[0]);
    expect(r.uint32()).toBe((1 << 3) | 2);
    expect(r.string()).toBe('ADDED');
    expect(r.uint32()).toBe((2 << 3) | 2);
    const extension = protobuf.Reader.create(r.bytes());
    expect(r.pos).toBe(r.len);
    expect(extension.uint32()).toBe((1 << 3) | 2);
    expect(unwrap(extension.bytes())).toMatchObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' });
  });

  test('a frame in an envelope is not a watch event', () => {
    const enveloped = envelope('v1', 'WatchEvent', encodeWatchEvent('ADDED', encodeObject(roundTripObjects.Pod)));
    expect(() => decodeWatchEvent(enveloped)).toThrow(ProtobufDecodeError);
  });
});

describe('values whose wire form differs from their JSON', () => {
  const podWith = (container: Json, status: Json = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', resources: {}, ...container }] },
    status,
  });

  test('Time keeps seconds (any offset read as UTC), MicroTime microseconds', () => {
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', creationTimestamp: '2024-05-06T07:08:09+02:00' }, spec: { renewTime: '2024-05-06T07:08:09.123456789Z' } };
    expect(decodeObject(encodeObject(lease))).toEqual({
      ...lease,
      metadata: { name: 'l', creationTimestamp: '2024-05-06T05:08:09Z' },
      spec: { renewTime: '2024-05-06T07:08:09.123456Z' },
    });
  });

  test('quantities given as numbers come back as strings; int-or-string both ways', () => {
    const pod = podWith({ resources: { limits: { cpu: 2, memory: '64Mi' } }, ports: [{ containerPort: 80 }], livenessProbe: { httpGet: { port: 'http' } }, readinessProbe: { tcpSocket: { port: 8080 } } });
    const back = decodeObject(encodeObject(pod)) as { spec: { containers: Json[] } };
    expect(back.spec.containers[0].resources).toEqual({ limits: { cpu: '2', memory: '64Mi' } });
    expect(back.spec.containers[0].livenessProbe).toEqual({ httpGet: { port: 'http' } });
    expect(back.spec.containers[0].readinessProbe).toEqual({ tcpSocket: { port: 8080 } });
  });

  test('large and negative integers survive', () => {
    const pod = podWith({}, { containerStatuses: [{ name: 'c', state: { terminated: { exitCode: -1, startedAt: '2024-01-01T00:00:00Z' } }, lastState: {}, ready: false, restartCount: 2147483647, image: 'i', imageID: '' }] });
    (pod.spec as Json).activeDeadlineSeconds = 2 ** 53 - 1;
    expect(decodeObject(encodeObject(pod))).toEqual(pod);
  });

  test('map entries are written in key order, as Go writes them', () => {
    const a = encodeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { b: '2', a: '1', c: '3' } });
    const b = encodeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { c: '3', a: '1', b: '2' } });
    expect(a.equals(b)).toBe(true);
  });

  test('values that do not fit their field are refused, not written wrong', () => {
    expect(() => encodeObject(podWith({ ports: 'eighty' }))).toThrow(ProtobufConversionError);
    expect(() => encodeObject(podWith({ stdin: 'yes' }))).toThrow(ProtobufConversionError);
    expect(() => encodeObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', creationTimestamp: 'yesterday' } })).toThrow(/creationTimestamp/);
  });
});

describe('malformed bodies', () => {
  const valid = encodeObject(roundTripObjects.Pod);

  test('a body without the magic, an unknown kind, bad bytes: ProtobufDecodeError', () => {
    expect(() => decodeObject(Buffer.from('{"kind":"Pod"}'))).toThrow(ProtobufDecodeError);
    expect(() => decodeObject(Buffer.from('k8s\0', 'latin1'))).toThrow(/kind/);
    const unknownKind = Buffer.concat([valid.subarray(0, 4), Buffer.from(valid.subarray(4).toString('latin1').replace('Pod', 'Poo'), 'latin1')]);
    expect(() => decodeObject(unknownKind)).toThrow(/no kind "Poo" is registered/);
    expect(() => decodeObject(valid.subarray(0, valid.length - 7))).toThrow(ProtobufDecodeError);
  });

  test('random bytes and mutated valid bodies never throw anything but ProtobufDecodeError', () => {
    const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length)).map(([at, byte, cut]) => {
      const b = Buffer.from(valid);
      b[at] = byte;
      return b.subarray(0, Math.max(at + 1, cut));
    });
    const arbitrary = fc.oneof(mutated, fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.concat([valid.subarray(0, 4), Buffer.from(a)])));
    fc.assert(
      fc.property(arbitrary, (body) => {
        try {
          decodeObject(body);
        } catch (err) {
          if (!(err instanceof ProtobufDecodeError)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
