import type { Container, HTTPGetAction, LifecycleHandler } from '@peapod/api';
import { httpGetOnce, httpGetUrl, isHttpSuccess } from '../probe/handlers/http-get';
import { resolvePort } from '../probe/handlers/port';
import { errorMessage } from './errors';
import type { ExecResult, HookHandlerKind, HookResult } from './types';

export interface HookContext {
  container: Container;
  containerId: string;
  /** Where httpGet goes when the handler names no host. */
  podIP: string;
  exec: (id: string, cmd: string[], timeoutMs: number) => Promise<ExecResult>;
  /** How an httpGet handler is sent; default: a real GET to the pod (the fake runtime answers without a network). */
  httpGet?: HttpGetFn;
}

export type HttpGetFn = (action: HTTPGetAction, ctx: HookContext, timeoutMs: number) => Promise<{ ok: boolean; message: string; timedOut?: boolean }>;

/** The longest a timer can wait: a hook given this has, in effect, no time limit. */
export const NO_HOOK_TIMEOUT_MS = 2 ** 31 - 1;

export function handlerKind(handler: LifecycleHandler): HookHandlerKind {
  if (handler.exec) return 'exec';
  if (handler.httpGet) return 'httpGet';
  if (handler.sleep) return 'sleep';
  return 'invalid';
}

/** One GET; 2xx and 3xx count as success, as Kubernetes judges HTTP handlers. */
const httpGet: HttpGetFn = async (action, ctx, timeoutMs) => {
  if (!action.host && !ctx.podIP) return { ok: false, message: 'no host for httpGet: the pod has no IP' };
  const url = httpGetUrl(action, ctx.podIP, resolvePort(ctx.container, action.port));
  const answer = await httpGetOnce(action, url, timeoutMs);
  if (answer.error !== undefined) return { ok: false, message: `GET ${url}: ${answer.error}`, timedOut: answer.timedOut };
  return { ok: isHttpSuccess(answer.code), message: `HTTP ${answer.code} from ${url}` };
};

/**
 * Runs a lifecycle handler with at most timeoutMs; past that it reports timed-out (the
 * caller decides what a late hook means). An abort (the pod is being deleted) ends the
 * wait at once with status aborted.
 */
export async function runHandler(handler: LifecycleHandler, ctx: HookContext, timeoutMs: number, signal?: AbortSignal): Promise<HookResult> {
  const start = Date.now();
  const kind = handlerKind(handler);
  const done = (status: HookResult['status'], message?: string): HookResult => {
    const result: HookResult = { handler: kind, status, durationMs: Date.now() - start };
    if (message) result.message = message;
    return result;
  };
  const work = async (): Promise<HookResult> => {
    if (handler.exec) {
      const cmd = handler.exec.command ?? [];
      if (cmd.length === 0) return done('failed', 'exec handler has no command');
      const result = await ctx.exec(ctx.containerId, cmd, timeoutMs);
      if (result.timedOut) return done('timed-out', `still running after ${timeoutMs} ms`);
      if (result.exitCode === 0) return done('ok');
      return done('failed', `command ${JSON.stringify(cmd)} exited with ${result.exitCode}: ${result.output.trim()}`);
    }
    if (handler.httpGet) {
      const result = await (ctx.httpGet ?? httpGet)(handler.httpGet, ctx, timeoutMs);
      // The GET's own timer says so; a timer may fire a millisecond before Date.now() reaches the timeout.
      if (!result.ok && (result.timedOut || Date.now() - start >= timeoutMs)) return done('timed-out', result.message);
      return done(result.ok ? 'ok' : 'failed', result.message);
    }
    if (handler.sleep) {
      const wanted = Math.max(0, handler.sleep.seconds) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wanted, Math.max(0, timeoutMs))));
      return wanted > timeoutMs ? done('timed-out', `sleep ${handler.sleep.seconds}s outlasts the grace period`) : done('ok');
    }
    return done('failed', 'handler has none of exec, httpGet, sleep');
  };
  const settled = work().catch((err: unknown) => done('failed', errorMessage(err)));
  if (!signal) return settled;
  if (signal.aborted) return done('aborted');
  // Aborting stops the waiting, not the handler: an exec'd command runs on until it ends or
  // its container stops (which, when a pod is deleted, follows soon).
  let onAbort = (): void => undefined;
  const aborted = new Promise<HookResult>((resolve) => {
    onAbort = () => resolve(done('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([settled, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
