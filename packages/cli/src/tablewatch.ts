// A watch whose events carry Table rows (Accept: as=Table), which @peapod/client's watch
// does not ask for: `get -w` prints the server's columns for each change, as kubectl does.

import * as http from 'http';
import * as https from 'https';
import { ApiError, ConnectionError, encodeQuery, WatchDecoder } from '@peapod/client';
import type { ClientOptions, Query } from '@peapod/client';
import type { WatchEventType } from '@peapod/api';
import { isTable, tableAccept } from './printers/table';
import type { ServerTable } from './printers/table';

export type TableEventHandler = (type: WatchEventType, table: ServerTable) => void;

/** Streams Table watch events until the server ends the watch; rejects on errors. */
export function watchTable(options: ClientOptions, path: string, query: Query, onEvent: TableEventHandler): Promise<void> {
  const base = new URL(options.server);
  const url = `${options.server.replace(/\/+$/, '')}${path}?${encodeQuery({ ...query, watch: 'true' })}`;
  const headers: Record<string, string> = { Accept: tableAccept, 'User-Agent': options.userAgent ?? 'peactl' };
  if (options.token !== undefined && options.token !== '') headers.Authorization = `Bearer ${options.token}`;
  const tls: https.RequestOptions = {};
  if (options.ca !== undefined) tls.ca = options.ca;
  if (options.cert !== undefined) tls.cert = options.cert;
  if (options.key !== undefined) tls.key = options.key;
  if (options.insecureSkipTLSVerify) tls.rejectUnauthorized = false;
  const request = base.protocol === 'https:' ? https.request : http.request;

  return new Promise<void>((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      if ((res.statusCode ?? 0) >= 400) {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // Not JSON: ApiError wraps the text.
          }
          reject(ApiError.fromResponse(res.statusCode ?? 500, body));
        });
        return;
      }
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
      res.on('error', (err) => reject(new ConnectionError(options.server, err)));
    });
    req.on('error', (err) => reject(new ConnectionError(options.server, err)));
    req.end();
  });
}
