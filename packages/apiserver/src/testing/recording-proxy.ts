// A proxy in front of an API server that records what clients send and what they get back
// (which media types were negotiated), for tests of what the real kubectl does on the wire.

import http from 'http';

/** One request that went through a recording proxy, and the type of its answer. */
export interface Captured {
  method: string;
  url: string;
  contentType: string;
  accept: string;
  body: Buffer;
  status?: number;
  responseType?: string;
}

export interface RecordingProxy {
  url: string;
  requests: Captured[];
  close(): void;
}

/** A proxy in front of an API server that records every request (headers, body) and the type of each answer. */
export function recordingProxy(upstreamPort: number): Promise<RecordingProxy> {
  const requests: Captured[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const captured: Captured = { method: req.method!, url: req.url!, contentType: String(req.headers['content-type'] ?? ''), accept: String(req.headers.accept ?? ''), body };
      requests.push(captured);
      const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
        captured.status = ur.statusCode;
        captured.responseType = String(ur.headers['content-type'] ?? '');
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        requests,
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      }),
    ),
  );
}
