// Watch-based waiting for an object to be deleted or to meet a condition. On a terminal,
// a progress line on stderr says what we wait for and how much of the pod's grace period
// is left; elsewhere nothing is printed while waiting.

import type { KubeObject, WatchEvent } from '@peapod/api';
import type { Context } from './context';
import { isGone as isResourceVersionGone, isNotFound } from '@peapod/client';
import type { Follower } from './event-follow';
import type { ResourceType } from './resources';

export interface WaitTarget {
  type: ResourceType;
  name: string;
  namespace: string | undefined;
  /** Only this incarnation counts: a new object of the same name means the old one is gone. */
  uid?: string;
}

export interface WaitOptions {
  /** 0 or less: no deadline. */
  timeoutMs: number;
  /** Show the progress line (callers pass whether stderr is a terminal). */
  progress: boolean;
  /** What is being waited for, for the progress line: "deleted", "Ready". */
  what: string;
  /** Lines to print (on stdout, above the progress line) while waiting: the object's events. */
  follow?: Follower;
}

/** Decides from the current object (undefined: it does not exist) whether the wait is over. */
export type Done = (obj: KubeObject | undefined) => boolean;

function secondsText(ms: number): string {
  return `${Math.max(0, Math.round(ms / 1000))}s`;
}

export function progressText(target: WaitTarget, what: string, obj: KubeObject | undefined, now = Date.now()): string {
  const base = `waiting for ${target.type.singularName}/${target.name} to be ${what}`;
  const deadline = obj?.metadata.deletionTimestamp;
  if (deadline === undefined || deadline === null) return base;
  const left = Date.parse(deadline) - now;
  return left >= 0 ? `${base} (grace period: ${secondsText(left)} left)` : `${base} (grace period ended ${secondsText(-left)} ago)`;
}

class Progress {
  private timer: NodeJS.Timeout | undefined;
  private shown = false;
  private stopped = false;

  constructor(private readonly enabled: boolean, private readonly text: () => string) {}

  start(): void {
    if (!this.enabled) return;
    this.draw();
    this.timer = setInterval(() => this.draw(), 1000);
  }

  draw(): void {
    if (!this.enabled || this.stopped) return;
    process.stderr.write(`\r\x1b[K${this.text()}`);
    this.shown = true;
  }

  /** A line of its own above the progress line, which is drawn again below it. */
  print(line: string): void {
    if (this.shown && !this.stopped) process.stderr.write('\r\x1b[K');
    process.stdout.write(`${line}\n`);
    this.draw();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.shown) process.stderr.write('\r\x1b[K');
  }
}

/** Waits until `done` holds; resolves false when the timeout passes first. */
export async function waitFor(ctx: Context, target: WaitTarget, done: Done, opts: WaitOptions): Promise<boolean> {
  const deadline = opts.timeoutMs > 0 ? Date.now() + opts.timeoutMs : Infinity;
  let current: KubeObject | undefined;
  const progress = new Progress(opts.progress, () => progressText(target, opts.what, current));
  let started = false;
  // Started before the first look: an object gone at once still gets its last lines printed (on stop).
  opts.follow?.start((line) => progress.print(line));
  try {
    for (;;) {
      let resourceVersion: string | undefined;
      try {
        current = await ctx.client.get(target.type.name, target.name, { namespace: target.namespace });
        if (target.uid !== undefined && current.metadata.uid !== target.uid) current = undefined;
        resourceVersion = current?.metadata.resourceVersion;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        current = undefined;
      }
      if (done(current)) return true;
      if (!started) {
        progress.start();
        started = true;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      const outcome = await watchUntil(ctx, target, resourceVersion, remaining, done, (obj) => {
        current = obj;
        progress.draw();
      });
      if (outcome !== 'ended') return outcome === 'done';
    }
  } finally {
    progress.stop();
    await opts.follow?.stop();
  }
}

/** One watch session: 'done', 'timeout', or 'ended' (the server closed it; the caller rechecks). */
function watchUntil(
  ctx: Context,
  target: WaitTarget,
  resourceVersion: string | undefined,
  remainingMs: number,
  done: Done,
  onChange: (obj: KubeObject | undefined) => void,
): Promise<'done' | 'timeout' | 'ended'> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: 'done' | 'timeout' | 'ended'): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      watch.stop();
      resolve(outcome);
    };
    const watch = ctx.client.watch(
      target.type.name,
      {
        namespace: target.namespace,
        fieldSelector: `metadata.name=${target.name}`,
        resourceVersion,
        timeoutSeconds: Number.isFinite(remainingMs) ? Math.ceil(remainingMs / 1000) + 1 : undefined,
      },
      (event: WatchEvent<KubeObject>) => {
        if (event.type === 'BOOKMARK') return;
        const obj = event.object;
        if (target.uid !== undefined && obj.metadata.uid !== target.uid) {
          if (event.type !== 'DELETED') {
            onChange(undefined);
            if (done(undefined)) settle('done');
          }
          return;
        }
        const now = event.type === 'DELETED' ? undefined : obj;
        onChange(now);
        if (done(now)) settle('done');
      },
    );
    const timer = Number.isFinite(remainingMs) ? setTimeout(() => settle('timeout'), remainingMs) : undefined;
    watch.done.then(
      () => settle('ended'),
      (err: unknown) => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        // A resourceVersion too old to watch from: start over with a fresh get.
        if (isResourceVersionGone(err)) resolve('ended');
        else reject(err);
      },
    );
  });
}

export const isGone: Done = (obj) => obj === undefined;

export function hasCondition(type: string, status: string): Done {
  return (obj) => {
    const conditions = (obj as { status?: { conditions?: { type: string; status: string }[] } } | undefined)?.status?.conditions;
    return conditions?.some((c) => c.type.toLowerCase() === type.toLowerCase() && c.status.toLowerCase() === status.toLowerCase()) ?? false;
  };
}

export function timeoutMessage(target: WaitTarget): string {
  return `timed out waiting for the condition on ${target.type.name}/${target.name}`;
}
