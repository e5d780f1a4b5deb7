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

/** How long a TTY session waits for the client's terminal size before it starts anyway. */
const firstSizeMs = 1000;

export async function runRemoteCommand(runtime: InteractiveRuntime, what: RemoteCommand, streams: RemoteStreams, log: Logger): Promise<void> {
  // kubectl sends the terminal's size as soon as the streams are open; a TTY starts at that size.
  let process: InteractiveProcess | undefined;
  let firstSize: (size: TerminalSize) => void = () => undefined;
  const sized = new Promise<TerminalSize | undefined>((resolve) => {
    firstSize = resolve;
    setTimeout(() => resolve(undefined), what.tty ? firstSizeMs : 0);
  });
  let latest: TerminalSize | undefined;
  streams.onResize((size) => {
    latest = size;
    if (process) process.resize(size);
    else firstSize(size);
  });
  let gone = false;
  streams.onClose(() => {
    gone = true;
    process?.close();
  });
  const [size] = await Promise.all([sized, streams.ready]);
  const io: Stdio = { stdin: streams.stdin, stdout: streams.stdout, stderr: streams.stderr, tty: what.tty, size };
  try {
    process = what.command ? await runtime.execInteractive(what.containerId, what.command, io) : await runtime.attachInteractive(what.containerId, io);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.debug('exec or attach failed to start', { container: what.containerId, error: message });
    streams.finish(failureStatus(500, `${what.command ? 'error executing command in container' : 'error attaching to container'}: ${message}`));
    return;
  }
  if (gone) process.close();
  if (latest && latest !== io.size) process.resize(latest);
  const code = await process.done;
  streams.finish(what.command && code !== null && code !== 0 ? nonZeroExitStatus(what.command, code) : successStatus());
}
