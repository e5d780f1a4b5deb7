// The scheduler's requests to the API server, at most `limit` in flight, binds before
// reports. Unbounded, a burst of pods opens thousands of connections at once; the server's
// accept backlog overflows, and TCP retries each dropped connection only a second or more
// later, so a few pods wait seconds for nothing. Binds go first because a pod is scheduled
// only once bound; the events and conditions that tell about it can wait a little. While
// binds wait or run, reports take one slot at most: a report beside every bind would leave
// the API server half its time for binds; one slot keeps reports moving under a steady
// stream of pods. Without binds they take a few slots, not all: inside a burst the binds run
// dry for a moment whenever the scheduler decides its next slice, and with every slot open
// to them, hundreds of reports started in that moment and the next binds waited behind them
// at the server (in `npm run bench -- scheduler`, 0.23 ms of the server's CPU per pod bound
// against 0.19 with the cap). Kubernetes' event broadcaster writes one event at a time.

import { Fifo } from '@peapod/client';

export type RequestKind = 'bind' | 'report';

/** Reports in flight at once while binds wait or run. */
const reportSlotsWhileBinding = 1;

/** Reports in flight at once while no bind waits or runs. */
const defaultReportSlots = 8;

export class RequestPool {
  private running = 0;
  private runningBinds = 0;
  private readonly binds = new Fifo<() => void>();
  private readonly reports = new Fifo<() => void>();

  constructor(
    readonly limit: number,
    private readonly reportSlots = defaultReportSlots,
  ) {
    if (!(limit >= 1)) throw new Error(`the request limit must be at least 1, got ${limit}`);
  }

  /** Requests started and not finished. */
  get inFlight(): number {
    return this.running;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.binds.length + this.reports.length;
  }

  /** Reports waiting for a slot. */
  get waitingReports(): number {
    return this.reports.length;
  }

  /** Runs `request` once a slot is free; settles as it does. */
  run<T>(kind: RequestKind, request: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        if (kind === 'bind') this.runningBinds++;
        const finish = (): void => {
          this.running--;
          if (kind === 'bind') this.runningBinds--;
          this.startNext();
        };
        let pending: Promise<T>;
        try {
          pending = request();
        } catch (err) {
          pending = Promise.reject(err);
        }
        pending.then(
          (value) => {
            finish();
            resolve(value);
          },
          (err: unknown) => {
            finish();
            reject(err);
          },
        );
      };
      if (kind === 'bind' ? this.running < this.limit : this.reportMayStart()) start();
      else (kind === 'bind' ? this.binds : this.reports).push(start);
    });
  }

  private reportMayStart(): boolean {
    if (this.running >= this.limit) return false;
    const binding = this.runningBinds > 0 || this.binds.length > 0;
    return this.running - this.runningBinds < (binding ? reportSlotsWhileBinding : this.reportSlots);
  }

  private startNext(): void {
    while (this.running < this.limit) {
      const next = this.binds.shift() ?? (this.reportMayStart() ? this.reports.shift() : undefined);
      if (!next) return;
      next();
    }
  }
}
