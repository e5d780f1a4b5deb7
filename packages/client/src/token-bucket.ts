// A token bucket: `burst` tokens at most, refilled at `perSecond`. A client's requests wait for
// one (--kube-api-qps, --kube-api-burst, as client-go's rate limiter); the agent's events use
// two: the rate limit of a node's event writes (--event-qps, --event-burst), where an event
// past the burst waits its turn, and the spam filter of each object's events, where it is
// dropped.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes a token if there is one. */
  take(now = Date.now()): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** Takes a token, ahead of time when there is none: how many ms until it is there. */
  reserve(now = Date.now()): number {
    this.refill(now);
    this.tokens--;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.perSecond;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) * this.perSecond) / 1000);
    this.last = Math.max(this.last, now);
  }
}
