import type { Logger } from './log';

export interface StopOptions {
  log: Logger;
  /** stops the component; the process exits 0 when it resolves, 1 when it rejects */
  stop: () => Promise<void>;
  /** ends the process with 1 if stop has not finished by then */
  graceMs?: number;
  /** with true, a second signal exits at once (1) instead of being ignored */
  secondSignalExits?: boolean;
}

/** Every long-running command stops cleanly on SIGTERM and SIGINT: the same steps for each. */
export function stopOnSignals(opts: StopOptions): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      if (opts.secondSignalExits) process.exit(1);
      return;
    }
    stopping = true;
    opts.log.info('stopping', { signal });
    if (opts.graceMs !== undefined) {
      setTimeout(() => {
        opts.log.warn('still stopping after the grace period; exiting', { graceMs: opts.graceMs });
        process.exit(1);
      }, opts.graceMs).unref();
    }
    opts.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        opts.log.error('stop failed', { error: err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
