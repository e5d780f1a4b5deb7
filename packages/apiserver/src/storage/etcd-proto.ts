// The few etcd v3 messages the store sends and reads (etcd's rpc.proto and kv.proto), encoded
// and decoded with protobufjs' Writer and Reader straight to and from the shapes the store uses.
// Through a generic client (etcd3 over @grpc/proto-loader) every answer was decoded into a
// message, then converted again into a plain object with every default field filled in and every
// int64 as a string; a watch event and a transaction's answer are read once here, and an int64
// revision is read as a number.

import protobuf from 'protobufjs';
import { Slab } from './slab';

export interface KeyValue {
  key: Buffer;
  modRevision: number;
  value: Buffer;
  /** the lease's id ('0': none), as a decimal string: ids use all 64 bits */
  lease: string;
}

export interface RangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  /** at most this many keys (0: all) */
  limit?: number;
  /** read as of this revision (0: the newest) */
  revision?: number;
  countOnly?: boolean;
}

export interface RangeResponse {
  revision: number;
  kvs: KeyValue[];
  /** a limit left keys of the range out */
  more?: boolean;
}

/** A comparison of a key's create or mod revision with a number, for equality. */
export interface Compare {
  key: Buffer;
  target: 'create' | 'mod';
  revision: number;
}

/**
 * One operation of a transaction on one key: a put (its value and lease), a delete or a read.
 * Every operation and request has the same shape (made by putOp, deleteOp, rangeOp), so that
 * an update's or a delete's transaction, rare beside creates, does not throw away the code
 * V8 optimised for the creates' (each new shape deoptimised the encoder, to be compiled again).
 */
export interface RequestOp {
  type: 'put' | 'delete' | 'range';
  key: Buffer;
  /** a put's value (empty otherwise) */
  value: Buffer;
  /** a put's lease (undefined or '0': none) */
  lease: string | undefined;
}

/** the value of an operation that has none */
const emptyValue = Buffer.alloc(0);

export function putOp(key: Buffer, value: Buffer, lease: string | undefined): RequestOp {
  return { type: 'put', key, value, lease };
}

export function deleteOp(key: Buffer): RequestOp {
  return { type: 'delete', key, value: emptyValue, lease: undefined };
}

export function rangeOp(key: Buffer): RequestOp {
  return { type: 'range', key, value: emptyValue, lease: undefined };
}

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  /** none: [] */
  failure: RequestOp[];
}

export interface TxnResponse {
  revision: number;
  succeeded: boolean;
  /** per operation of the branch taken: the key-values a range read (empty for the others) */
  ranges: KeyValue[][];
}

export interface WatchCreateRequest {
  key: Buffer;
  rangeEnd: Buffer;
  startRevision: number;
  prevKv?: boolean;
}

export interface WatchEvent {
  type: 'Put' | 'Delete';
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface WatchResponse {
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  events: WatchEvent[];
}

export interface StatusResponse {
  memberId: string;
  /** the leader's member id ('0': none known) */
  leader: string;
}

export interface Member {
  id: string;
  clientURLs: string[];
}

type Reader = protobuf.Reader;

/** A non-negative int64 that fits a double (revisions, counts): read without a Long. */
function readNumber(r: Reader): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    if (r.pos >= r.len) throw new RangeError('etcd message truncated in a varint');
    const b = r.buf[r.pos++];
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
  }
}

/** A 64-bit id (lease, member) as a decimal string. */
function readId(r: Reader): string {
  return String(r.uint64());
}

/** Length-delimited bytes as a Buffer view on the message (no copy). */
function readBytes(r: Reader): Buffer {
  const length = r.uint32();
  const start = r.pos;
  if (start + length > r.len) throw new RangeError('etcd message truncated in a bytes field');
  r.pos += length;
  return Buffer.from(r.buf.buffer, r.buf.byteOffset + start, length);
}

/** Reads the fields of a message (or of the embedded message that starts here) until its end. */
function fields(r: Reader, end: number, field: (id: number, wireType: number) => void): void {
  while (r.pos < end) {
    const tag = r.uint32();
    field(tag >>> 3, tag & 7);
  }
}

function embedded(r: Reader): number {
  const length = r.uint32();
  return r.pos + length;
}

