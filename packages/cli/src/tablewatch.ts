// A watch whose events carry Table rows (Accept: as=Table), which @peapod/client's watch
// does not ask for: `get -w` prints the server's columns for each change, as kubectl does.

import { ApiError, ConnectionError, encodeQuery, WatchDecoder } from '@peapod/client';
import type { Client, Query } from '@peapod/client';
import type { WatchEventType } from '@peapod/api';
import { isTable, tableAccept } from './printers/table';
import type { ServerTable } from './printers/table';

export type TableEventHandler = (type: WatchEventType, table: ServerTable) => void;

/** Streams Table watch events until the server ends the watch; rejects on errors. */
export async function watchTable(client: Client, path: string, query: Query, onEvent: TableEventHandler): Promise<void> {
  // The client's own transport (credentials, TLS, moving to another server), with the Table's Accept.
  const res = await client.forward('GET', `${path}?${encodeQuery({ ...query, watch: 'true' })}`, { headers: { Accept: tableAccept } });
  if ((res.statusCode ?? 0) >= 400) throw await client.errorFrom(res);
  const server = client.server;
  return new Promise<void>((resolve, reject) => {
    const decoder = new WatchDecoder();
    const deliver = (events: ReturnType<WatchDecoder['push']>): void => {
      for (const e of events) {
        if (e.type === 'ERROR') {
          reject(ApiError.fromResponse(500, e.object));
          res.destroy();
          return;
        }
        if (e.type === 'BOOKMARK' || !isTable(e.object)) continue;
        onEvent(e.type, e.object);
      }
    };
    res.on('data', (chunk: Buffer) => {
      try {
        deliver(decoder.push(chunk));
      } catch (err) {
        reject(err);
        res.destroy();
      }
    });
    res.on('end', () => {
      try {
        deliver(decoder.end());
        resolve();
      } catch (err) {
        reject(err);
      }
    });
    res.on('error', (err) => reject(new ConnectionError(server, err)));
  });
}
