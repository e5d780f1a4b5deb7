// Kubernetes' protobuf wire format (application/vnd.kubernetes.protobuf): an object is the
// 4-byte magic "k8s\0" then a runtime.Unknown carrying its apiVersion and kind and the
// object's message as bytes. A watch stream is a sequence of frames, each a 4-byte
// big-endian length then a bare WatchEvent message (Kubernetes' stream serializer is its raw
// one, without the envelope: client-go reads each frame straight into a WatchEvent), whose
// object is an enveloped object; over a WebSocket each message is one bare WatchEvent. Lists
// carry their items without apiVersion and kind; decoding puts them back, as our JSON lists
// have them.

import protobuf from 'protobufjs';
import { messageType, runtimePackage, typeNamed, metaPackage } from './messages';
import { planOf, ProtobufConversionError, toJson, toWire } from './convert';

export const protobufMediaType = 'application/vnd.kubernetes.protobuf';
export const protobufWatchMediaType = 'application/vnd.kubernetes.protobuf;stream=watch';

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Json = Record<string, unknown>;

export { ProtobufConversionError };

/** Bytes that are not a protobuf object we can read: the client's fault (400). */
export class ProtobufDecodeError extends Error {}

let unknownType: protobuf.Type | undefined;
let watchEventType: protobuf.Type | undefined;

function unknown(): protobuf.Type {
  unknownType ??= typeNamed(`${runtimePackage}.Unknown`);
  return unknownType;
}

function watchEvent(): protobuf.Type {
  watchEventType ??= typeNamed(`${metaPackage}.WatchEvent`);
  return watchEventType;
}

function typeFor(apiVersion: unknown, kind: unknown): protobuf.Type {
  const t = typeof apiVersion === 'string' && typeof kind === 'string' ? messageType(apiVersion, kind) : undefined;
  if (!t) throw new ProtobufConversionError(`no protobuf message is defined for kind ${String(kind)} in ${String(apiVersion)}`);
  return t;
}

/** Whether objects of this kind have a protobuf form. */
export function hasProtobufForm(apiVersion: string, kind: string): boolean {
  return messageType(apiVersion, kind) !== undefined;
}

/** The envelope around a message's bytes. */
export function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const body = unknown().encode({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' }).finish();
  return Buffer.concat([magic, body]);
}

/** An object's message bytes, without the envelope. */
export function encodeMessage(obj: Json): Uint8Array {
  const t = typeFor(obj.apiVersion, obj.kind);
  return t.encode(toWire(planOf(t), obj)).finish();
}

/** An object (with apiVersion and kind) in the envelope. */
export function encodeObject(obj: Json): Buffer {
  return envelope(obj.apiVersion as string, obj.kind as string, encodeMessage(obj));
}

/**
 * A list whose items are already encoded (each an item message's bytes), so that an item
 * encoded once serves every list it is in.
 */
export function encodeList(apiVersion: string, listKind: string, metadata: Json, items: readonly Uint8Array[]): Buffer {
  const t = typeFor(apiVersion, listKind);
  const metaField = t.fields.metadata;
  const itemsField = t.fields.items;
  const w = protobuf.Writer.create();
  const metaType = metaField.resolvedType as protobuf.Type;
  metaType.encode(toWire(planOf(metaType), metadata), w.uint32((metaField.id << 3) | 2).fork()).ldelim();
  const itemTag = (itemsField.id << 3) | 2;
  for (const item of items) w.uint32(itemTag).bytes(item);
  return envelope(apiVersion, listKind, w.finish());
}

/** One watch event, a bare WatchEvent message (the object already enveloped), without the frame length. */
export function encodeWatchEvent(type: string, object: Uint8Array): Buffer {
  const bytes = watchEvent().encode({ type, object: { raw: object } }).finish();
  // A view of the writer's bytes (a Buffer already under Node), not a copy of them.
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The 4-byte big-endian length before each frame of a watch stream. */
export function frame(message: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(message.length, 0);
  return Buffer.concat([head, message]);
}

function decodeFailure(err: unknown): never {
  if (err instanceof ProtobufDecodeError) throw err;
  throw new ProtobufDecodeError(`the protobuf body could not be decoded: ${(err as Error)?.message ?? String(err)}`);
}

/** The envelope's parts. */
export function unwrap(buf: Uint8Array): { apiVersion: string; kind: string; raw: Uint8Array } {
  if (buf.length < magic.length || !magic.equals(Buffer.from(buf.buffer, buf.byteOffset, magic.length))) {
    throw new ProtobufDecodeError('the body is not a Kubernetes protobuf object: it lacks the "k8s\\x00" prefix');
  }
  try {
    const u = unknown().decode(buf.subarray(magic.length)) as unknown as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string };
    if (u.contentEncoding) throw new ProtobufDecodeError(`unsupported content encoding ${JSON.stringify(u.contentEncoding)}`);
    const apiVersion = u.typeMeta?.apiVersion ?? '';
    const kind = u.typeMeta?.kind ?? '';
    if (!kind) throw new ProtobufDecodeError('the protobuf object does not name its kind');
    if (!apiVersion) throw new ProtobufDecodeError('the protobuf object does not name its apiVersion');
    return { apiVersion, kind, raw: u.raw ?? new Uint8Array(0) };
  } catch (err) {
    return decodeFailure(err);
  }
}

function messageToObject(apiVersion: string, kind: string, raw: Uint8Array): Json {
  const t = messageType(apiVersion, kind);
  if (!t) throw new ProtobufDecodeError(`no kind "${kind}" is registered for version "${apiVersion}"`);
  try {
    const obj: Json = { apiVersion, kind };
    toJson(planOf(t), t.decode(raw) as unknown as Json, obj);
    if (kind.endsWith('List') && t.fields.items) {
      // An empty list has no items on the wire; our lists always carry the array.
      const itemKind = kind.slice(0, -'List'.length);
      obj.items = ((obj.items as Json[] | undefined) ?? []).map((i) => ({ apiVersion, kind: itemKind, ...i }));
    }
    return obj;
  } catch (err) {
    return decodeFailure(err);
  }
}

/** An enveloped object as our JSON, with apiVersion and kind. */
export function decodeObject(buf: Uint8Array): Json {
  const { apiVersion, kind, raw } = unwrap(buf);
  return messageToObject(apiVersion, kind, raw);
}

/** One frame of a watch stream (without its length), a bare WatchEvent message, as {type, object}. */
export function decodeWatchEvent(buf: Uint8Array): { type: string; object: Json } {
  let event: { type?: string; object?: { raw?: Uint8Array } };
  try {
    event = watchEvent().decode(buf) as unknown as typeof event;
  } catch (err) {
    return decodeFailure(err);
  }
  if (!event.type) throw new ProtobufDecodeError('the watch event has no type');
  return { type: event.type, object: decodeObject(event.object?.raw ?? new Uint8Array(0)) };
}

/** Splits a length-prefixed stream into frames as chunks arrive. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds a chunk; returns the frames it completed. */
  push(chunk: Uint8Array): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    const frames: Buffer[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32BE(0);
      if (this.pending.length < 4 + length) break;
      frames.push(this.pending.subarray(4, 4 + length));
      this.pending = this.pending.subarray(4 + length);
    }
    return frames;
  }
}