const emptyBuffer = Buffer.alloc(0);

function decodeKeyValue(r: Reader, end: number): KeyValue {
  const kv: KeyValue = { key: emptyBuffer, modRevision: 0, value: emptyBuffer, lease: '0' };
  fields(r, end, (id, wireType) => {
    if (id === 1) kv.key = readBytes(r);
    else if (id === 3) kv.modRevision = readNumber(r);
    else if (id === 5) kv.value = readBytes(r);
    else if (id === 6) kv.lease = readId(r);
    else r.skipType(wireType);
  });
  return kv;
}

/** The revision of a ResponseHeader, skipping the rest. */
function decodeHeaderRevision(r: Reader, end: number): number {
  let revision = 0;
  fields(r, end, (id, wireType) => {
    if (id === 3) revision = readNumber(r);
    else r.skipType(wireType);
  });
  return revision;
}

function decodeRangeBody(r: Reader, end: number): RangeResponse {
  const res: RangeResponse = { revision: 0, kvs: [] };
  fields(r, end, (id, wireType) => {
    if (id === 1) res.revision = decodeHeaderRevision(r, embedded(r));
    else if (id === 2) res.kvs.push(decodeKeyValue(r, embedded(r)));
    else if (id === 3) res.more = r.bool();
    else r.skipType(wireType);
  });
  return res;
}

export function decodeRangeResponse(buf: Buffer): RangeResponse {
  const r = protobuf.Reader.create(buf);
  return decodeRangeBody(r, r.len);
}

export function decodeTxnResponse(buf: Buffer): TxnResponse {
  const r = protobuf.Reader.create(buf);
  const res: TxnResponse = { revision: 0, succeeded: false, ranges: [] };
  fields(r, r.len, (id, wireType) => {
    if (id === 1) res.revision = decodeHeaderRevision(r, embedded(r));
    else if (id === 2) res.succeeded = r.bool();
    else if (id === 3) {
      let kvs: KeyValue[] = [];
      fields(r, embedded(r), (op, opWire) => {
        if (op === 1) kvs = decodeRangeBody(r, embedded(r)).kvs;
        else r.skipType(opWire);
      });
      res.ranges.push(kvs);
    } else r.skipType(wireType);
  });
  return res;
}

function decodeEvent(r: Reader, end: number): WatchEvent {
  const ev: WatchEvent = { type: 'Put', kv: { key: emptyBuffer, modRevision: 0, value: emptyBuffer, lease: '0' } };
  fields(r, end, (id, wireType) => {
    if (id === 1) ev.type = r.int32() === 1 ? 'Delete' : 'Put';
    else if (id === 2) ev.kv = decodeKeyValue(r, embedded(r));
    else if (id === 3) ev.prevKv = decodeKeyValue(r, embedded(r));
    else r.skipType(wireType);
  });
  return ev;
}

export function decodeWatchResponse(buf: Buffer): WatchResponse {
  const r = protobuf.Reader.create(buf);
  const res: WatchResponse = { created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] };
  fields(r, r.len, (id, wireType) => {
    if (id === 3) res.created = r.bool();
    else if (id === 4) res.canceled = r.bool();
    else if (id === 5) res.compactRevision = readNumber(r);
    else if (id === 6) res.cancelReason = r.string();
    else if (id === 11) res.events.push(decodeEvent(r, embedded(r)));
    else r.skipType(wireType);
  });
  return res;
}

export function decodeLeaseGrantResponse(buf: Buffer): { id: string; error: string } {
  const r = protobuf.Reader.create(buf);
  const res = { id: '0', error: '' };
  fields(r, r.len, (id, wireType) => {
    if (id === 2) res.id = readId(r);
    else if (id === 4) res.error = r.string();
    else r.skipType(wireType);
  });
  return res;
}

export function decodeStatusResponse(buf: Buffer): StatusResponse {
  const r = protobuf.Reader.create(buf);
  const res: StatusResponse = { memberId: '0', leader: '0' };
  fields(r, r.len, (id, wireType) => {
    if (id === 1) {
      fields(r, embedded(r), (h, hWire) => {
        if (h === 2) res.memberId = readId(r);
        else r.skipType(hWire);
      });
    } else if (id === 4) res.leader = readId(r);
    else r.skipType(wireType);
  });
  return res;
}

