// client-go's event spam filter, shared by every component that records events: per object
// (and per source, one filter each), `burst` events at once, then one more each
// 1 / perSecond seconds; the rest are dropped. A controller scaling one replication controller
// by thousands of pods so writes a few dozen of its events rather than one per pod.

import { TokenBucket } from './token-bucket';

/** client-go's defaults: 25 events at once, then one per 5 minutes, for each of the last 4,096 objects. */
export const EVENT_SPAM_BURST = 25;
export const EVENT_SPAM_PER_SECOND = 1 / 300;
const REMEMBERED = 4096;

export class EventSpamFilter {
  /** In least-recently-used order, so that the one forgotten past `remembered` is the oldest. */
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly burst = EVENT_SPAM_BURST,
    private readonly perSecond = EVENT_SPAM_PER_SECOND,
    private readonly remembered = REMEMBERED,
  ) {}

  /** Whether one more event about `object` (its uid, or namespace/name) may be written now. */
  allow(object: string, now = Date.now()): boolean {
    const bucket = this.buckets.get(object) ?? new TokenBucket(this.perSecond, this.burst, now);
    this.buckets.delete(object);
    this.buckets.set(object, bucket);
    if (this.buckets.size > this.remembered) this.buckets.delete(this.buckets.keys().next().value as string);
    return bucket.take(now);
  }
}
