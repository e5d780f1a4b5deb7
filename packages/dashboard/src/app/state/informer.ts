// List, then watch from the list's resourceVersion, for one collection: client-go's
// reflector in the browser. The list is read in pages of 500 (limit and continue), one
// snapshot at the first page's resourceVersion, and started over once if the server has
// dropped that snapshot (410) before the last page, as client-go's pager does. A watch
// that ends normally is reopened from the last resourceVersion seen; an ERROR event with
// 410 (Gone) relists; a 404 means the cluster does not serve the resource (the view says
// so and nothing is retried); other failures are shown and retried with back-off. No
// polling: every change arrives on the watch.

import type { KubeObject, Status, WatchEvent } from '@peapod/api';
import { statusText } from '../api';
import type { Change, Kind } from './store';

export interface ListResult {
  items: KubeObject[];
  metadata: { resourceVersion?: string; continue?: string };
}

export interface WatchHandlers {
  message(text: string): void;
  /** normal: the server ended the stream on purpose (timeout), not a failure */
  closed(normal: boolean): void;
}

/** How the informer reaches the API (through the dashboard's proxy in the page; fakes in tests). */
export interface Transport {
  /** Rejects with an error that has `code` (the HTTP status) and `message` when the API refuses. */
  list(path: string): Promise<ListResult>;
  watch(pathAndQuery: string, handlers: WatchHandlers): { close(): void };
}

export interface InformerTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

/** Objects asked for per list request: client-go's default page size. */
const listPageSize = 500;
const maxBackoffMs = 30_000;
const quickCloseMs = 1_000;

function codeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export class Informer {
  private rv = '';
  private stopped = false;
  private failures = 0;
  private current?: { close(): void };

  constructor(
    private readonly kind: Kind,
    private readonly path: string,
    private readonly transport: Transport,
    private readonly sink: (c: Change) => void,
    private readonly timers: InformerTimers = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms) },
  ) {}

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.current?.close();
  }

  private retryLater(what: () => void): void {
    this.failures++;
    const ms = Math.min(maxBackoffMs, 500 * 2 ** Math.min(this.failures, 6));
    this.timers.setTimeout(() => {
      if (!this.stopped) what();
    }, ms);
  }

  private withQuery(query: string): string {
    return `${this.path}${this.path.includes('?') ? '&' : '?'}${query}`;
  }

  /** The whole collection, its pages joined; undefined when the informer was stopped between pages. */
  private async listPages(): Promise<ListResult | undefined> {
    for (let attempt = 1; ; attempt++) {
      const first = await this.transport.list(this.withQuery(`limit=${listPageSize}`));
      const items = [...(first.items ?? [])];
      try {
        for (let token = first.metadata.continue; token; ) {
          if (this.stopped) return undefined;
          const next = await this.transport.list(this.withQuery(`limit=${listPageSize}&continue=${encodeURIComponent(token)}`));
          for (const item of next.items ?? []) items.push(item);
          token = next.metadata.continue;
        }
        // Every page carries the first page's resourceVersion; the first page's is taken to be sure.
        return { items, metadata: { resourceVersion: first.metadata.resourceVersion } };
      } catch (err) {
        // 410: the server no longer holds the list's snapshot; list again from the start, once.
        if (attempt > 1 || codeOf(err) !== 410 || this.stopped) throw err;
      }
    }
  }

  private async relist(): Promise<void> {
    let list: ListResult | undefined;
    try {
      list = await this.listPages();
    } catch (err) {
      if (this.stopped) return;
      const message = err instanceof Error ? err.message : String(err);
      if (codeOf(err) === 404) {
        this.sink({ kind: this.kind, type: 'STATE', state: { phase: 'unavailable', message } });
        return;
      }
      this.sink({ kind: this.kind, type: 'STATE', state: { phase: 'error', message } });
      this.retryLater(() => void this.relist());
      return;
    }
    if (list === undefined || this.stopped) return;
    this.rv = list.metadata.resourceVersion ?? '';
    this.sink({ kind: this.kind, type: 'SYNC', objects: list.items });
    this.watch();
  }

  private watch(): void {
    // Set when the stream ended in an ERROR event: its close is then already dealt with.
    let handled = false;
    const openedAt = this.timers.now();
    const query = `watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(this.rv)}`;
    this.current = this.transport.watch(this.withQuery(query), {
      message: (text) => {
        if (this.stopped || handled) return;
        let event: WatchEvent<KubeObject | Status>;
        try {
          event = JSON.parse(text) as WatchEvent<KubeObject | Status>;
        } catch {
          return;
        }
        const rv = event.object?.metadata?.resourceVersion;
        switch (event.type) {
          case 'ADDED':
          case 'MODIFIED':
          case 'DELETED':
            this.failures = 0;
            if (rv) this.rv = rv;
            this.sink({ kind: this.kind, type: event.type, object: event.object as KubeObject });
            break;
          case 'BOOKMARK':
            if (rv) this.rv = rv;
            break;
          case 'ERROR': {
            handled = true;
            const status = event.object as Status;
            if (status.code === 410) {
              void this.relist();
            } else if (status.code === 404) {
              this.sink({ kind: this.kind, type: 'STATE', state: { phase: 'unavailable', message: statusText(status) } });
            } else {
              this.sink({ kind: this.kind, type: 'STATE', state: { phase: 'error', message: statusText(status) } });
              this.retryLater(() => void this.relist());
            }
            break;
          }
        }
      },
      closed: (normal) => {
        if (this.stopped || handled) return;
        // A stream the server ends on purpose is reopened at once, unless it ends as soon as it opens.
        if (normal && this.timers.now() - openedAt >= quickCloseMs) {
          this.watch();
          return;
        }
        // Several failed watches in a row: start over from a fresh list.
        this.retryLater(() => (this.failures > 3 ? void this.relist() : this.watch()));
      },
    });
  }
}
