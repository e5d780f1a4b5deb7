import http2 from 'http2';
import { AddressInfo } from 'net';
import protobuf from 'protobufjs';
import { waitFor } from '@peapod/client/testing';
import { EtcdMember } from './etcd-rpc';
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

/** A loopback HTTP/2 server standing in for an etcd member: `handle` answers every stream. */
async function fakeMember(handle: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void) {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => sessions.add(s));
  server.on('stream', handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
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
});
