// Requests to one server beyond the client's maxSockets wait here, in order, rather than in
// Node's http.Agent: the agent keeps its waiting requests in an array it shifts whenever a
// socket frees, which costs time in proportion to the queue. A hollow process whose pods
// asked for tens of thousands of writes at once spent most of its CPU there, and its nodes'
// heartbeats, on the same event loop, lapsed. A request that gives up while waiting (its
// deadline, its signal) leaves the queue without ever being sent.

import { Fifo } from './fifo';

interface Waiting {
  start?: () => void;
}

export class RequestSlots {
  private used = 0;
  private readonly queue = new Fifo<Waiting>();

  constructor(private readonly limit: number) {}

  /**
   * Runs start() once fewer than the limit are in flight (at once if they are); the caller
   * calls release() when the request is done. Returns what withdraws a request still waiting
   * (true if it was waiting, so start() will never run).
   */
  take(start: () => void): () => boolean {
    if (this.used < this.limit) {
      this.used++;
      start();
      return () => false;
    }
    const entry: Waiting = { start };
    this.queue.push(entry);
    return () => {
      const waiting = entry.start !== undefined;
      entry.start = undefined;
      return waiting;
    };
  }

  /** A request is done: its slot goes to the next one waiting, if any. */
  release(): void {
    for (let entry = this.queue.shift(); entry !== undefined; entry = this.queue.shift()) {
      const start = entry.start;
      if (start) {
        entry.start = undefined;
        start();
        return;
      }
    }
    this.used--;
  }

}
