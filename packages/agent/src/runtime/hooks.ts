import http from 'http';
import https from 'https';
import type { Container, HTTPGetAction, LifecycleHandler } from '@peapod/api';
import { errorMessage } from './errors';
import type { ExecResult, HookHandlerKind, HookResult } from './types';

export interface HookContext {
  container: Container;
  containerId: string;
  /** Where httpGet goes when the handler names no host. */
  podIP: string;
  exec: (id: string, cmd: string[], timeoutMs: number) => Promise<ExecResult>;
}

export function handlerKind(handler: LifecycleHandler): HookHandlerKind {
  if (handler.exec) return 'exec';
  if (handler.httpGet) return 'httpGet';
  if (handler.sleep) return 'sleep';
  return 'invalid';
}

function resolvePort(container: Container, port: number | string): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`port "${port}" is not a named port of container "${container.name}"`);
  return named.containerPort;
}

/** One GET; 2xx and 3xx count as success, as Kubernetes judges HTTP handlers. */
function httpGet(action: HTTPGetAction, ctx: HookContext, timeoutMs: number): Promise<{ ok: boolean; message: string }> {
  const port = resolvePort(ctx.container, action.port);
  const host = action.host || ctx.podIP;
  if (!host) return Promise.resolve({ ok: false, message: 'no host for httpGet: the pod has no IP' });
  const path = action.path ? (action.path.startsWith('/') ? action.path : `/${action.path}`) : '/';
  const headers: Record<string, string> = {};
  for (const h of action.httpHeaders ?? []) headers[h.name] = h.value;
  const client = action.scheme === 'HTTPS' ? https : http;
  return new Promise((resolve) => {
    const request = client.request(
      // Hooks do not verify certificates: pods commonly serve self-signed ones.
      { host, port, path, method: 'GET', headers, timeout: timeoutMs, rejectUnauthorized: false },
      (response) => {
        response.resume();
        const code = response.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, message: `HTTP ${code} from ${host}:${port}${path}` });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (err) => resolve({ ok: false, message: `GET ${host}:${port}${path}: ${err.message}` }));
    request.end();
  });
}

/**
 * Runs a lifecycle handler with at most timeoutMs; past that it reports timed-out (the
 * caller decides what a late hook means).
 */
export async function runHandler(handler: LifecycleHandler, ctx: HookContext, timeoutMs: number): Promise<HookResult> {
  const start = Date.now();
  const kind = handlerKind(handler);
  const done = (status: HookResult['status'], message?: string): HookResult => {
    const result: HookResult = { handler: kind, status, durationMs: Date.now() - start };
    if (message) result.message = message;
    return result;
  };
  try {
    if (handler.exec) {
      const cmd = handler.exec.command ?? [];
      if (cmd.length === 0) return done('failed', 'exec handler has no command');
      const result = await ctx.exec(ctx.containerId, cmd, timeoutMs);
      if (result.timedOut) return done('timed-out', `still running after ${timeoutMs} ms`);
      if (result.exitCode === 0) return done('ok');
      return done('failed', `command ${JSON.stringify(cmd)} exited with ${result.exitCode}: ${result.output.trim()}`);
    }
    if (handler.httpGet) {
      const result = await httpGet(handler.httpGet, ctx, timeoutMs);
      if (Date.now() - start >= timeoutMs && !result.ok) return done('timed-out', result.message);
      return done(result.ok ? 'ok' : 'failed', result.message);
    }
    if (handler.sleep) {
      const wanted = Math.max(0, handler.sleep.seconds) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wanted, Math.max(0, timeoutMs))));
      return wanted > timeoutMs ? done('timed-out', `sleep ${handler.sleep.seconds}s outlasts the grace period`) : done('ok');
    }
    return done('failed', 'handler has none of exec, httpGet, sleep');
  } catch (err) {
    return done('failed', errorMessage(err));
  }
}
