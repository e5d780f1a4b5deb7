// A stream read in turns. A component's watch gets its events in bursts: thousands at once
// when pods are created by the thousand, or after the component was busy for a moment. Node
// hands a stream's data over for as long as it has any: a socket is read up to 32 times
// (64 KiB each) before any other is looked at, and what a stream has buffered goes out in one
// go. Our API server writes each event as an HTTP chunk of its own, a 'data' event each, so a
// burst of 2 MiB held a scheduler's thread for tens of milliseconds while the answers to its
// binds waited unread and the API server waited for its next binds.

/** Bytes a stream hands over before it lets the event loop serve the other sockets. */
export const bytesPerTurn = 64 * 1024;

export interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

/**
 * Counts the bytes a flowing stream delivers; past `bytesPerTurn` it pauses the stream until
 * the event loop has gone round once (setImmediate runs after the other sockets' I/O). The
 * count runs across turns: a trickle of small events also waits a turn once every 64 KiB,
 * which costs nothing worth counting.
 */
export class Turns {
  private taken = 0;

  constructor(
    private readonly stream: Pausable,
    private readonly stopped: () => boolean,
  ) {}

  take(bytes: number): void {
    this.taken += bytes;
    if (this.taken < bytesPerTurn || this.stopped()) return;
    this.taken = 0;
    this.stream.pause();
    setImmediate(() => {
      if (!this.stopped()) this.stream.resume();
    });
  }
}
