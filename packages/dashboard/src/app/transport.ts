// The informers' transport in the page: lists with fetch, watches over WebSockets, both to
// the page's own origin (the dashboard server proxies them). WebSockets, not chunked
// responses, because a browser holds at most six HTTP/1.1 connections to one origin and
// the page keeps eight watches open.

import { request } from './api';
import type { ListResult, Transport } from './state/informer';

export const pageTransport: Transport = {
  list: (path) => request<ListResult>('GET', path),
  watch(pathAndQuery, handlers) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}${pathAndQuery}`);
    ws.onmessage = (e: MessageEvent) => handlers.message(String(e.data));
    ws.onclose = (e: CloseEvent) => handlers.closed(e.code === 1000);
    return { close: () => ws.close() };
  },
};
