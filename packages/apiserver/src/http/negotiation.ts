// Content negotiation: which encoding a response goes out in, and the writers that encode
// objects, lists, Status errors and watch events in it. JSON is the default; protobuf
// (application/vnd.kubernetes.protobuf, Kubernetes' envelope) when the client's Accept
// prefers it and the kind has a protobuf form. Tables are JSON only, as in Kubernetes.
//
// Stored objects are never changed in place (a write stores a new object), so an object's
// protobuf bytes are encoded once and kept beside it for every later get, list and watch;
// an object the watch cache keeps only as JSON (pods) is parsed and encoded for each.

import type { IncomingMessage, ServerResponse } from 'http';
import {
  encodeList,
  encodeMessage,
  encodeWatchEvent,
  envelope,
  frame,
  groupVersion,
  hasProtobufForm,
  protobufMediaType,
  protobufWatchMediaType,
  type KubeObject,
  type ResourceInfo,
  type Status,
} from '@peapod/api';
import { selectableOf, type StoredEntry } from '../storage/types';

export type Format = 'json' | 'protobuf';

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
}

/** The ranges of an Accept header, most preferred first (by q, then by order). */
export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    if (!type) continue;
    const params = new Map<string, string>();
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
    }
    const q = params.has('q') ? Number(params.get('q')) : 1;
    if (!(q > 0)) continue;
    ranges.push({ type: type.toLowerCase(), params, q });
  }
  return ranges.map((r, i) => ({ r, i })).sort((a, b) => b.r.q - a.r.q || a.i - b.i).map(({ r }) => r);
}

/** Ranges answered with JSON. */
export const jsonMediaTypes = new Set(['application/json', 'application/yaml', 'application/*', '*/*']);

/**
 * The encoding of a response carrying objects of `kind` (in `apiVersion`). A range asking
 * for a transformation (as=Table, ...) is not about plain objects and is passed over; with
 * no usable range the answer is JSON, as it always was.
 */
export function responseFormat(accept: string | undefined, apiVersion: string, kind: string): Format {
  for (const r of parseAccept(accept)) {
    if (r.params.has('as')) continue;
    if (r.type === protobufMediaType) {
      if (hasProtobufForm(apiVersion, kind)) return 'protobuf';
      continue;
    }
    if (jsonMediaTypes.has(r.type)) return 'json';
  }
  return 'json';
}

const messageCache = new WeakMap<object, { resourceVersion: string | undefined; bytes: Uint8Array }>();

/** An object's message bytes, from the cache when this object (at this resourceVersion) was encoded before. */
function messageBytes(obj: KubeObject): Uint8Array {
  return cachedMessage(obj, obj.metadata?.resourceVersion, () => obj);
}

/** A stored entry's message bytes: kept beside the entry when it keeps only JSON, as each read of its object parses anew. */
function entryMessageBytes(entry: StoredEntry): Uint8Array {
  return entry.selectable ? cachedMessage(entry, String(entry.rev), () => entry.object) : messageBytes(entry.object);
}

function cachedMessage(holder: object, rv: string | undefined, object: () => KubeObject): Uint8Array {
  const cached = messageCache.get(holder);
  if (cached && cached.resourceVersion === rv) return cached.bytes;
  const bytes = encodeMessage(object() as unknown as Record<string, unknown>);
  messageCache.set(holder, { resourceVersion: rv, bytes });
  return bytes;
}

/** An object in the protobuf envelope. */
export function protobufObject(obj: KubeObject): Buffer {
  return envelope(obj.apiVersion!, obj.kind!, messageBytes(obj));
}

/** Sends one object (or Status) in the negotiated encoding; `json` is its JSON when already serialized. */
export function sendObject(req: IncomingMessage, res: ServerResponse, code: number, obj: KubeObject | Status, json?: string): void {
  const o = obj as KubeObject;
  res.statusCode = code;
  if (responseFormat(req.headers.accept, o.apiVersion!, o.kind!) === 'protobuf') {
    res.setHeader('Content-Type', protobufMediaType);
    res.end(protobufObject(o));
  } else {
    res.setHeader('Content-Type', 'application/json');
    res.end(json ?? JSON.stringify(obj));
  }
}

/** Sends a stored object as its stored JSON, or as protobuf when asked (the only case that reads the parsed object). */
export function sendEntry(req: IncomingMessage, res: ServerResponse, code: number, entry: StoredEntry): void {
  const view = selectableOf(entry);
  res.statusCode = code;
  if (responseFormat(req.headers.accept, view.apiVersion!, view.kind!) === 'protobuf') {
    res.setHeader('Content-Type', protobufMediaType);
    res.end(envelope(view.apiVersion!, view.kind!, entryMessageBytes(entry)));
  } else {
    res.setHeader('Content-Type', 'application/json');
    res.end(entry.json);
  }
}

