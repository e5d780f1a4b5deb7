import express, { Request, Response, Router } from 'express';
import { requestUrl } from '@peapod/api';
import type { Logger } from '@peapod/client';

/** One named check of an endpoint: resolves when it passes, rejects with the reason when not. */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

/** The checks behind /livez, /readyz and /healthz. */
export type HealthEndpoints = Record<'livez' | 'readyz' | 'healthz', HealthCheck[]>;

/** How long one check may take before it counts as failed (Kubernetes' --etcd-healthcheck-timeout). */
export const healthCheckTimeoutMs = 2000;

/** Resolves when the check passes within the timeout; the reason it failed otherwise. */
async function outcome(check: HealthCheck, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    clearTimeout(timer);
  }
}

function sendText(res: Response, status: number, text: string): void {
  res.status(status).type('text/plain').setHeader('X-Content-Type-Options', 'nosniff');
  res.send(text);
}

/**
 * Kubernetes' health endpoints: GET /readyz (and /livez, /healthz) runs its checks and
 * answers 200 "ok", or 500 with one line per check ("[-]etcd failed: reason withheld") when
 * one fails, for load balancers and probes that read only the status; `?verbose` lists the
 * checks when all pass and `?exclude=NAME` (repeatable) skips one; /readyz/NAME runs one
 * check and, as it is not public, gives the reason. The reasons go to the log when a check
 * starts failing and when it passes again, not at every probe.
 */
export function healthRouter(endpoints: HealthEndpoints, log: Logger, timeoutMs = healthCheckTimeoutMs): Router {
  const r = express.Router();
  /** the checks whose last run failed: a change either way is logged once */
  const failing = new Set<string>();
  const noteOutcome = (name: string, reason: string | undefined): void => {
    if (reason === undefined) {
      if (failing.delete(name)) log.info('health check passes again', { check: name });
    } else if (!failing.has(name)) {
      failing.add(name);
      log.warn('health check failed', { check: name, reason });
    }
  };
  for (const [endpoint, checks] of Object.entries(endpoints)) {
    r.get(`/${endpoint}`, async (req: Request, res: Response) => {
      const query = requestUrl(req.originalUrl).searchParams;
      const excluded = new Set(query.getAll('exclude'));
      const lines: string[] = [];
      const run = checks.filter((c) => !excluded.has(c.name));
      const reasons = await Promise.all(run.map((c) => outcome(c, timeoutMs)));
      let failed = false;
      for (const c of checks) {
        if (excluded.delete(c.name)) {
          lines.push(`[+]${c.name} excluded: ok`);
          continue;
        }
        const reason = reasons[run.indexOf(c)];
        noteOutcome(c.name, reason);
        failed ||= reason !== undefined;
        lines.push(reason === undefined ? `[+]${c.name} ok` : `[-]${c.name} failed: reason withheld`);
      }
      if (excluded.size) lines.push(`warn: some health checks cannot be excluded: no matches for ${[...excluded].map((n) => `"${n}"`).join(',')}`);
      if (failed) return sendText(res, 500, `${lines.join('\n')}\n${endpoint} check failed\n`);
      sendText(res, 200, query.has('verbose') ? `${lines.join('\n')}\n${endpoint} check passed\n` : 'ok');
    });
    for (const c of checks) {
      r.get(`/${endpoint}/${c.name}`, async (_req: Request, res: Response) => {
        const reason = await outcome(c, timeoutMs);
        noteOutcome(c.name, reason);
        if (reason === undefined) sendText(res, 200, 'ok');
        else sendText(res, 500, `internal server error: ${reason}\n`);
      });
    }
  }
  return r;
}
