// undici gives a connection its next request only a turn of the event loop after an answer
// on it ended (a setImmediate: in case the server closes it after all). A request sent in
// between finds that connection busy, and the pool opens another. Yet that is when most
// requests are sent: the next call of a loop that awaits each answer, the request a freed
// slot hands on to. A client kept about twice the connections it needed (10 requests at a
// time grew a pool of 20), and when a busy API server made requests pile up, hundreds of new
// connections reached it at once, each waiting its turn to be accepted. Here a request sent
// while an answered connection is on its way back waits for it (asking the pool which are idle
// costs a pass over all of them, 36 µs with 560).

import { Fifo } from './fifo';

export class ConnectionHandover {
  private freeing = 0;
  private readonly waiting = new Fifo<() => void>();

  /** An answer on one of the pool's connections just ended (called from its last callback). */
  answered(): void {
    this.freeing++;
    // undici queues its setImmediate after this callback returns; the microtask runs once the
    // parser's callback has, so this one is queued behind it and finds the connection free.
    queueMicrotask(() => setImmediate(() => this.returned()));
  }

  /** Runs send() now, or once a connection comes back if one is on its way. */
  send(send: () => void): void {
    if (this.freeing === 0 && this.waiting.length === 0) send();
    else this.waiting.push(send);
  }

  private returned(): void {
    this.freeing--;
    // The connection back takes the oldest request waiting; once none is on its way, the rest
    // go at once and the pool opens what they need.
    if (this.freeing > 0) {
      this.waiting.shift()?.();
      return;
    }
    for (let send = this.waiting.shift(); send !== undefined; send = this.waiting.shift()) send();
  }
}