/** Lists longer than this many objects go out as JSON in chunks of this many (about 1 MB of pods). */
const listChunkItems = 250;

/** Resolves when what was written has gone out, or the connection is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

/** Resolves on the event loop's next turn, after the I/O that is waiting. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Sends a list of stored objects; each item's encoding (JSON or protobuf) is reused as it is. */
export async function sendList(
  req: IncomingMessage,
  res: ServerResponse,
  r: ResourceInfo,
  metadata: { resourceVersion: string; continue?: string },
  items: readonly StoredEntry[],
): Promise<void> {
  const apiVersion = groupVersion(r);
  res.statusCode = 200;
  if (responseFormat(req.headers.accept, apiVersion, r.listKind) === 'protobuf') {
    res.setHeader('Content-Type', protobufMediaType);
    res.end(encodeList(apiVersion, r.listKind, metadata, items.map(entryMessageBytes)));
    return;
  }
  // Objects are stored as JSON: a list is those strings joined, with nothing parsed or re-serialized.
  res.setHeader('Content-Type', 'application/json');
  const head = `{"kind":"${r.listKind}","apiVersion":"${apiVersion}","metadata":${JSON.stringify(metadata)},"items":[`;
  if (items.length <= listChunkItems) {
    res.end(`${head}${items.map((i) => i.json).join(',')}]}`);
    return;
  }
  // A long list goes out in chunks, each in a turn of the event loop of its own, and as the
  // client reads it. Written whole, one controller's 3,000 pods (11 MB) held the server's one
  // thread for 100 to 600 ms in the scale bench while every other request waited; and one
  // string of a hundred thousand pods would pass V8's longest string.
  let text = head;
  for (let at = 0; at < items.length; at += listChunkItems) {
    text += `${at > 0 ? ',' : ''}${items.slice(at, at + listChunkItems).map((i) => i.json).join(',')}`;
    const flowing = res.write(text);
    text = '';
    await (flowing ? nextTurn() : drained(res));
    if (res.destroyed) return;
  }
  res.end(']}');
}

/** How one watch stream encodes its events. */
export interface WatchEncoding {
  contentType: string;
  /** an event of a stored object (whose `object` may be parsed from its JSON on each read: JSON events never read it) */
  event(type: string, event: { readonly object: KubeObject; json: string }): string | Buffer;
  /** an event whose object is built for it (bookmarks, errors, tables) */
  built(type: string, object: object): string | Buffer;
}

/**
 * Every watcher of an event sends the same bytes: they are built once per event and
 * encoding. The store hands an event to all its watchers in one synchronous loop, so only the
 * event being published needs its encodings kept. Kept per event, a watch line would hold
 * its object's JSON for as long as the object is stored, also where the watch cache keeps
 * no JSON (events).
 */
class LastEventEncodings<T> {
  private object: object | undefined;
  private readonly byType = new Map<string, T>();

  get(object: object, type: string): T | undefined {
    return object === this.object ? this.byType.get(type) : undefined;
  }

  set(object: object, type: string, value: T): T {
    if (object !== this.object) {
      this.object = object;
      this.byType.clear();
    }
    this.byType.set(type, value);
    return value;
  }
}

const jsonLines = new LastEventEncodings<string>();
const protobufFrames = new LastEventEncodings<Buffer>();

const jsonWatch: WatchEncoding = {
  contentType: 'application/json',
  event: (type, event) => jsonLines.get(event, type) ?? jsonLines.set(event, type, `{"type":"${type}","object":${event.json}}\n`),
  built: (type, object) => `${JSON.stringify({ type, object })}\n`,
};

/**
 * A protobuf watch: over chunked HTTP each event is a frame (4-byte length, then the
 * WatchEvent); over a WebSocket each message is one event, without the length.
 */
function protobufWatch(framed: boolean): WatchEncoding {
  const wrap = (type: string, objectBytes: Buffer) => {
    const event = encodeWatchEvent(type, objectBytes);
    return framed ? frame(event) : event;
  };
  return {
    contentType: protobufWatchMediaType,
    event(type, event) {
      if (!framed) return wrap(type, protobufObject(event.object));
      return protobufFrames.get(event, type) ?? protobufFrames.set(event, type, wrap(type, protobufObject(event.object)));
    },
    built: (type, object) => wrap(type, protobufObject(object as KubeObject)),
  };
}

/** The encoding of a watch of resource `r` (`framed`: over chunked HTTP, not a WebSocket); a table watch is JSON. */
export function watchEncoding(accept: string | undefined, r: ResourceInfo, table: boolean, framed: boolean): WatchEncoding {
  if (table) return jsonWatch;
  return responseFormat(accept, groupVersion(r), r.kind) === 'protobuf' ? protobufWatch(framed) : jsonWatch;
}
