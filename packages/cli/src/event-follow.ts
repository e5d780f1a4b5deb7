// The events of an object being waited for, printed as they arrive: a watch on events whose
// involvedObject is that object, from the moment of the delete. For a pod this is its
// termination as the node agent records it (Killing, preStop, signals, containers gone).
// On stop, one list catches up with events the watch had not delivered yet, so the last
// lines (written just before the object went) are never lost.

import type { Event, WatchEvent } from '@peapod/api';
import type { Watch } from '@peapod/client';
import type { Context } from './context';
import type { WaitTarget } from './wait';

export interface Follower {
  /** Starts following; each line is handed to print as it comes. */
  start(print: (line: string) => void): void;
  /** Prints what has not been printed yet, then stops. */
  stop(): Promise<void>;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** When an event happened, to the millisecond when it says (eventTime), else to the second. */
export function eventMoment(e: Event): number {
  const precise = e.eventTime ? Date.parse(e.eventTime) : NaN;
  const coarse = Date.parse(e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '');
  // A repeat moves lastTimestamp past the first occurrence's eventTime: the later one counts.
  if (Number.isNaN(precise)) return Number.isNaN(coarse) ? 0 : coarse;
  return Number.isNaN(coarse) ? precise : Math.max(precise, coarse);
}

/** "pod/web  14:03:05.123  Killing  Stopping container app", in local time. */
export function eventLine(target: Pick<WaitTarget, 'type' | 'name'>, e: Event): string {
  const d = new Date(eventMoment(e));
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const count = (e.count ?? 1) > 1 ? ` (x${e.count})` : '';
  return `${target.type.singularName}/${target.name}  ${time}  ${e.reason ?? ''}  ${(e.message ?? '').trim()}${count}`;
}

function selectorFor(target: WaitTarget): string {
  const fields = [`involvedObject.name=${target.name}`, `involvedObject.kind=${target.type.kind}`];
  if (target.uid !== undefined) fields.push(`involvedObject.uid=${target.uid}`);
  return fields.join(',');
}

function newerThan(rv: string | undefined, than: string | undefined): boolean {
  if (than === undefined) return true;
  const a = Number(rv);
  const b = Number(than);
  return Number.isFinite(a) && Number.isFinite(b) ? a > b : true;
}

/** Follows the target's events written after resourceVersion `since` (the delete's). */
export function followEvents(ctx: Context, target: WaitTarget, since: string | undefined): Follower {
  const printed = new Map<string, number>();
  let watch: Watch | undefined;
  let print: (line: string) => void = () => undefined;
  const show = (e: Event): void => {
    const key = `${e.metadata.namespace ?? ''}/${e.metadata.name ?? ''}`;
    const count = e.count ?? 1;
    if ((printed.get(key) ?? 0) >= count) return;
    printed.set(key, count);
    print(eventLine(target, e));
  };
  return {
    start(printLine) {
      print = printLine;
      watch = ctx.client.watch<Event>('events', { namespace: target.namespace, fieldSelector: selectorFor(target), resourceVersion: since }, (event: WatchEvent<Event>) => {
        if (event.type === 'ADDED' || event.type === 'MODIFIED') show(event.object);
      });
      // A watch that fails (an old resourceVersion, a lost connection) only costs the live lines: stop() catches up.
      watch.done.catch(() => undefined);
    },
    async stop() {
      watch?.stop();
      try {
        const list = await ctx.client.listAll<Event>('events', { namespace: target.namespace, fieldSelector: selectorFor(target) });
        const missed = list.items.filter((e) => newerThan(e.metadata.resourceVersion, since));
        for (const e of missed.sort((a, b) => eventMoment(a) - eventMoment(b))) show(e);
      } catch {
        // Events are a courtesy here: the delete itself succeeded.
      }
    },
  };
}
