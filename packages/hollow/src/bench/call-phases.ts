// Where one call of our client spent its time, from the diagnostics channels undici (the
// client's pool) publishes on: before its request was made (our client's own work), until
// the request's headers were written to a connection (a free one of the pool, or a new one),
// until the response's headers were read (the server, and the kernel both ways), and the
// body. The server's own measure of a call starts only when its handler does, and a request on
// a new connection is read only once the server has accepted the connection: the kernel queues
// it meanwhile (the listen queue), or drops the handshake when that queue is full.

import { AsyncLocalStorage } from 'async_hooks';
import diagnosticsChannel from 'diagnostics_channel';
import { performance } from 'perf_hooks';

/** Milliseconds of each step; a step not reached (the call failed first) is absent. */
export interface CallPhases {
  /** the call begun → its HTTP request made */
  toRequestMs?: number;
  /** the request made → its headers written to a connection */
  toSendMs?: number;
  /** the headers written → the response's headers read */
  toResponseMs?: number;
  /** the response's headers → its end */
  bodyMs?: number;
  /** whether the request went out on a connection no request had used before */
  newConnection?: boolean;
}

interface Trace {
  begun: number;
  created?: number;
  sent?: number;
  headers?: number;
  ended?: number;
  newConnection?: boolean;
}

interface UndiciMessage {
  request: object;
}

interface SendHeadersMessage extends UndiciMessage {
  socket: object;
}

/** Traces the calls run through it while started; a request made outside one is not traced. */
export class CallPhaseTracer {
  private readonly current = new AsyncLocalStorage<Trace>();
  private readonly byRequest = new WeakMap<object, Trace>();
  /** every connection a request of this process has gone out on, traced or not */
  private readonly usedSockets = new WeakSet<object>();
  private readonly handlers: [string, (message: unknown) => void][] = [
    [
      'undici:request:create',
      (m) => {
        const trace = this.current.getStore();
        if (!trace) return;
        this.byRequest.set((m as UndiciMessage).request, trace);
        // A call that sends again (Retry-After, another server) is timed from its first request.
        trace.created ??= performance.now();
      },
    ],
    [
      'undici:client:sendHeaders',
      (m) => {
        const { socket } = m as SendHeadersMessage;
        const trace = this.mark(m, 'sent');
        if (trace) trace.newConnection = !this.usedSockets.has(socket);
        this.usedSockets.add(socket);
      },
    ],
    ['undici:request:headers', (m) => this.mark(m, 'headers')],
    ['undici:request:trailers', (m) => this.mark(m, 'ended')],
  ];

  start(): void {
    for (const [name, handler] of this.handlers) diagnosticsChannel.subscribe(name, handler);
  }

  stop(): void {
    for (const [name, handler] of this.handlers) diagnosticsChannel.unsubscribe(name, handler);
  }

  /** Runs fn, tracing the requests it makes; `phases` reads what was seen once it settled. */
  trace<T>(fn: () => Promise<T>): { result: Promise<T>; phases: () => CallPhases } {
    const trace: Trace = { begun: performance.now() };
    return { result: this.current.run(trace, fn), phases: () => phasesOf(trace) };
  }

  private mark(message: unknown, step: 'sent' | 'headers' | 'ended'): Trace | undefined {
    const trace = this.byRequest.get((message as UndiciMessage).request);
    if (trace) trace[step] = performance.now();
    return trace;
  }
}

function phasesOf(t: Trace): CallPhases {
  const phases: CallPhases = {};
  const between = (from: number | undefined, to: number | undefined): number | undefined => (from !== undefined && to !== undefined ? to - from : undefined);
  const set = (key: 'toRequestMs' | 'toSendMs' | 'toResponseMs' | 'bodyMs', ms: number | undefined): void => {
    if (ms !== undefined) phases[key] = ms;
  };
  set('toRequestMs', between(t.begun, t.created));
  set('toSendMs', between(t.created, t.sent));
  set('toResponseMs', between(t.sent, t.headers));
  set('bodyMs', between(t.headers, t.ended));
  if (t.newConnection !== undefined) phases.newConnection = t.newConnection;

  return phases;
}
