// Runs one exec or attach session: the client's streams joined to the container, the
// terminal size followed, and the end reported on the error channel (the exit code as a
// NonZeroExitCode Status, which kubectl exits with).
import { failureStatus, nonZeroExitStatus, successStatus } from '@peapod/api';
import type { TerminalSize } from '@peapod/api';
import type { Logger } from '@peapod/client';
import type { InteractiveProcess, Stdio } from '../runtime/interactive';
import type { RemoteStreams } from './remote-streams';

export interface RemoteCommand {
  containerId: string;
  /** exec: the command; attach: undefined */
  command?: string[];
  tty: boolean;
}

export interface InteractiveRuntime {
  execInteractive(id: string, cmd: string[], io: Stdio): Promise<InteractiveProcess>;
  attachInteractive(id: string, io: Stdio): Promise<InteractiveProcess>;
}

export async function runRemoteCommand(runtime: InteractiveRuntime, what: RemoteCommand, streams: RemoteStreams, log: Logger): Promise<void> {
  // kubectl sends the terminal's size as soon as the streams are open, maybe before the process runs.
  let process: InteractiveProcess | undefined;
  let pendingSize: TerminalSize | undefined;
  let gone = false;
  streams.onResize((size) => {
    if (process) process.resize(size);
    else pendingSize = size;
  });
  streams.onClose(() => {
    gone = true;
    process?.close();
  });
  const io: Stdio = { stdin: streams.stdin, stdout: streams.stdout, stderr: streams.stderr, tty: what.tty };
  try {
    process = what.command ? await runtime.execInteractive(what.containerId, what.command, io) : await runtime.attachInteractive(what.containerId, io);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.debug('exec or attach failed to start', { container: what.containerId, error: message });
    streams.finish(failureStatus(500, `${what.command ? 'error executing command in container' : 'error attaching to container'}: ${message}`));
    return;
  }
  if (gone) process.close();
  if (pendingSize) process.resize(pendingSize);
  const code = await process.done;
  streams.finish(what.command && code !== null && code !== 0 ? nonZeroExitStatus(what.command, code) : successStatus());
}
