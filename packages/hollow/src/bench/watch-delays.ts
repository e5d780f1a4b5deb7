/**
 * Watch event latency of one kind of write (a pod's create, its delete): for each object,
 * the time from the write's acknowledgement until a watch first showed it. Only an object's
 * first event after the write counts. When it came before the acknowledgement the sample is
 * 0 (the watch had it by the time the writer knew its write was done; on SQLite every event
 * does), and a later event of the same object (the node's own update of a pod being
 * deleted, say) must not stand in for it, or the figure measures that update instead.
 */
export class WatchDelays {
  private readonly writes = new Map<string, { ackedAt?: number; seenAt?: number }>();
  /** ms from acknowledgement to event, one per write whose event was seen (0 when it came first) */
  readonly delays: number[] = [];
  /** writes whose event came before their acknowledgement (each a 0 in delays) */
  early = 0;

  acknowledged(name: string, at: number): void {
    const w = this.write(name);
    w.ackedAt = at;
    if (w.seenAt === undefined) return;
    this.early++;
    this.delays.push(0);
  }

  seen(name: string, at: number): void {
    const w = this.write(name);
    if (w.seenAt !== undefined) return;
    w.seenAt = at;
    if (w.ackedAt !== undefined) this.delays.push(at - w.ackedAt);
  }

  private write(name: string): { ackedAt?: number; seenAt?: number } {
    let w = this.writes.get(name);
    if (!w) this.writes.set(name, (w = {}));
    return w;
  }
}
