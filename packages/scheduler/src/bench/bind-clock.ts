// The bind-only benchmark's clock: when each bind shows in a watch of bound pods. It counts
// the watch's events without parsing them. Its process shares the machine with the two
// sides it times, and a scheduler's rounds leave no core idle: every millisecond the clock
// spends a pod comes out of the scheduler's figure and not out of the bind-only client's,
// which leaves part of a core idle. Parsing each event (a pod's JSON) cost it 0.03 ms a pod,
// a tenth of all the machine spent a pod in the scheduler's rounds.

import type { IncomingMessage } from 'http';
import type { Client } from '@peapod/client';

// Pods enter a watch of `spec.nodeName!=` as ADDED events when they are bound; the rounds
// change no bound pod, so any other event means the count no longer counts binds.
const addedHead = Buffer.from('{"type":"ADDED",');
const newline = 0x0a;

/** Counts ADDED events in a stream of newline-delimited JSON watch events. */
export class AddedEventCounter {
  /** Complete events seen. */
  count = 0;
  /** Bytes of the current event's head matched so far. */
  private matched = 0;

  /** Returns how many events ended in the chunk; throws at an event that is not ADDED. */
  push(chunk: Buffer): number {
    const before = this.count;
    let i = 0;
    while (i < chunk.length) {
      if (this.matched < addedHead.length) {
        const byte = chunk[i];
        if (this.matched === 0 && byte === newline) {
          i++;
          continue;
        }
        if (byte !== addedHead[this.matched]) {
          const seen = chunk.subarray(Math.max(0, i - this.matched), i + 40).toString('utf8');
          throw new Error(`the watch of bound pods sent an event other than ADDED: ${seen}`);
        }
        this.matched++;
        i++;
        continue;
      }
      const end = chunk.indexOf(newline, i);
      if (end < 0) break;
      this.count++;
      this.matched = 0;
      i = end + 1;
    }
    return this.count - before;
  }
}

/** When the watch saw its n-th bind (1-based), for every n so far. */
export class BindClock {
  private readonly times: number[] = [];
  private readonly counter = new AddedEventCounter();
  private readonly abort = new AbortController();
  private failure: Error | undefined;
  private onProgress: () => void = () => undefined;

  private constructor() {}

  /** Watches pods bound after `resourceVersion`. */
  static async start(client: Client, resourceVersion: string): Promise<BindClock> {
    const clock = new BindClock();
    const query = { watch: 'true', fieldSelector: 'spec.nodeName!=', resourceVersion };
    const res: IncomingMessage = await client.openStream('GET', client.path('pods'), query, clock.abort.signal);
    if ((res.statusCode ?? 0) >= 400) throw await client.errorFrom(res);
    res.on('data', (chunk: Buffer) => clock.read(chunk));
    res.on('error', (err) => clock.fail(err));
    res.on('close', () => clock.fail(new Error('the watch of bound pods ended')));
    return clock;
  }

  /** Binds seen so far. */
  get seen(): number {
    return this.times.length;
  }

  /** The time the n-th bind was seen. */
  at(n: number): number {
    const time = this.times[n - 1];
    if (time === undefined) throw new Error(`bind ${n} not seen; ${this.times.length} so far`);
    return time;
  }

  /** Resolves once `n` binds have been seen; rejects if none comes for `stallMs`. */
  until(n: number, stallMs = 30_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let lastSeen = this.seen;
      let lastProgress = Date.now();
      const check = (): void => {
        if (this.failure) {
          clearInterval(timer);
          reject(this.failure);
        } else if (this.seen >= n) {
          clearInterval(timer);
          resolve();
        } else if (this.seen !== lastSeen) {
          lastSeen = this.seen;
          lastProgress = Date.now();
        } else if (Date.now() - lastProgress > stallMs) {
          clearInterval(timer);
          reject(new Error(`no pod bound for ${stallMs / 1000} s; ${this.seen} of ${n} binds seen`));
        }
      };
      const timer = setInterval(check, 200);
      this.onProgress = () => {
        if (this.seen >= n || this.failure) check();
      };
      check();
    });
  }

  stop(): void {
    this.abort.abort();
  }

  private read(chunk: Buffer): void {
    if (this.failure) return;
    let ended: number;
    try {
      ended = this.counter.push(chunk);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const now = Date.now();
    for (let k = 0; k < ended; k++) this.times.push(now);
    this.onProgress();
  }

  private fail(err: Error): void {
    if (this.abort.signal.aborted) return;
    this.failure ??= err;
    this.onProgress();
  }
}
