// httpGet: one GET to scheme://host:port/path (host: the pod IP unless the action names one);
// a status from 200 to 399 passes, as Kubernetes judges HTTP handlers. Redirects are not
// followed (a 3xx passes, as the kubelet lets a redirect to another host pass). Certificates
// are not verified: pods commonly serve self-signed ones, and the kubelet does not check them.
import http from 'http';
import https from 'https';
import type { HTTPGetAction } from '@peapod/api';
import type { ProbeHandler } from '../types';
import { resolvePort } from './port';

/** The User-Agent the kubelet of the Kubernetes version we speak sends. */
const PROBE_USER_AGENT = 'kube-probe/1.32';
/** Only the status matters; a large body is not read past this. */
const MAX_BODY_BYTES = 10 * 1024;

export interface HttpGetAnswer {
  /** The HTTP status, when one came back. */
  code?: number;
  /** Why no status came back. */
  error?: string;
  timedOut: boolean;
  url: string;
}

export function isHttpSuccess(code: number | undefined): boolean {
  return code !== undefined && code >= 200 && code < 400;
}

/** The URL an action asks for, with the host it falls back to. */
export function httpGetUrl(action: HTTPGetAction, fallbackHost: string, port: number): string {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || fallbackHost;
  const path = action.path ? (action.path.startsWith('/') ? action.path : `/${action.path}`) : '/';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

/** One GET with the action's headers; never rejects. */
export function httpGetOnce(action: HTTPGetAction, url: string, timeoutMs: number): Promise<HttpGetAnswer> {
  const headers: Record<string, string> = { 'User-Agent': PROBE_USER_AGENT, Accept: '*/*' };
  for (const h of action.httpHeaders ?? []) headers[h.name] = h.value;
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: Omit<HttpGetAnswer, 'url'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...answer, url });
    };
    const request = client.get(url, { headers, rejectUnauthorized: false }, (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_BODY_BYTES) response.destroy();
      });
      response.on('error', () => undefined);
      done({ code: response.statusCode ?? 0, timedOut: false });
      response.resume();
    });
    const timer = setTimeout(() => {
      done({ error: 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)', timedOut: true });
      request.destroy();
    }, timeoutMs);
    request.on('error', (err: NodeJS.ErrnoException) => {
      const detail = err.code === 'ECONNREFUSED' ? `dial tcp ${new URL(url).host}: connect: connection refused` : err.message;
      done({ error: detail, timedOut: false });
    });
  });
}

export const httpGetProbe: ProbeHandler<HTTPGetAction> = async (action, target, timeoutMs) => {
  const url = httpGetUrl(action, target.podIP, resolvePort(target.container, action.port));
  const answer = await httpGetOnce(action, url, timeoutMs);
  if (answer.error !== undefined) return { result: 'failure', output: `Get "${url}": ${answer.error}` };
  if (isHttpSuccess(answer.code)) return { result: 'success', output: '' };
  return { result: 'failure', output: `HTTP probe failed with statuscode: ${answer.code}` };
};
