// One etcd member and the calls the store makes on it, with the messages of etcd-proto.ts.
// Every call is one HTTP/2 stream, framed as gRPC by hand: a unary call (Txn, Range,
// LeaseGrant, Compact, Status, MemberList) one request and one answer, on a connection whose
// HTTP/2 is framed by hand too (http2-connection.ts); a watch one long stream of create
// requests one way and responses the other, on the member's `node:http2` session. A
// micro A/B measured grpc-js's unary call at about twice the client CPU of the bare stream
// (its call objects, filters and metadata per call), and the generic etcd3 client's at two
// and a half times. No retry or circuit-breaker policy is wrapped around a call: the store
// retries what etcd refused unapplied, and chooses the member.

import { EventEmitter } from 'events';
import http2 from 'http2';
import { encodeHeaders } from './hpack';
import { Http2Connection } from './http2-connection';
import {
  decodeLeaseGrantResponse,
  decodeMemberListResponse,
  decodeNothing,
  decodeRangeResponse,
  decodeStatusResponse,
  decodeTxnResponse,
  decodeWatchResponse,
  encodeCompactionRequest,
  encodeEmpty,
  encodeLeaseGrantRequest,
  encodeRangeRequest,
  encodeTxnRequest,
  encodeWatchCreateRequest,
  Member,
  RangeRequest,
  RangeResponse,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  WatchCreateRequest,
  WatchResponse,
} from './etcd-proto';

