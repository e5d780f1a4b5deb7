// One etcd member's gRPC channel and the calls the store makes on it, with the messages of
// etcd-proto.ts. A unary call is a call on grpc-js's channel itself: no client-side
// interceptor chain or call emitter, no stack trace captured per call (the generic client's
// unary call makes an Error for every call, in case it fails), no channelz bookkeeping, no
// retry or circuit-breaker policy wrapped around it (the store retries what etcd refused
// unapplied, and chooses the member), and no message conversion beyond reading the bytes.

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

/** One member, through one channel for the store's life (grpc-js connects it again when the connection breaks). */
export class EtcdMember {
  private readonly client: grpc.Client;
  private readonly channel: grpc.Channel;

  constructor(
    readonly endpoint: string,
    credentials: grpc.ChannelCredentials,
  ) {
    this.client = new grpc.Client(endpoint.replace(/^https?:\/\//, '').replace(/\/+$/, ''), credentials, { 'grpc.enable_channelz': 0 });
    this.channel = this.client.getChannel() as grpc.Channel;
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
    this.client.close();
  }

  /**
   * A unary call that asks etcd to refuse it at once ("no leader") when the member has no
   * leader, rather than hold it until the deadline (etcd's require-leader metadata).
   */
  private unary<Req, Res>(method: string, encode: (req: Req) => Buffer, decode: (buf: Buffer) => Res, req: Req, deadline: number): Promise<Res> {
    const metadata = new grpc.Metadata();
    metadata.set('hasleader', 'true');
    const message = encode(req);
    return new Promise((resolve, reject) => {
      const call = this.channel.createCall(method, deadline, undefined, null, undefined);
      let answer: Buffer | undefined;
      call.start(metadata, {
        onReceiveMetadata: () => undefined,
        onReceiveMessage: (m: Buffer) => {
          answer = m;
        },
        onReceiveStatus: (status) => {
          if (status.code !== grpc.status.OK) return reject(callError(status));
          if (!answer) return reject(callError({ code: grpc.status.INTERNAL, details: 'no answer', metadata: status.metadata }));
          try {
            resolve(decode(answer));
          } catch (err) {
            reject(callError({ code: grpc.status.INTERNAL, details: `answer not readable: ${(err as Error).message}`, metadata: status.metadata }));
          }
        },
      });
      call.startRead();
      call.sendMessageWithContext({}, message);
      call.halfClose();
    });
  }
}

/** A failed call as grpc-js' own clients report it ("14 UNAVAILABLE: ..."), which the store's retry rules read. */
function callError(status: grpc.StatusObject): grpc.ServiceError {
  return Object.assign(new Error(`${status.code} ${grpc.status[status.code]}: ${status.details}`), status);
}
