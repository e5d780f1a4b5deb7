// Node 20's libuv accepts one connection per turn of the event loop from a listening socket
// (libuv 1.45 stopped accepting until the queue is empty). When the server's thread is busy and
// clients open many connections at once (an agent's pool growing while its requests wait), the
// last of them waits a turn for each connection ahead of it, seconds on a loaded server, before
// its request is even read: Go's API server accepts on a goroutine of its own. Every further
// descriptor of the same listening socket is polled and accepted from on its own, so with N of
// them up to N + 1 connections are accepted a turn. Node 20 can neither open a socket with
// SO_REUSEPORT nor duplicate a descriptor, so the copies come from a helper process that sends
// the handle straight back: each message's descriptor (SCM_RIGHTS) is a new one.

import { spawn } from 'child_process';
import net from 'net';

const echo = "process.on('message', (message, handle) => process.send(message, handle))";
const helperTimeoutMs = 10_000;

function closeHandles(handles: net.Server[]): void {
  for (const h of handles) (h as unknown as { close(): void }).close();
}

/** Descriptors of server's listening socket, received back from a helper process. */
function copiesOf(handle: net.Server, copies: number): Promise<net.Server[]> {
  return new Promise((resolve, reject) => {
    const helper = spawn(process.execPath, ['-e', echo], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    const received: net.Server[] = [];
    let settled = false;
    // Settled once the helper is gone, so that no descriptor of the socket is left in it.
    const done = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const finish = (): void => {
        if (!err) return resolve(received);
        closeHandles(received);
        reject(err);
      };
      if (helper.exitCode !== null || helper.signalCode !== null) return finish();
      helper.once('exit', finish);
      helper.kill('SIGKILL');
    };
    const timer = setTimeout(() => done(new Error(`the helper process sent ${received.length} of ${copies} descriptors back in ${helperTimeoutMs} ms`)), helperTimeoutMs);
    helper.on('message', (_message, copy) => {
      received.push(copy as net.Server);
      if (received.length === copies) done();
    });
    helper.once('error', (err) => {
      // Never started: there is no exit to wait for.
      settled = true;
      clearTimeout(timer);
      closeHandles(received);
      reject(err);
    });
    helper.once('exit', () => done(new Error(`the helper process exited after sending ${received.length} of ${copies} descriptors back`)));
    // The bare handle, not the server: a server sent is listened on again by the receiver with Node's default queue.
    for (let i = 0; i < copies; i++) helper.send('listener', handle);
  });
}

/**
 * Listens on `copies` more descriptors of server's listening socket (with the same queue
 * length), each connection they accept handed to server as its own. Returns the extra
 * listeners, to be closed with it: the socket listens as long as one descriptor is open.
 */
export async function listenOnCopies(server: net.Server, copies: number, backlog: number): Promise<net.Server[]> {
  const handle = (server as unknown as { _handle?: net.Server })._handle;
  if (copies <= 0 || !handle) return [];
  const received = await copiesOf(handle, copies);
  const listeners: net.Server[] = [];
  try {
    while (received.length > 0) {
      const copy = received.shift()!;
      const extra = net.createServer();
      extra.on('connection', (socket) => server.emit('connection', socket));
      await new Promise<void>((resolve, reject) => {
        extra.once('error', reject);
        extra.listen(copy, backlog, () => resolve());
      });
      listeners.push(extra);
    }
  } catch (err) {
    for (const l of listeners) l.close();
    closeHandles(received);
    throw err;
  }
  return listeners;
}
