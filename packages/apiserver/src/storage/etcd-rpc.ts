// One etcd member and the calls the store makes on it, with the messages of etcd-proto.ts.
// A unary call (Txn, Range, LeaseGrant, Compact, Status, MemberList) is one HTTP/2 stream on
// the member's `node:http2` session, framed as gRPC by hand: a micro A/B measured grpc-js's
// call at about twice the client CPU of the bare stream (its call objects, filters and
// metadata per call), and the generic etcd3 client's at two and a half times. The watch, one
// long stream, goes through grpc-js. No retry or circuit-breaker policy is wrapped around a
// call: the store retries what etcd refused unapplied, and chooses the member.

import http2 from 'http2';
import * as grpc from '@grpc/grpc-js';
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

export type WatchStream = grpc.ClientDuplexStream<WatchCreateRequest, WatchResponse>;

/** The credentials of the channels to members at these URLs (all http:// or all https://). */
export function channelCredentials(servers: string[], tls?: EtcdTls): grpc.ChannelCredentials {
  const secure = servers.filter((s) => s.startsWith('https:')).length;
  if (secure && secure < servers.length) throw new Error('etcd servers must all be http:// or all https://');
  if (tls?.ca) return grpc.credentials.createSsl(tls.ca, tls.key, tls.cert);
  return secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
}

/** One member: an HTTP/2 session for the unary calls, made again when it breaks, and a grpc-js channel for watches. */
export class EtcdMember {
  private readonly client: grpc.Client;
  private readonly origin: string;
  private session?: http2.ClientHttp2Session;
  private closed = false;

  constructor(
    readonly endpoint: string,
    credentials: grpc.ChannelCredentials,
    private readonly tls?: EtcdTls,
  ) {
    this.origin = endpoint.replace(/\/+$/, '');
    this.client = new grpc.Client(this.origin.replace(/^https?:\/\//, ''), credentials, { 'grpc.enable_channelz': 0 });
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
    return this.client.makeBidiStreamRequest('/etcdserverpb.Watch/Watch', encodeWatchCreateRequest, decodeWatchResponse, new grpc.Metadata());
  }

  close(): void {
    this.closed = true;
    this.client.close();
    this.session?.close();
  }

  /** The session calls go on: the current one, or a new one when there is none or it broke. */
  private connected(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(this.origin, this.tls?.ca ? { ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key } : {});
    // A broken session fails its streams, each with its own error; the next call makes a new one.
    session.on('error', () => undefined);
    const drop = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on('close', drop);
    session.on('goaway', drop);
    this.session = session;
    return session;
  }

  /**
   * A unary call that asks etcd to refuse it at once ("no leader") when the member has no
   * leader, rather than hold it until the deadline (etcd's require-leader metadata). Its
   * errors read as grpc-js' do ("14 UNAVAILABLE: ..."): a call that never reached the member
   * (no connection) is "No connection established", one whose connection broke after it was
   * sent "Connection dropped" (a write may then have been applied).
   */
  private unary<Req, Res>(method: string, encode: (req: Req) => Buffer, decode: (buf: Buffer) => Res, req: Req, deadline: number): Promise<Res> {
    const message = encode(req);
    const framed = Buffer.allocUnsafe(5 + message.length);
    framed[0] = 0;
    framed.writeUInt32BE(message.length, 1);
    message.copy(framed, 5);
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(callError(grpc.status.UNAVAILABLE, 'No connection established: the client is closed'));
      const ms = Math.max(1, deadline - Date.now());
      let session: http2.ClientHttp2Session;
      let stream: http2.ClientHttp2Stream;
      try {
        session = this.connected();
        stream = session.request({
          ':method': 'POST',
          ':path': method,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${ms}m`,
          hasleader: 'true',
        });
      } catch (err) {
        this.session = undefined;
        return reject(callError(grpc.status.UNAVAILABLE, `No connection established: ${(err as Error).message}`));
      }
      const chunks: Buffer[] = [];
      let status: http2.IncomingHttpHeaders | undefined;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const timer = setTimeout(() => {
        settle(() => reject(callError(grpc.status.DEADLINE_EXCEEDED, `Deadline exceeded after ${ms / 1000}s`)));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, ms);
      stream.on('response', (headers) => {
        // A refusal comes as headers alone, its status among them.
        if (headers['grpc-status'] !== undefined) status = headers;
        else if (headers[':status'] !== 200) status = { 'grpc-status': String(grpc.status.UNKNOWN), 'grpc-message': `HTTP status ${headers[':status']}` };
      });
      stream.on('trailers', (trailers) => {
        status ??= trailers;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () =>
        settle(() => {
          const code = Number(status?.['grpc-status'] ?? grpc.status.UNKNOWN);
          if (code !== grpc.status.OK) return reject(callError(code, decodeURIComponent(String(status?.['grpc-message'] ?? 'no status'))));
          const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          if (body.length < 5 || body[0] !== 0) return reject(callError(grpc.status.INTERNAL, 'answer not readable: not one uncompressed message'));
          try {
            resolve(decode(body.subarray(5, 5 + body.readUInt32BE(1))));
          } catch (err) {
            reject(callError(grpc.status.INTERNAL, `answer not readable: ${(err as Error).message}`));
          }
        }),
      );
      stream.on('error', (err: Error) =>
        settle(() => {
          const sent = stream.id !== undefined && !session.connecting;
          reject(callError(grpc.status.UNAVAILABLE, `${sent ? 'Connection dropped' : 'No connection established'}: ${err.message}`));
        }),
      );
      stream.on('close', () => settle(() => reject(callError(grpc.status.UNAVAILABLE, 'Connection dropped: the stream closed without an answer'))));
      stream.end(framed);
    });
  }
}

/** A failed call, as grpc-js' own clients report it ("14 UNAVAILABLE: ..."), which the store's retry rules read. */
function callError(code: number, details: string): Error & { code: number; details: string } {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details });
}
