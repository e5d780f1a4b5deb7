import { groupVersion, type KubeObject } from '@peapod/api';
import type { ListQuery, Registry } from '../registry/registry';
import { StatusError } from '../errors';
import { toTable, TableRequest } from './tables';
import type { WatchEncoding } from './negotiation';

export interface WatchRequest {
  resource: string;
  namespace: string | undefined;
  query: ListQuery;
  fromRev: number | undefined;
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
}

export interface WatchHooks {
  onEvent?: () => void;
  onEnd?: () => void;
}

const bookmarkIntervalMs = 5_000;

/** A watcher with this much unsent is not reading: it is dropped (it will rewatch from its last resourceVersion). */
export const defaultWatchBacklogBytes = 16 * 1024 * 1024;

/**
 * Runs one watch: history and live events from the registry, bookmarks, the timeout,
 * and a cut-off for a peer that stops reading. Resolves, once the watch is registered, to a
 * function that ends it.
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
  const emit = (type: 'ADDED' | 'MODIFIED' | 'DELETED', event: { object: KubeObject; json: string }) => {
    hooks.onEvent?.();
    if (req.table) {
      const table = toTable(req.resource, [event.object], req.table, { resourceVersion: event.object.metadata.resourceVersion });
      send(encoding.built(type, table));
    } else {
      send(encoding.event(type, event.object, event.json));
    }
  };
  try {
    // The store ending the watch (its cache reloaded) ends the response: the client watches again.
    stopStore = (await registry.watch(req.resource, req.namespace, req.query, req.fromRev, emit, () => end())).stop;
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
    const r = registry.strategy(req.resource).resource;
    const kind = r.kind;
    const apiVersion = groupVersion(r);
    const tick = () => {
      send(encoding.built('BOOKMARK', { kind, apiVersion, metadata: { resourceVersion: String(registry.store.cache.revision) } }));
      if (!ended) timers[0] = setTimeout(tick, bookmarkIntervalMs);
    };
    timers.push(setTimeout(tick, bookmarkIntervalMs));
  }
  timers.push(setTimeout(end, req.timeoutSeconds * 1000));
  return end;
}
