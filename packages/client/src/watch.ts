// Watch streams: chunked HTTP (one JSON event per line) or a WebSocket (one JSON event per
// message) on the same URL.
//
// Contract: events of type ADDED, MODIFIED, DELETED and BOOKMARK go to the handler in
// order. An ERROR event is never delivered: it ends the watch and `done` rejects with an
// ApiError built from the event's Status, so `err.code === 410` tells the caller its
// resourceVersion is too old and it must relist. `done` resolves when the server ends the
// stream normally (e.g. timeoutSeconds elapsed) or stop() is called, and rejects with a
// ConnectionError when the connection fails, an ApiError when the server refuses the
// watch, or the handler's own exception (which also ends the watch).

import type { IncomingMessage } from 'http';
import { StringDecoder } from 'string_decoder';
import type { RawData } from 'ws';
import { failureStatus, isStatus } from '@peapod/api';
import type { KubeObject, WatchEvent, WatchEventType } from '@peapod/api';
import { ApiError, ConnectionError } from './errors';
import { withoutManagedFields } from './managed-fields';
import { Turns } from './turns';
import type { Client, ListOptions, Query } from './rest';

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  /** Default 'http'. */
  transport?: 'http' | 'websocket';
  /** Objects come without metadata.managedFields, cut from each event's text before it is parsed. */
  dropManagedFields?: boolean;
  /**
   * The current objects first, as ADDED events, then a BOOKMARK annotated
   * `k8s.io/initial-events-end` (a streaming list, Kubernetes' sendInitialEvents); sets
   * resourceVersionMatch NotOlderThan, which the server requires with it.
   */
  sendInitialEvents?: boolean;
}

export type WatchEventHandler<T> = (event: WatchEvent<T>) => void;

export interface Watch {
  /** Ends the watch; `done` then resolves (unless it had already settled). */
  stop(): void;
  readonly done: Promise<void>;
}

const eventTypes: ReadonlySet<string> = new Set<WatchEventType>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** Parses one line (or one WebSocket message) into an event; blank lines carry none. */
export function parseWatchEvent(line: string): WatchEvent<unknown> | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`malformed watch event: ${text.slice(0, 200)}`);
  }
  if (typeof value !== 'object' || value === null) throw new Error(`malformed watch event: ${text.slice(0, 200)}`);
  const { type, object } = value as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || !eventTypes.has(type) || typeof object !== 'object' || object === null) {
    throw new Error(`malformed watch event: ${text.slice(0, 200)}`);
  }
  return { type: type as WatchEventType, object };
}

/**
 * Splits a byte stream into newline-delimited watch events. Chunk boundaries fall anywhere:
 * inside an event, inside a multi-byte character, or between several events.
 */
export class WatchDecoder {
  private readonly utf8 = new StringDecoder('utf8');
  private pending = '';
  private readonly dropManagedFields: boolean;

  /** With dropManagedFields, the objects lose metadata.managedFields before they are parsed (see managed-fields.ts). */
  constructor(opts: { dropManagedFields?: boolean } = {}) {
    this.dropManagedFields = opts.dropManagedFields === true;
  }

  push(chunk: Buffer | string): WatchEvent<unknown>[] {
    this.pending += typeof chunk === 'string' ? chunk : this.utf8.write(chunk);
    const events: WatchEvent<unknown>[] = [];
    let start = 0;
    for (let nl = this.pending.indexOf('\n'); nl >= 0; nl = this.pending.indexOf('\n', start)) {
      const event = this.parse(this.pending.slice(start, nl));
      if (event) events.push(event);
      start = nl + 1;
    }
    this.pending = this.pending.slice(start);
    return events;
  }

  /** The stream ended: a last event without a trailing newline still counts. */
  end(): WatchEvent<unknown>[] {
    const rest = this.pending + this.utf8.end();
    this.pending = '';
    const event = this.parse(rest);
    return event ? [event] : [];
  }

  private parse(line: string): WatchEvent<unknown> | undefined {
    return parseWatchEvent(this.dropManagedFields ? withoutManagedFields(line) : line);
  }
}

