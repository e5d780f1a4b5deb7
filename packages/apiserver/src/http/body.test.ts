import http from 'http';
import { AddressInfo } from 'net';
import { readBody } from './body';

/** A loopback server that reads each body with readBody and answers its hex, or the error's status. */
async function echoServer(limit?: number) {
  const server = http.createServer((req, res) => {
    readBody(req, limit).then(
      (body) => res.end(body.toString('hex')),
      (err: { code?: number }) => {
        res.statusCode = err.code ?? 500;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Sends `parts` as one body, each part written on its own (chunked), and gives the status and answer. */
function post(port: number, parts: Buffer[]): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe('readBody', () => {
  let srv: Awaited<ReturnType<typeof echoServer>>;
  afterEach(() => new Promise<void>((resolve) => srv.server.close(() => resolve())));

  test('gives the whole body, sent in one piece or in many', async () => {
    srv = await echoServer();
    const one = Buffer.from('{"kind":"Pod"}');
    expect(await post(srv.port, [one])).toEqual({ status: 200, text: one.toString('hex') });
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(3000 + i, i + 1));
    expect(await post(srv.port, parts)).toEqual({ status: 200, text: Buffer.concat(parts).toString('hex') });
    expect(await post(srv.port, [])).toEqual({ status: 200, text: '' });
  });

  test('refuses a body over the limit with 413', async () => {
    srv = await echoServer(10_000);
    expect((await post(srv.port, [Buffer.alloc(6000), Buffer.alloc(6000)])).status).toBe(413);
    expect((await post(srv.port, [Buffer.alloc(9000)])).status).toBe(200);
  });
});
