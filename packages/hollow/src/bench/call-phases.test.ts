import http from 'http';
import type { AddressInfo } from 'net';
import { Client } from '@peapod/client';
import { CallPhaseTracer } from './call-phases';

describe('CallPhaseTracer', () => {
  let server: http.Server;
  let client: Client;
  let url: string;
  const tracer = new CallPhaseTracer();

  beforeAll(async () => {
    // Headers after 150 ms, the body's end 100 ms later.
    server = http.createServer((req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"apiVersion":"v1","kind":"Node",');
        setTimeout(() => res.end('"metadata":{"name":"n1"}}'), 100);
      }, 150);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new Client({ server: url });
    tracer.start();
  });
  afterAll(async () => {
    tracer.stop();
    client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('splits a call into the time to its request, to its sending, to the response headers and the body', async () => {
    const { result, phases } = tracer.trace(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return client.get('nodes', 'n1');
    });
    expect(await result).toMatchObject({ metadata: { name: 'n1' } });
    const seen = phases();
    expect(seen.toRequestMs).toBeGreaterThanOrEqual(45);
    expect(seen.toSendMs).toBeGreaterThanOrEqual(0);
    expect(seen.toResponseMs).toBeGreaterThanOrEqual(140);
    expect(seen.bodyMs).toBeGreaterThanOrEqual(90);
  });

  it('tells a request on a new connection from one on a connection used before', async () => {
    const fresh = new Client({ server: url });
    try {
      const first = tracer.trace(() => fresh.get('nodes', 'n1'));
      await first.result;
      // undici's pool frees the connection a moment after the response has ended.
      await new Promise((resolve) => setImmediate(resolve));
      const again = tracer.trace(() => fresh.get('nodes', 'n1'));
      await again.result;
      expect(first.phases().newConnection).toBe(true);
      expect(again.phases().newConnection).toBe(false);
    } finally {
      fresh.close();
    }
  });

  it('leaves a request made outside a trace alone, and a trace without a request empty', async () => {
    await client.get('nodes', 'n1');
    const { result, phases } = tracer.trace(() => Promise.resolve(1));
    await result;
    expect(phases()).toEqual({});
  });
});
