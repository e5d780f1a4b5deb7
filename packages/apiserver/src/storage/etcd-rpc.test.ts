import crypto from 'crypto';
import http2 from 'http2';
import { AddressInfo } from 'net';
import protobuf from 'protobufjs';
import { waitFor } from '@peapod/client/testing';
import { EtcdMember } from './etcd-rpc';
import { encodeTxnRequest, putOp } from './etcd-proto';
import type { WatchResponse } from './etcd-proto';

/** A WatchResponse with one put event per key, at revisions from `rev`, as etcd frames it. */
function framedResponse(keys: string[], rev: number): Buffer {
  const w = protobuf.Writer.create();
  keys.forEach((key, i) => {
    w.uint32((11 << 3) | 2).fork();
    w.uint32((2 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).bytes(Buffer.from(key));
    w.uint32(3 << 3).int64(rev + i);
    w.uint32((5 << 3) | 2).bytes(Buffer.from(`{"value":"${key}"}`));
    w.ldelim();
    w.ldelim();
  });
  const message = Buffer.from(w.finish());
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

/** A StatusResponse naming `leader`, framed as gRPC. */
function framedStatus(leader: number): Buffer {
  const message = Buffer.from(protobuf.Writer.create().uint32(4 << 3).uint64(leader).finish());
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

/** Answers a unary call with `framed` in chunks of `chunk` bytes, then the status OK in trailers. */
function answer(stream: http2.ServerHttp2Stream, framed: Buffer, chunk = framed.length): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  for (let at = 0; at < framed.length; at += chunk) stream.write(framed.subarray(at, at + chunk));
  stream.end();
}

/** The whole request of a stream. */
function requestOf(stream: http2.ServerHttp2Stream): Promise<Buffer> {
  const parts: Buffer[] = [];
  stream.on('data', (d: Buffer) => parts.push(d));
  return new Promise((resolve) => stream.on('end', () => resolve(Buffer.concat(parts))));
}

/** A loopback HTTP/2 server standing in for an etcd member: `handle` answers every stream. */
async function fakeMember(handle: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void, settings: http2.Settings = {}) {
  const server = http2.createServer({ settings });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => sessions.add(s));
  server.on('stream', handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('EtcdMember', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  test('a watch reads responses split across data chunks and several in one chunk, then ends with the status OK', async () => {
    const bytes = Buffer.concat([framedResponse(['/a', '/b'], 10), framedResponse(['/c'], 12), framedResponse(['/d'], 13)]);
    const member = await fakeMember((stream, headers) => {
      expect(headers[':path']).toBe('/etcdserverpb.Watch/Watch');
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.once('data', async () => {
        // Three bytes (less than a message's prefix), the rest of the first response and part of the second, then the rest.
        for (const [from, to] of [[0, 3], [3, 40], [40, bytes.length]]) {
          stream.write(bytes.subarray(from, to));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        stream.end();
      });
    });
    cleanups.push(member.close);
    const etcd = new EtcdMember(member.url);
    cleanups.push(() => etcd.close());
    const watch = etcd.watch();
    const received: WatchResponse[] = [];
    const ended = new Promise<string>((resolve) => {
      watch.on('end', () => resolve('end'));
      watch.on('error', (err) => resolve(err.message));
    });
    watch.on('data', (res) => received.push(res));
    watch.write({ key: Buffer.from('/'), rangeEnd: Buffer.from('0'), startRevision: 10 });
    expect(await ended).toBe('end');
    expect(received.map((r) => r.events.map((e) => `${e.kv.key.toString()}@${e.kv.modRevision}=${e.kv.value.toString()}`))).toEqual([
      ['/a@10={"value":"/a"}', '/b@11={"value":"/b"}'],
      ['/c@12={"value":"/c"}'],
      ['/d@13={"value":"/d"}'],
    ]);
  });

  test('a watch that etcd ends with an error status, or whose connection breaks, reports an error once', async () => {
    const member = await fakeMember((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'etcdserver%3A no leader' }, { endStream: true });
    });
    cleanups.push(member.close);
    const etcd = new EtcdMember(member.url);
    cleanups.push(() => etcd.close());
    const errors: string[] = [];
    const watch = etcd.watch();
    await new Promise<void>((resolve) => {
      watch.on('error', (err) => {
        errors.push(err.message);
        setTimeout(resolve, 50);
      });
      watch.on('end', () => errors.push('end'));
      watch.write({ key: Buffer.from('/'), rangeEnd: Buffer.from('0'), startRevision: 1 });
    });
    expect(errors).toEqual(['14 UNAVAILABLE: etcdserver: no leader']);

    await member.close();
    const broken = etcd.watch();
    const message = await new Promise<string>((resolve) => {
      broken.on('error', (err) => resolve(err.message));
      broken.on('end', () => resolve('end'));
    });
    expect(message).toMatch(/^14 UNAVAILABLE: /);
  });

  test('a unary call not answered by its deadline fails with DEADLINE_EXCEEDED and is cancelled', async () => {
    let cancelled = false;
    const member = await fakeMember((stream) => {
      stream.on('close', () => {
        cancelled = stream.rstCode === http2.constants.NGHTTP2_CANCEL;
      });
    });
    cleanups.push(member.close);
    const etcd = new EtcdMember(member.url);
    cleanups.push(() => etcd.close());
    const started = Date.now();
    const err = await etcd.status(Date.now() + 300).catch((e: Error & { code: number }) => e);
    expect(err).toMatchObject({ code: 4, message: expect.stringMatching(/^4 DEADLINE_EXCEEDED: /) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await waitFor('the stream cancelled', () => cancelled);
  });

  test('unary calls: answers in several data frames; many at once past the server\'s stream limit; a request larger than the flow-control windows', async () => {
    const sizes: number[] = [];
    const member = await fakeMember(
      async (stream, headers) => {
        expect(headers).toMatchObject({ ':method': 'POST', ':path': expect.stringMatching(/^\/etcdserverpb\./), 'content-type': 'application/grpc', te: 'trailers', hasleader: 'true' });
        sizes.push((await requestOf(stream)).length);
        answer(stream, framedStatus(7), 3);
      },
      { maxConcurrentStreams: 5 },
    );
    cleanups.push(member.close);
    const etcd = new EtcdMember(member.url);
    cleanups.push(() => etcd.close());
    const answers = await Promise.all(Array.from({ length: 40 }, () => etcd.status(Date.now() + 5000)));
    expect(answers.every((a) => a.leader === '7')).toBe(true);
    expect(sizes).toEqual(Array(40).fill(5));

    const value = Buffer.alloc(300_000, 1);
    const big = await etcd.txn({ compare: [], success: [putOp(Buffer.from('/k'), value, undefined)], failure: [] }, Date.now() + 5000).catch((e: Error) => e);
    // The fake answers a StatusResponse to every call: read as a TxnResponse it is empty; what counts is that all of the request arrived.
    expect(big).not.toBeInstanceOf(Error);
    expect(sizes[40]).toBeGreaterThan(300_000);
  });

  test('unary calls: each request arrives whole and as encoded, with its deadline, call after call and in bursts', async () => {
    const received: { body: Buffer; timeout: string | string[] | undefined }[] = [];
    const member = await fakeMember(async (stream, headers) => {
      received.push({ body: await requestOf(stream), timeout: headers['grpc-timeout'] });
      answer(stream, framedStatus(1));
    });
    cleanups.push(member.close);
    const etcd = new EtcdMember(member.url);
    cleanups.push(() => etcd.close());
    // Values of several sizes, together past one slab of request bytes, some sent in one turn.
    const requests = Array.from({ length: 120 }, (_, i) => ({
      compare: [{ key: Buffer.from(`/k${i}`), target: 'mod' as const, revision: i }],
      success: [putOp(Buffer.from(`/k${i}`), crypto.randomBytes(1 + ((i * 997) % 9000)), i % 3 ? undefined : String(7 + i))],
      failure: [],
    }));
    for (let i = 0; i < requests.length; i += 10) {
      await Promise.all(requests.slice(i, i + 10).map((req) => etcd.txn(req, Date.now() + 5000)));
    }
    expect(received).toHaveLength(requests.length);
    const expected = requests.map((req) => {
      const message = encodeTxnRequest(req);
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(message.length, 1);
      return Buffer.concat([prefix, message]).toString('hex');
    });
    const bodies = received.map((r) => r.body.toString('hex'));
    expect(bodies.sort()).toEqual(expected.sort());
    for (const { timeout } of received) expect(timeout).toMatch(/^[1-5]\d{3}m$/);
  });

  test('unary calls: a refusal in headers alone, a broken connection, a connection refused, a server going away', async () => {
    let mode: 'refuse' | 'break' | 'goaway' = 'refuse';
    const member = await fakeMember((stream) => {
      if (mode === 'refuse') stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'etcdserver%3A no leader' }, { endStream: true });
      else if (mode === 'break') void requestOf(stream).then(() => stream.session?.destroy());
      else throw new Error('a stream on a connection told to go away');
    });
    // A server going away at once takes no stream.
    member.server.on('session', (session) => {
      if (mode === 'goaway') session.goaway(http2.constants.NGHTTP2_NO_ERROR, 0);
    });
    cleanups.push(member.close);
    const etcd = new EtcdMember(member.url);
    cleanups.push(() => etcd.close());
    const failure = (p: Promise<unknown>) => p.then(() => 'answered', (e: Error) => e.message);
    expect(await failure(etcd.status(Date.now() + 5000))).toBe('14 UNAVAILABLE: etcdserver: no leader');
    mode = 'break';
    expect(await failure(etcd.status(Date.now() + 5000))).toMatch(/^14 UNAVAILABLE: Connection dropped: /);
    mode = 'goaway';
    expect(await failure(etcd.status(Date.now() + 5000))).toMatch(/^14 UNAVAILABLE: No connection established: the server is going away/);
    mode = 'refuse';
    // A new connection once the last went away.
    expect(await failure(etcd.status(Date.now() + 5000))).toBe('14 UNAVAILABLE: etcdserver: no leader');
    const port = new URL(member.url).port;
    await member.close();
    const gone = new EtcdMember(`http://127.0.0.1:${port}`);
    cleanups.push(() => gone.close());
    expect(await failure(gone.status(Date.now() + 5000))).toMatch(/^14 UNAVAILABLE: No connection established: .*ECONNREFUSED/);
  });
});
