import { openStream } from '../bench/load';
import WebSocket from 'ws';

export interface Collected {
  events: { type: string; object: any }[]; // arbitrary JSON from the wire
  close(): void;
  /** resolves once n events have arrived */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

function collector(close: () => void): Collected & { push(e: { type: string; object: unknown }): void } {
  const events: { type: string; object: any }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    events,
    close,
    push(e) {
      events.push(e);
      for (const w of [...waiters]) {
        if (events.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    },
    waitFor(n, timeoutMs = 5000) {
      if (events.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`only ${events.length} of ${n} events: ${JSON.stringify(events.map((e) => e.type))}`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
      });
    },
  };
}

/** Opens a chunked HTTP watch and collects its events. */
export async function watchHttp(base: string, path: string, headers: Record<string, string> = {}): Promise<Collected> {
  let stream: { close(): void } | undefined;
  const c = collector(() => stream?.close());
  stream = await openStream(Number(new URL(base).port), path, (line) => {
    if (line.trim()) c.push(JSON.parse(line));
  }, headers);
  return c;
}

/** Opens a WebSocket watch and collects its events. */
export function watchWs(base: string, path: string): Promise<Collected> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace(/^http/, 'ws') + path);
    const c = collector(() => ws.close());
    ws.on('message', (data) => c.push(JSON.parse(data.toString())));
    ws.on('open', () => resolve(c));
    ws.on('error', reject);
  });
}
