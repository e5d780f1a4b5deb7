import type { Logger } from '@peapod/client';
import type { ContainerRuntime, ContainerStateSummary } from './runtime';

/**
 * Polls the runtime (like the kubelet's PLEG) and reports the pods whose containers
 * appeared, changed state or disappeared since the previous look, so that an exit becomes
 * a sync of its pod within one period.
 */
export class Relister {
  private previous = new Map<string, ContainerStateSummary>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly runtime: Pick<ContainerRuntime, 'podContainerStates'>,
    private readonly onChanged: (uids: string[]) => void,
    private readonly log: Logger,
    private readonly periodMs = 1000,
  ) {}

  /** One look at the runtime; returns the uids it reported. */
  async relist(): Promise<string[]> {
    const current = new Map<string, ContainerStateSummary>();
    for (const c of await this.runtime.podContainerStates()) current.set(c.id, c);
    const changed = new Set<string>();
    for (const [id, c] of current) {
      if (this.previous.get(id)?.state !== c.state) changed.add(c.podUid);
    }
    for (const [id, c] of this.previous) if (!current.has(id)) changed.add(c.podUid);
    this.previous = current;
    changed.delete('');
    const uids = [...changed];
    if (uids.length > 0) this.onChanged(uids);
    return uids;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = (): void => {
      this.relist()
        .catch((err: unknown) => this.log.warn('relist failed', { error: err }))
        .finally(() => {
          if (this.running) this.timer = setTimeout(tick, this.periodMs);
        });
    };
    tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }
}
