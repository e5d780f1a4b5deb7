#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { createApiServer } from './server';
import { createLogger } from '@peapod/client';

function parseBool(v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InvalidArgumentError('expected true or false');
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number');
  return n;
}

const program = new Command('peapod-apiserver')
  .description('The Peapod API server: Kubernetes core/v1 over HTTP, stored in SQLite')
  .option('--port <port>', 'port to listen on (0 picks a free one)', parsePort, 6443)
  .option('--bind <address>', 'address to listen on', '127.0.0.1')
  .option('--data-dir <dir>', 'directory for the database', './data/apiserver')
  .option('--allow-privileged <bool>', 'accept pods with privileged containers', parseBool, true)
  .option('--event-ttl <seconds>', 'how long events are kept', (v) => parsePort(v), 3600)
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{ port: number; bind: string; dataDir: string; allowPrivileged: boolean; eventTtl: number }>();
  // Start-up and shutdown are worth a line; requests are not (quiet by default).
  const log = createLogger('apiserver', process.env.PEAPOD_LOG_LEVEL ? {} : { level: 'info' });
  const api = createApiServer({ dataDir: opts.dataDir, allowPrivileged: opts.allowPrivileged, eventTtlSeconds: opts.eventTtl, logger: log });
  const port = await api.listen(opts.port, opts.bind);
  log.info('listening', { address: `http://${opts.bind}:${port}`, dataDir: opts.dataDir, revision: api.store.revision });
  const stop = (signal: string) => {
    log.info('stopping', { signal });
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`peapod-apiserver: ${err.message}\n`);
  process.exit(1);
});