function errorFromEventObject(object: unknown): ApiError {
  if (isStatus(object)) return new ApiError({ ...object, code: object.code || 500 });
  return new ApiError(failureStatus(500, `watch failed: ${JSON.stringify(object).slice(0, 200)}`));
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

// Close codes that mean the server ended the stream on purpose.
const normalCloseCodes = new Set([1000, 1001, 1005]);

export function startWatch<T extends KubeObject>(
  client: Client,
  resource: string,
  opts: WatchOptions,
  onEvent: WatchEventHandler<T>,
): Watch {
  const path = client.path(resource, { namespace: opts.namespace });
  const query: Query = {
    watch: 'true',
    labelSelector: opts.labelSelector,
    fieldSelector: opts.fieldSelector,
    resourceVersion: opts.resourceVersion,
    allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
    timeoutSeconds: opts.timeoutSeconds,
    sendInitialEvents: opts.sendInitialEvents === undefined ? undefined : String(opts.sendInitialEvents),
    resourceVersionMatch: opts.sendInitialEvents === undefined ? undefined : 'NotOlderThan',
  };

  let resolveDone!: () => void;
  let rejectDone!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // A caller that only listens to events must not crash the process with an unhandled
  // rejection; callers that await `done` still see the error.
  done.catch(() => undefined);

  let finished = false;
  let cleanup: () => void = () => undefined;
  const finish = (err?: Error): void => {
    if (finished) return;
    finished = true;
    cleanup();
    if (err) rejectDone(err);
    else resolveDone();
  };

  const deliver = (events: WatchEvent<unknown>[]): void => {
    for (const event of events) {
      if (finished) return;
      if (event.type === 'ERROR') {
        finish(errorFromEventObject(event.object));
        return;
      }
      try {
        onEvent(event as WatchEvent<T>);
      } catch (err) {
        finish(asError(err));
        return;
      }
    }
  };

  const decode = (parse: () => WatchEvent<unknown>[]): void => {
    let events: WatchEvent<unknown>[];
    try {
      events = parse();
    } catch (err) {
      finish(asError(err));
      return;
    }
    deliver(events);
  };

  if (opts.transport === 'websocket') {
    const server = client.server;
    const ws = client.openWebSocket(path, query);
    cleanup = () => ws.terminate();
    ws.on('message', (data: RawData) => {
      const text = rawToString(data);
      decode(() => {
        const decoder = new WatchDecoder({ dropManagedFields: opts.dropManagedFields });
        return [...decoder.push(text), ...decoder.end()];
      });
    });
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      client.errorFrom(res).then(finish, finish);
    });
    ws.on('error', (err) => {
      // The client's own requests move to another server by themselves; a WebSocket says so.
      client.serverUnreachable(server);
      finish(new ConnectionError(server, err));
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (normalCloseCodes.has(code)) finish();
      else finish(new ConnectionError(client.server, new Error(`watch websocket closed with code ${code} ${reason.toString()}`.trim())));
    });
  } else {
    const abort = new AbortController();
    cleanup = () => abort.abort();
    client.openStream('GET', path, query, abort.signal).then(
      (res) => {
        if (finished) {
          res.destroy();
          return;
        }
        if ((res.statusCode ?? 0) >= 400) {
          client.errorFrom(res).then(finish, finish);
          return;
        }
        const server = client.server;
        const broken = (err: Error): void => {
          if (finished) return;
          // A stream cut short says its server is in trouble: the client's next request tries another.
          client.serverUnreachable(server);
          finish(new ConnectionError(server, err));
        };
        const decoder = new WatchDecoder({ dropManagedFields: opts.dropManagedFields });
        const turns = new Turns(res, () => finished);
        res.on('data', (chunk: Buffer) => {
          decode(() => decoder.push(chunk));
          turns.take(chunk.length);
        });
        res.on('end', () => {
          decode(() => decoder.end());
          finish();
        });
        res.on('error', broken);
        res.on('close', () => {
          if (!res.complete) broken(new Error('watch stream closed before it was complete'));
        });
      },
      (err: unknown) => finish(asError(err)),
    );
  }

  return { stop: () => finish(), done };
}
