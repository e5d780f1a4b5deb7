/**
 * Per-key restart back-off: the first restart is immediate, then each restart waits
 * base, 2·base, 4·base, ... up to max after the container's last exit. A key left alone
 * for twice the maximum starts again from the beginning.
 */
export class RestartBackoff {
  private readonly entries = new Map<string, { delayMs: number; updatedAt: number }>();

  constructor(
    readonly baseMs: number,
    readonly maxMs: number,
  ) {}

  /** How long, from now, until a container of `key` that stopped at sinceMs may restart (0: now). */
  remaining(key: string, sinceMs: number, now = Date.now()): number {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, now)) return 0;
    return Math.max(0, sinceMs + entry.delayMs - now);
  }

  /** The current delay of a key (0 before its first restart). */
  delay(key: string, now = Date.now()): number {
    const entry = this.entries.get(key);
    return entry && !this.expired(entry, now) ? entry.delayMs : 0;
  }

  /** Records a restart; returns the delay the next one will wait. */
  next(key: string, now = Date.now()): number {
    const entry = this.entries.get(key);
    const delayMs = !entry || this.expired(entry, now) ? this.baseMs : Math.min(entry.delayMs * 2, this.maxMs);
    this.entries.set(key, { delayMs, updatedAt: now });
    return delayMs;
  }

  /** Forgets every key starting with prefix (a pod's containers when the pod goes). */
  forgetPrefix(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  private expired(entry: { delayMs: number; updatedAt: number }, now: number): boolean {
    return now - entry.updatedAt > 2 * this.maxMs;
  }
}
