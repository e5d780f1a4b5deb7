import http from 'http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { failureStatus, malformedPathMessage } from '@peapod/api';
import type { Logger } from '@peapod/client';
import type { ContainerRuntime, LogOptions, RuntimeContainer } from './runtime';
import { attemptsOf } from './status';
import type { CallerCheck } from './caller-auth';

export interface LogServerOptions {
  runtime: Pick<ContainerRuntime, 'listPodContainers' | 'logs'>;
  /** The uid of the pod now in the API under this name (its containers win over older pods'). */
  uidOf: (namespace: string, name: string) => string | undefined;
  log: Logger;
  /** when set, only callers it accepts may read logs */
  callers?: CallerCheck;
}

class LogRequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function flag(value: unknown): boolean {
  return value === 'true' || value === '1';
}

function nonNegativeInt(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new LogRequestError(400, `${name} must be a non-negative integer`);
  return Number(value);
}

/** The container attempt whose log is asked for: the current one, or with previous the one before. */
export function pickAttempt(
  containers: RuntimeContainer[],
  uid: string | undefined,
  names: { namespace: string; pod: string; container: string },
  previous: boolean,
): RuntimeContainer {
  const ofPod = containers.filter((c) => c.podNamespace === names.namespace && c.podName === names.pod);
  const uids = new Set(ofPod.map((c) => c.podUid));
  // The pod in the API decides; otherwise the newest pod of that name still on the node.
  const chosenUid = uid && uids.has(uid) ? uid : ofPod.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]?.podUid;
  const attempts = attemptsOf(
    ofPod.filter((c) => c.podUid === chosenUid),
    names.container,
  );
  const found = previous ? attempts[1] : attempts[0];
  if (!found) {
    const what = previous ? 'previous terminated container' : 'container';
    throw new LogRequestError(404, `${what} "${names.container}" in pod "${names.pod}" not found`);
  }
  return found;
}

/** The agent's HTTP server: container logs at the path the API server proxies to. */
export function createLogServer(opts: LogServerOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/containerLogs/:namespace/:pod/:container', (req: Request, res: Response) => {
    if (!opts.callers) {
      void serveLogs(opts, req, res);
      return;
    }
    opts.callers(req.headers.authorization).then((allowed) => {
      if (allowed) void serveLogs(opts, req, res);
      else res.status(401).json(failureStatus(401, 'Unauthorized: only the API server may read logs from a node', { reason: 'Unauthorized' }));
    });
  });
  app.use((_req: Request, res: Response) => {
    res.status(404).json(failureStatus(404, 'the server could not find the requested resource'));
  });
  // express's router throws a URIError for a broken percent-encoding in a path parameter.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof URIError) {
      res.status(400).json(failureStatus(400, malformedPathMessage(req.path)));
      return;
    }
    opts.log.warn('request failed', { path: req.path, error: err instanceof Error ? err.message : String(err) });
    res.status(500).json(failureStatus(500, 'an internal error occurred; see the agent log'));
  });
  return app;
}

async function serveLogs(opts: LogServerOptions, req: Request, res: Response): Promise<void> {
  const { namespace, pod, container } = req.params;
  try {
    const logOptions: LogOptions = { follow: flag(req.query.follow), timestamps: flag(req.query.timestamps) };
    const tailLines = nonNegativeInt(req.query.tailLines, 'tailLines');
    if (tailLines !== undefined) logOptions.tailLines = tailLines;
    const sinceSeconds = nonNegativeInt(req.query.sinceSeconds, 'sinceSeconds');
    if (sinceSeconds !== undefined) logOptions.sinceSeconds = sinceSeconds;
    const all = await opts.runtime.listPodContainers();
    const target = pickAttempt(all, opts.uidOf(namespace, pod), { namespace, pod, container }, flag(req.query.previous));
    const stream = await opts.runtime.logs(target.id, logOptions);
    res.status(200).type('text/plain');
    res.flushHeaders();
    res.on('close', () => stream.destroy());
    stream.on('error', (err) => {
      opts.log.debug('log stream failed', { pod, container, error: err });
      res.end();
    });
    stream.pipe(res);
  } catch (err) {
    const code = err instanceof LogRequestError ? err.code : 500;
    const message = err instanceof Error ? err.message : String(err);
    if (!res.headersSent) res.status(code).json(failureStatus(code, message));
    else res.end();
  }
}

export function listen(app: express.Express, port: number, host: string): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
