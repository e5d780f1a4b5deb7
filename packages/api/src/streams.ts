// The wire format of exec, attach and port-forward streams, shared by the clients that open
// them and the node agent that serves them.
//
// Over a WebSocket (*.channel.k8s.io) every binary message starts with one byte naming its
// channel; the rest is that channel's payload. exec and attach use channels 0-4 below; v5
// adds message 255 (a channel number follows) meaning "the sender closed that channel".
// Port-forward uses two channels per port (data 2i, error 2i+1); the server's first message
// on each carries the port as a little-endian uint16. Over SPDY each channel is a stream
// named by its `streamtype` header instead.

import type { Status } from './types';
import { failureStatus } from './status';

export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** exec/attach WebSocket subprotocols, newest first: v4 and v5 report a Status on the error channel. */
export const remoteCommandProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/** Port-forward WebSocket subprotocols: v5 lets a client half-close a port's data channel. */
export const portForwardProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

/** kubectl's port-forward over a WebSocket: SPDY/3.1 frames carried in binary messages. */
export const tunneledPortForwardProtocol = 'SPDY/3.1+portforward.k8s.io';

/** The SPDY upgrade's X-Stream-Protocol-Version for port-forward. */
export const portForwardSpdyProtocol = 'portforward.k8s.io';

export interface TerminalSize {
  width: number;
  height: number;
}

/** One WebSocket message: the channel byte, then the payload. */
export function channelMessage(channel: number, payload?: Buffer | string): Buffer {
  const data = payload === undefined ? Buffer.alloc(0) : typeof payload === 'string' ? Buffer.from(payload) : payload;
  const out = Buffer.allocUnsafe(data.length + 1);
  out[0] = channel;
  data.copy(out, 1);
  return out;
}

/** The resize channel's payload, as kubectl writes it. */
export function resizePayload(size: TerminalSize): string {
  return JSON.stringify({ Width: size.width, Height: size.height });
}

/** A resize message's size, or undefined when it is not one (sizes are positive and bounded). */
export function parseResize(payload: Buffer | string): TerminalSize | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch {
    return undefined;
  }
  const { Width, Height } = (value ?? {}) as { Width?: unknown; Height?: unknown };
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 0xffff;
  return ok(Width) && ok(Height) ? { width: Width, height: Height } : undefined;
}

/** How a command that exited non-zero is reported: kubectl exits with the code in the cause. */
export function nonZeroExitStatus(command: string[], exitCode: number): Status {
  const message = `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`;
  return failureStatus(500, message, { reason: 'NonZeroExitCode', causes: [{ reason: 'ExitCode', message: String(exitCode) }] });
}

/**
 * The exit code a Status on the error channel reports: 0 for Success, the ExitCode cause of
 * NonZeroExitCode, undefined for any other failure (its message says what went wrong).
 */
export function exitCodeOf(status: Pick<Status, 'status' | 'reason' | 'details'>): number | undefined {
  if (status.status === 'Success') return 0;
  if (status.reason !== 'NonZeroExitCode') return undefined;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : undefined;
}