/** Client TLS: the CA that signed the members' certificates, and this client's certificate and key. */
export interface EtcdTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** The gRPC status codes the client gives itself (grpc/status.proto); a failed call's message names its code. */
const Code = {
  OK: 0,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

const codeNames = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** etcd's metadata asking a member without a leader to refuse a call at once. */
const requireLeader = encodeHeaders([['hasleader', 'true']]);

/** Checks that the members' URLs are all http:// or all https://. */
export function checkServers(servers: string[]): void {
  const secure = servers.filter((s) => s.startsWith('https:')).length;
  if (secure && secure < servers.length) throw new Error('etcd servers must all be http:// or all https://');
}

/**
 * One member: an HTTP/2 session for its unary calls and another for its watches (so that a
 * burst of watch events does not hold the answers to writes back behind it on one connection),
 * each made again when it breaks.
 */
export class EtcdMember {
  private readonly origin: string;
  /** the connection of the unary calls (framed by hand, see http2-connection.ts) */
  private callConnection?: Http2Connection;
  /** the session of the watches (node:http2: long-lived streams, with flow control both ways) */
  private watchSession?: http2.ClientHttp2Session;
  private readonly deadlines = new Deadlines();
  private readonly watches = new Set<WatchStream>();
  private closed = false;

  constructor(
    readonly endpoint: string,
    private readonly tls?: EtcdTls,
  ) {
    this.origin = endpoint.replace(/\/+$/, '');
  }

  txn(req: TxnRequest, deadline: number): Promise<TxnResponse> {
    return this.unary('/etcdserverpb.KV/Txn', encodeTxnRequest, decodeTxnResponse, req, deadline);
  }

  range(req: RangeRequest, deadline: number): Promise<RangeResponse> {
    return this.unary('/etcdserverpb.KV/Range', encodeRangeRequest, decodeRangeResponse, req, deadline);
  }

  async leaseGrant(ttlSeconds: number, deadline: number): Promise<string> {
    const res = await this.unary('/etcdserverpb.Lease/LeaseGrant', encodeLeaseGrantRequest, decodeLeaseGrantResponse, ttlSeconds, deadline);
    if (res.error) throw new Error(`etcdserver: lease not granted: ${res.error}`);
    return res.id;
  }

  compact(revision: number, deadline: number): Promise<undefined> {
    return this.unary('/etcdserverpb.KV/Compact', encodeCompactionRequest, decodeNothing, revision, deadline);
  }

  status(deadline: number): Promise<StatusResponse> {
    return this.unary('/etcdserverpb.Maintenance/Status', encodeEmpty, decodeStatusResponse, undefined, deadline);
  }

  memberList(deadline: number): Promise<Member[]> {
    return this.unary('/etcdserverpb.Cluster/MemberList', encodeEmpty, decodeMemberListResponse, undefined, deadline);
  }

  /** A watch stream: each create request written starts a watch on it (no deadline: it lasts). */
  watch(): WatchStream {
    let stream: http2.ClientHttp2Stream | undefined;
    let failure: Error | undefined;
    if (this.closed) failure = callError(Code.UNAVAILABLE, 'No connection established: the client is closed');
    else {
      try {
        stream = this.watchConnected().request({ ':method': 'POST', ':path': '/etcdserverpb.Watch/Watch', 'content-type': 'application/grpc', te: 'trailers' });
      } catch (err) {
        this.watchSession = undefined;
        failure = callError(Code.UNAVAILABLE, `No connection established: ${(err as Error).message}`);
      }
    }
    const watch = new WatchStream(stream, failure, () => this.watches.delete(watch));
    if (stream) this.watches.add(watch);
    return watch;
  }

  /** Cancels the watches and closes the sessions once the calls in flight are answered. */
  close(): void {
    this.closed = true;
    for (const w of [...this.watches]) w.cancel();
    this.callConnection?.close();
    this.watchSession?.close();
  }

  /** The session watches go on: the current one, or a new one when there is none or it broke. */
  private watchConnected(): http2.ClientHttp2Session {
    const current = this.watchSession;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(this.origin, this.tls?.ca ? { ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key } : {});
    // A broken session fails its streams, each with its own error; the next watch makes a new one.
    session.on('error', () => undefined);
    const drop = () => {
      if (this.watchSession === session) this.watchSession = undefined;
    };
    session.on('close', drop);
    session.on('goaway', drop);
    this.watchSession = session;
    return session;
  }

  /** The connection unary calls go on: the current one, or a new one when there is none or it may take no more calls. */
  private connectionForCalls(): Http2Connection {
    const current = this.callConnection;
    if (current?.usable) return current;
    current?.close();
    const connection = new Http2Connection(this.origin, this.tls?.ca ? { ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key } : {}, () => {
      if (this.callConnection === connection) this.callConnection = undefined;
    });
    this.callConnection = connection;
    return connection;
  }

  /**
   * A unary call that asks etcd to refuse it at once ("no leader") when the member has no
   * leader, rather than hold it until the deadline (etcd's require-leader metadata). Its
   * errors read as grpc-js' do ("14 UNAVAILABLE: ..."): a call that never reached the member
   * (no connection, or refused unread) is "No connection established", one whose connection
   * broke after it was sent "Connection dropped" (a write may then have been applied). The
   * outcome is settled when the stream ends (with its answer or its error), or at the deadline.
   */
  private unary<Req, Res>(method: string, encode: (req: Req) => Buffer, decode: (buf: Buffer) => Res, req: Req, deadline: number): Promise<Res> {
    const message = encode(req);
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(callError(Code.UNAVAILABLE, 'No connection established: the client is closed'));
      const ms = Math.max(1, deadline - Date.now());
      let cancel = () => undefined as void;
      const pending: Pending = {
        deadline,
        expire: () => {
          cancel();
          reject(callError(Code.DEADLINE_EXCEEDED, `Deadline exceeded after ${ms / 1000}s`));
        },
      };
      this.deadlines.add(pending);
      cancel = this.connectionForCalls().call(method, requireLeader, ms, message, (failure, answer) => {
        this.deadlines.delete(pending);
        if (failure) return reject(callError(Code.UNAVAILABLE, `${failure.sent ? 'Connection dropped' : 'No connection established'}: ${failure.message}`));
        // A refusal comes as headers alone, its status among them.
        const status = statusOf(answer!.headers) ?? answer!.trailers;
        if (!status) return reject(callError(Code.UNAVAILABLE, 'Connection dropped: the stream closed without an answer'));
        const refused = statusError(status);
        if (refused) return reject(refused);
        const data = answer!.data;
        const all = data.length === 1 ? data[0] : Buffer.concat(data);
        if (all.length < 5 || all[0] !== 0) return reject(callError(Code.INTERNAL, 'answer not readable: not one uncompressed message'));
        try {
          resolve(decode(all.subarray(5, 5 + all.readUInt32BE(1))));
        } catch (err) {
          reject(callError(Code.INTERNAL, `answer not readable: ${(err as Error).message}`));
        }
      });
    });
  }
}

/** A call waiting for its answer: expire() cancels it once its deadline has passed. */
interface Pending {
  deadline: number;
  expire(): void;
}

/**
 * The deadlines of the calls in flight, checked by one timer while there are any, rather than
 * a timer set and cleared for each call. A call expires at most checkMs after its deadline.
 */
