// What the API server's log says of one of our slow calls: its own time for that request (the
// slow-request line of the same call on the same object, within the call) and its event-loop
// stalls while the call was out. A call much longer than the server's own time waited for the
// server's one thread before its handler began (or the answer waited on its way back).

import type { LogWarning, TimedCall } from './timeline';

/** One of our calls and the object it addressed (NAMESPACE/NAME, as `objectKey` gives it). */
export interface ObjectCall extends TimedCall {
  object: string;
}

export interface ServerSide {
  /** the server's own time for the request, from its slow-request line; absent when it logged none (it took less than its threshold) */
  serverSeconds?: number;
  /** the API server's event-loop stalls that overlapped the call: how many, and how much of the call they held */
  stalls: number;
  stallMs: number;
}

/** The API server's slow-request threshold (its `slowRequestSeconds`): a request under it leaves no line. */
export const serverSlowRequestSeconds = 0.5;

/** Slack between the log's timestamps (whole milliseconds, written as the response ends) and our clock's. */
const slackMs = 20;

/** The server's name for one of our calls: ours may say more in parentheses ("list pods (one controller)"). */
function requestName(call: string): string {
  return call.replace(/ \(.*\)$/, '');
}

export function serverSideOf(call: ObjectCall, warnings: LogWarning[]): ServerSide {
  const from = call.at;
  const to = call.at + call.seconds * 1000;
  const name = requestName(call.call);
  let serverSeconds: number | undefined;
  let nearest = Infinity;
  let stalls = 0;
  let stallMs = 0;
  for (const w of warnings) {
    if (w.kind === 'request') {
      if (w.call !== name || w.object !== call.object) continue;
      if (w.at < from - slackMs || w.at + w.seconds * 1000 > to + slackMs) continue;
      // Creates name no object: of several inside the call, the one that began nearest its start.
      const gap = Math.abs(w.at - from);
      if (gap < nearest) {
        nearest = gap;
        serverSeconds = w.seconds;
      }
    } else if (w.kind === 'stall') {
      const held = Math.min(to, w.at + w.ms) - Math.max(from, w.at);
      if (held > 0) {
        stalls++;
        stallMs += held;
      }
    }
  }
  return { serverSeconds, stalls, stallMs };
}
