import { groupVersion, initialEventsEndAnnotation, type KubeObject } from '@peapod/api';
import type { ListQuery, Registry } from '../registry/registry';
import { StatusError } from '../errors';
import { toTable, TableRequest } from './tables';
import type { WatchEncoding } from './negotiation';
import type { ServerResponse } from 'http';
import type WebSocket from 'ws';

export interface WatchRequest {
  resource: string;
  namespace: string | undefined;
  query: ListQuery;
  /**
   * After a revision; from the current state, its objects sent first as ADDED events, then
   * (sendInitialEvents) a bookmark annotated as their end; or from now, without them.
   */
  from: { rev: number } | { initialEvents: true; endBookmark: boolean } | 'now';
  table: TableRequest | undefined;
  bookmarks: boolean;
  timeoutSeconds: number;
  encoding: WatchEncoding;
}

/** Where a watch's events go: a chunked HTTP response or a WebSocket. */
export interface WatchOutput {
  /** false when the peer is not keeping up (more than the buffer limit queued) */
  write(event: string | Buffer): boolean;
  end(): void;
  /** cuts the connection of a peer that stopped reading (an orderly end would only queue behind its backlog) */
  drop(): void;
  /**
   * Resolves, after other work has had its turn, once the peer has taken most of what was
   * written: true, or false if it is gone. A watch's initial events (every object of a
   * resource: hundreds of megabytes for 150,000 pods) go out at the pace it reads them.
   */
  drained(): Promise<boolean>;
}

export interface WatchHooks {
  onEvent?: () => void;
  onEnd?: () => void;
}

const bookmarkIntervalMs = 5_000;

/** Initial events written between two waits for the peer: a slice of the thread of a few milliseconds. */
const initialEventsPerSlice = 64;

/** Initial events wait while the peer has more than this unread (or a quarter of the backlog that drops it, if less). */
const initialEventsBacklogBytes = 1024 * 1024;

function pacedBelow(dropAtBytes: number): number {
  return Math.min(initialEventsBacklogBytes, dropAtBytes / 4);
}

/** WatchOutput.drained for a chunked HTTP response dropped at `dropAtBytes` of backlog. */
export function responseDrained(res: ServerResponse, dropAtBytes: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      resolve(false);
    } else if (res.writableLength < pacedBelow(dropAtBytes)) {
      setImmediate(() => resolve(!res.destroyed));
    } else {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve(!res.destroyed);
      };
      res.on('drain', done);
      res.on('close', done);
    }
  });
}

/** WatchOutput.drained for a WebSocket, which tells no drain: its buffer is looked at every 10 ms. */
export function socketDrained(ws: WebSocket, dropAtBytes: number): Promise<boolean> {
  return new Promise((resolve) => {
    const check = () => {
      if (ws.readyState !== ws.OPEN) resolve(false);
      else if (ws.bufferedAmount < pacedBelow(dropAtBytes)) resolve(true);
      else setTimeout(check, 10);
    };
    setImmediate(check);
  });
}

/** A watcher with this much unsent is not reading: it is dropped (it will rewatch from its last resourceVersion). */
export const defaultWatchBacklogBytes = 16 * 1024 * 1024;

/**
 * Runs one watch: history and live events from the registry, bookmarks, the timeout,
 * and a cut-off for a peer that stops reading. Resolves, once the watch is registered and its
 * initial events (if any) sent, to a function that ends it.
 */
export async function runWatch(registry: Registry, req: WatchRequest, out: WatchOutput, hooks: WatchHooks = {}): Promise<() => void> {
  let ended = false;
  let stopStore: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];
  const finish = (close: () => void) => {
    if (ended) return;
    ended = true;
    stopStore?.();
    for (const t of timers) clearTimeout(t);
    close();
    hooks.onEnd?.();
  };
  const end = () => finish(() => out.end());
  const send = (event: string | Buffer) => {
    if (ended) return;
    if (!out.write(event)) finish(() => out.drop());
  };
  const encoding = req.encoding;
  const r = registry.strategy(req.resource).resource;
  const bookmark = (rev: number, annotations?: Record<string, string>) =>
    encoding.built('BOOKMARK', { kind: r.kind, apiVersion: groupVersion(r), metadata: { resourceVersion: String(rev), ...(annotations ? { annotations } : {}) } });
  const emit = (type: 'ADDED' | 'MODIFIED' | 'DELETED', event: { readonly object: KubeObject; json: string }) => {
    hooks.onEvent?.();
    if (req.table) {
      const object = event.object;
      const table = toTable(req.resource, [object], req.table, { resourceVersion: object.metadata.resourceVersion });
      send(encoding.built(type, table));
    } else {
      send(encoding.event(type, event));
    }
  };
  const from = req.from;
  const endBookmark = from !== 'now' && 'initialEvents' in from && from.endBookmark;
  const sendInitial = async (items: { readonly object: KubeObject; json: string }[], rev: number): Promise<void> => {
    for (let i = 0; i < items.length && !ended; i++) {
      emit('ADDED', items[i]);
      if ((i + 1) % initialEventsPerSlice === 0 && !(await out.drained())) finish(() => out.drop());
    }
    if (endBookmark) send(bookmark(rev, { [initialEventsEndAnnotation]: 'true' }));
  };
  const start = from === 'now' ? 'now' : 'rev' in from ? { fromRev: from.rev } : { initial: sendInitial };
  try {
    // The store ending the watch (its cache reloaded) ends the response: the client watches again.
    stopStore = (await registry.watch(req.resource, req.namespace, req.query, start, emit, () => end())).stop;
  } catch (err) {
    if (err instanceof StatusError && err.code === 410) {
      send(encoding.built('ERROR', err.status));
      end();
      return end;
    }
    throw err;
  }
  if (ended) {
    stopStore?.();
    return end;
  }
  if (req.bookmarks) {
    const tick = () => {
      send(bookmark(registry.store.cache.revision));
      if (!ended) timers[0] = setTimeout(tick, bookmarkIntervalMs);
    };
    timers.push(setTimeout(tick, bookmarkIntervalMs));
  }
  timers.push(setTimeout(end, req.timeoutSeconds * 1000));
  return end;
}