export function decodeMemberListResponse(buf: Buffer): Member[] {
  const r = protobuf.Reader.create(buf);
  const members: Member[] = [];
  fields(r, r.len, (id, wireType) => {
    if (id !== 2) return r.skipType(wireType);
    const m: Member = { id: '0', clientURLs: [] };
    fields(r, embedded(r), (f, fWire) => {
      if (f === 1) m.id = readId(r);
      else if (f === 4) m.clientURLs.push(r.string());
      else r.skipType(fWire);
    });
    members.push(m);
  });
  return members;
}

/** Nothing to read but whether the call succeeded (a compaction's answer). */
export function decodeNothing(): undefined {
  return undefined;
}

/** The requests' bytes, each sent and dropped soon after it is made. */
const requests = new Slab();

/** protobufjs' writer for Node, its messages finished into the slab (finish() takes its buffer from the class's `alloc`). */
class Writer extends protobuf.BufferWriter {
  static override alloc(size: number): Buffer {
    return requests.take(size);
  }

  /** protobufjs types its buffers as its own interface: this is Node's, from alloc. */
  override finish(): Buffer {
    return super.finish() as Buffer;
  }
}

function writeBytes(w: Writer, id: number, value: Buffer): void {
  w.uint32((id << 3) | 2).bytes(value);
}

function writeRange(w: Writer, req: RangeRequest): void {
  writeBytes(w, 1, req.key);
  if (req.rangeEnd) writeBytes(w, 2, req.rangeEnd);
  if (req.limit) w.uint32(3 << 3).int64(req.limit);
  if (req.revision) w.uint32(4 << 3).int64(req.revision);
  if (req.countOnly) w.uint32(9 << 3).bool(true);
}

export function encodeRangeRequest(req: RangeRequest): Buffer {
  const w = new Writer();
  writeRange(w, req);
  return w.finish();
}

function writeOp(w: Writer, field: number, op: RequestOp): void {
  w.uint32((field << 3) | 2).fork();
  // RequestOp's request_range is field 1, request_put 2, request_delete_range 3; each holds the key as its field 1.
  w.uint32(((op.type === 'range' ? 1 : op.type === 'put' ? 2 : 3) << 3) | 2).fork();
  writeBytes(w, 1, op.key);
  if (op.type === 'put') {
    writeBytes(w, 2, op.value);
    if (op.lease && op.lease !== '0') w.uint32(3 << 3).int64(op.lease);
  }
  w.ldelim();
  w.ldelim();
}

export function encodeTxnRequest(req: TxnRequest): Buffer {
  const w = new Writer();
  for (const c of req.compare) {
    // result Equal (0) is the default and left out; target Create is 1, Mod 2, each with its own revision field.
    w.uint32((1 << 3) | 2).fork();
    w.uint32(2 << 3).int32(c.target === 'create' ? 1 : 2);
    writeBytes(w, 3, c.key);
    w.uint32((c.target === 'create' ? 5 : 6) << 3).int64(c.revision);
    w.ldelim();
  }
  for (const op of req.success) writeOp(w, 2, op);
  for (const op of req.failure) writeOp(w, 3, op);
  return w.finish();
}

export function encodeWatchCreateRequest(req: WatchCreateRequest): Buffer {
  const w = new Writer();
  w.uint32((1 << 3) | 2).fork();
  writeBytes(w, 1, req.key);
  writeBytes(w, 2, req.rangeEnd);
  w.uint32(3 << 3).int64(req.startRevision);
  if (req.prevKv) w.uint32(6 << 3).bool(true);
  w.ldelim();
  return w.finish();
}

export function encodeLeaseGrantRequest(ttlSeconds: number): Buffer {
  const w = new Writer();
  w.uint32(1 << 3).int64(ttlSeconds);
  return w.finish();
}

export function encodeCompactionRequest(revision: number): Buffer {
  const w = new Writer();
  w.uint32(1 << 3).int64(revision);
  return w.finish();
}

/** An empty message (StatusRequest, MemberListRequest). */
export function encodeEmpty(): Buffer {
  return emptyBuffer;
}
