// A request's failure as the client reads it: storage out of reach is Kubernetes' Timeout
// (504), whatever path the error took; only what nothing explains is a 500, and is logged.
import http from 'http';
import type { AddressInfo } from 'net';
import type { Logger } from '@peapod/client';
import { StatusError } from '../errors';
import { StorageUnavailableError, WriteOutcomeUnknownError } from '../storage/types';
import { answerFailure } from './dispatch';

async function answer(err: unknown): Promise<{ status: number; body: Record<string, unknown>; logged: unknown[] }> {
  const logged: unknown[] = [];
  const log = { error: (msg: string, fields: unknown) => logged.push({ msg, fields }) } as unknown as Logger;
  const server = http.createServer((req, res) => answerFailure(log, req, res, err));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/namespaces/default/pods`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, logged };
  } finally {
    server.close();
  }
}

test('storage that did not answer a read in time: 504 Timeout, with the cause, not logged as a failure', async () => {
  const r = await answer(new StorageUnavailableError('the watch cache did not reach revision 42 within 10s'));
  expect(r.status).toBe(504);
  expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Timeout', code: 504 });
  expect(r.body.message).toBe('Timeout: storage did not answer in time (the watch cache did not reach revision 42 within 10s); the request may be retried');
  expect(r.logged).toEqual([]);
});

test('a write whose outcome is unknown says so, and not that it may be retried', async () => {
  const r = await answer(new WriteOutcomeUnknownError('etcd did not confirm the write within 10s'));
  expect(r.status).toBe(504);
  expect(r.body.message).toBe('Timeout: the outcome of the write is unknown (etcd did not confirm the write within 10s): it may or may not have been applied');
});

test("a StatusError is answered as it is; anything else is a 500 whose stack stays in the server's log", async () => {
  expect((await answer(new StatusError(409, 'taken', { reason: 'AlreadyExists' }))).body).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'taken' });
  const r = await answer(new TypeError('x is undefined'));
  expect(r.status).toBe(500);
  expect(r.body.message).toBe('an internal error occurred; see the API server log');
  expect(JSON.stringify(r.logged)).toContain('TypeError: x is undefined');
});