export class Deadlines {
  private readonly pending = new Set<Pending>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly checkMs = 100) {}

  add(p: Pending): void {
    this.pending.add(p);
    this.timer ??= setInterval(() => this.check(), this.checkMs).unref();
  }

  delete(p: Pending): void {
    this.pending.delete(p);
  }

  private check(): void {
    const now = Date.now();
    for (const p of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(p);
      p.expire();
    }
    if (this.pending.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** Whether a call failed at its deadline (the client's or etcd's). */
export function deadlineExceeded(err: unknown): boolean {
  return (err as { code?: unknown }).code === Code.DEADLINE_EXCEEDED;
}

/** A message framed as gRPC sends it: uncompressed (0), its length (4 bytes, big-endian), the message. */
function frame(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

/** Header fields as node:http2 or Http2Connection give them. */
type Status = Record<string, string | string[] | number | undefined>;

/** A call's status from its trailers, or from headers alone (a refusal), or the HTTP status when not 200. */
function statusOf(headers: Status & { ':status'?: number | string }): Status | undefined {
  if (headers['grpc-status'] !== undefined) return headers;
  if (headers[':status'] !== undefined && Number(headers[':status']) !== 200) return { 'grpc-status': String(Code.UNKNOWN), 'grpc-message': `HTTP status ${headers[':status']}` };
  return undefined;
}

/** The error of a call that ended with a status other than OK (undefined: OK). */
function statusError(status: Status): Error | undefined {
  const code = Number(status['grpc-status'] ?? Code.UNKNOWN);
  return code === Code.OK ? undefined : callError(code, decodeURIComponent(String(status['grpc-message'] ?? 'no status')));
}

/** A failed call, as grpc-js' clients report it ("14 UNAVAILABLE: ..."), which the store's retry rules read. */
function callError(code: number, details: string): Error & { code: number; details: string } {
  return Object.assign(new Error(`${code} ${codeNames[code] ?? 'UNKNOWN'}: ${details}`), { code, details });
}

export interface WatchStream {
  on(event: 'data', listener: (res: WatchResponse) => void): this;
  /** the stream failed, or ended with a status other than OK */
  on(event: 'error', listener: (err: Error) => void): this;
  /** etcd ended the stream with OK */
  on(event: 'end', listener: () => void): this;
}

/**
 * etcd's Watch call on an HTTP/2 stream: each create request written starts a watch on it,
 * each response read is decoded once whole (a response may span data chunks, and a chunk
 * hold several). It ends once, with 'error' or 'end'; after cancel() it says nothing more.
 */
export class WatchStream extends EventEmitter {
  /** received bytes of the responses not yet whole */
  private readonly parts: Buffer[] = [];
  private have = 0;
  private status?: Status;
  private done = false;

  constructor(
    private readonly stream: http2.ClientHttp2Stream | undefined,
    failure: Error | undefined,
    private readonly ended: () => void,
  ) {
    super();
    if (!stream) {
      process.nextTick(() => this.finish(failure));
      return;
    }
    stream.on('response', (headers) => {
      this.status = statusOf(headers);
    });
    stream.on('trailers', (trailers) => {
      this.status ??= trailers;
    });
    stream.on('data', (chunk: Buffer) => this.receive(chunk));
    // etcd's side ended (its trailers came, or a refusal's headers alone): this side is closed too.
    stream.on('end', () => {
      this.finish(this.outcome());
      stream.close();
    });
    stream.on('error', (err: Error) => this.finish(callError(Code.UNAVAILABLE, `Connection dropped: ${err.message}`)));
    stream.on('close', () => this.finish(this.outcome()));
  }

  write(req: WatchCreateRequest): void {
    if (!this.done) this.stream?.write(frame(encodeWatchCreateRequest(req)));
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.ended();
    this.stream?.close(http2.constants.NGHTTP2_CANCEL);
  }

  private receive(chunk: Buffer): void {
    if (this.done) return;
    this.parts.push(chunk);
    this.have += chunk.length;
    while (this.have >= 5) {
      if (this.parts[0].length < 5) this.parts.splice(0, this.parts.length, Buffer.concat(this.parts, this.have));
      const need = 5 + this.parts[0].readUInt32BE(1);
      if (this.have < need) return;
      if (this.parts[0].length < need) this.parts.splice(0, this.parts.length, Buffer.concat(this.parts, this.have));
      const head = this.parts[0];
      if (head.length === need) this.parts.shift();
      else this.parts[0] = head.subarray(need);
      this.have -= need;
      let res: WatchResponse;
      try {
        if (head[0] !== 0) throw new Error('a compressed message');
        res = decodeWatchResponse(head.subarray(5, need));
      } catch (err) {
        this.finish(callError(Code.INTERNAL, `watch response not readable: ${(err as Error).message}`));
        this.stream?.close(http2.constants.NGHTTP2_CANCEL);
        return;
      }
      this.emit('data', res);
      if (this.done) return;
    }
  }

  /** How the stream ended: its status's error, none for OK, or a dropped connection without a status. */
  private outcome(): Error | undefined {
    return this.status ? statusError(this.status) : callError(Code.UNAVAILABLE, 'Connection dropped: the stream closed without a status');
  }

  private finish(err: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    this.ended();
    if (err) this.emit('error', err);
    else this.emit('end');
  }
}
