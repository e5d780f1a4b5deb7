// Where an API server's etcd writes go. Every member takes writes (a follower forwards them
// to the leader), but on this project's machine transactions spread over three members cost
// etcd about 40% more CPU each than transactions sent to the leader (0.44 against 0.32 ms,
// 0.77 against 0.55 in another run): etcd batches the proposals that reach one member
// together. So writes go to the leader's endpoint when the leader is one of the servers
// given, and to one of the others while it is not known (at start, after a write through it
// failed, when it is not among the servers).

import type { EtcdMember } from './etcd-rpc';

/** How often the leader is asked for again (a stale choice still works: the member forwards). */
const recheckMs = 30_000;
/** How soon after a failed write the leader is looked for again. */
const retryMs = 1_000;

export class EtcdWriter {
  private current?: EtcdMember;
  /** the member writes go to while no leader is chosen: the next one after a write through it failed */
  private fallback = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;

  /** `members`: one per server given; `timeoutMs`: the deadline of the status and member list calls. */
  constructor(
    private readonly members: EtcdMember[],
    private readonly timeoutMs: number,
  ) {
    if (members.length > 1) this.schedule(0);
  }

  /** The member the next write goes through. */
  get client(): EtcdMember {
    return this.current ?? this.members[this.fallback % this.members.length];
  }

  /** The server writes go to, while one is chosen. */
  get endpoint(): string | undefined {
    return this.current?.endpoint;
  }

  /** A write through `member` failed: writes go to another member until the leader is found again. */
  failed(member: EtcdMember): void {
    if (member === this.current) {
      this.current = undefined;
      this.schedule(retryMs);
    } else if (member === this.members[this.fallback % this.members.length]) {
      this.fallback++;
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.closed) this.timer = setTimeout(() => void this.choose(), ms).unref();
  }

  private async choose(): Promise<void> {
    let next = retryMs;
    try {
      const leader = await this.leader();
      if (this.closed) return;
      this.current = leader;
      next = recheckMs;
    } catch {
      // No answer (members down, no quorum): writes stay where they go, and the leader is asked for again soon.
      this.current = undefined;
    }
    this.schedule(next);
  }

  /** The member (as given) that is the leader, if any: asked of each member in turn until one answers. */
  private async leader(): Promise<EtcdMember | undefined> {
    let lastError: unknown;
    for (const asked of this.members) {
      try {
        const deadline = Date.now() + this.timeoutMs;
        const status = await asked.status(deadline);
        if (status.leader === '0') return undefined;
        const leader = (await asked.memberList(deadline)).find((m) => m.id === status.leader);
        const urls = new Set((leader?.clientURLs ?? []).map(trimSlash));
        return this.members.find((m) => urls.has(trimSlash(m.endpoint)));
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
