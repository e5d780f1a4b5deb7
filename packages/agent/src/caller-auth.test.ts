import http from 'http';
import { Client, createLogger } from '@peapod/client';
import { apiServerCallers } from './caller-auth';

test('accepts only tokens the API server says belong to system:masters, and remembers answers', async () => {
  const reviewed: string[] = [];
  const api = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const token = JSON.parse(body).spec.token as string;
      reviewed.push(token);
      const status =
        token === 'apiserver-token'
          ? { authenticated: true, user: { username: 'system:apiserver', groups: ['system:masters'] } }
          : token === 'node-token'
            ? { authenticated: true, user: { username: 'system:node:n2', groups: ['system:nodes'] } }
            : { authenticated: false };
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'TokenReview', status }));
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  const client = new Client({ server: `http://127.0.0.1:${(api.address() as { port: number }).port}`, token: 'agent' });
  const check = apiServerCallers(client, createLogger('test', { level: 'error' }));
  try {
    expect(await check('Bearer apiserver-token')).toBe(true);
    expect(await check('Bearer apiserver-token')).toBe(true);
    expect(await check('Bearer node-token')).toBe(false);
    expect(await check('Bearer unknown')).toBe(false);
    expect(await check(undefined)).toBe(false);
    expect(await check('Basic abc')).toBe(false);
    expect(reviewed).toEqual(['apiserver-token', 'node-token', 'unknown']);
  } finally {
    client.close();
    api.close();
  }
});
