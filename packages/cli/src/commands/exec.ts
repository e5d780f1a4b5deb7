// peactl exec [-i] [-t] POD [-c C] -- CMD...   and   peactl attach [-i] [-t] POD [-c C]
// Through the API server's pods/exec and pods/attach. With -t the local terminal is put in
// raw mode (restored on the way out) and its size follows the window; the command's exit
// code becomes peactl's, as with kubectl.

import type { Pod, Status, TerminalSize } from '@peapod/api';
import { exitCodeOf } from '@peapod/api';
import type { RemoteCommandOptions } from '@peapod/client';
import type { Context } from '../context';
import { CliError } from '../errors';

export interface RemoteCommandFlags {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
}

/** POD or pod/NAME (pods/NAME, po/NAME). */
export function podName(arg: string, verb: string): string {
  if (!arg.includes('/')) return arg;
  const [type, name] = arg.split('/', 2);
  if (!['pod', 'pods', 'po'].includes(type.toLowerCase()) || !name) throw new CliError(`cannot ${verb} ${type}: only pods`);
  return name;
}

/**
 * The container to use: the one asked for, else the pod's default-container annotation, else
 * its first (saying so when there were several, as kubectl does).
 */
async function chooseContainer(ctx: Context, pod: string, requested: string | undefined): Promise<string> {
  if (requested) return requested;
  const obj = await ctx.client.get<Pod>('pods', pod, { namespace: ctx.namespace });
  const names = obj.spec.containers.map((c) => c.name);
  const annotated = obj.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  const chosen = annotated && names.includes(annotated) ? annotated : names[0];
  if (names.length > 1 && chosen !== annotated) process.stderr.write(`Defaulted container "${chosen}" out of: ${names.join(', ')}\n`);
  return chosen;
}

function terminalSize(): TerminalSize {
  return { width: process.stdout.columns || 80, height: process.stdout.rows || 24 };
}

/** Runs one exec or attach session with this process's stdio. */
async function session(ctx: Context, pod: string, command: string[] | undefined, flags: RemoteCommandFlags): Promise<Status> {
  let tty = flags.tty === true;
  if (tty && !process.stdin.isTTY) {
    process.stderr.write('Unable to use a TTY - input is not a terminal or the right kind of file\n');
    tty = false;
  }
  const container = await chooseContainer(ctx, pod, flags.container);
  const opts: RemoteCommandOptions = { container, stdout: process.stdout, stderr: process.stderr, tty };
  if (flags.stdin) opts.stdin = process.stdin;
  if (!tty) return command ? ctx.client.exec(ctx.namespace, pod, command, opts) : ctx.client.attach(ctx.namespace, pod, opts);
  opts.terminal = { size: terminalSize(), onResize: (listener) => process.stdout.on('resize', () => listener(terminalSize())) };
  process.stdin.setRawMode(true);
  try {
    return await (command ? ctx.client.exec(ctx.namespace, pod, command, opts) : ctx.client.attach(ctx.namespace, pod, opts));
  } finally {
    process.stdin.setRawMode(false);
  }
}

/** kubectl's ending: the command's exit code, or the failure's message with exit code 1. */
export function finish(status: Status): void {
  const code = exitCodeOf(status);
  if (code === 0) return;
  if (code !== undefined) {
    process.stderr.write(`command terminated with exit code ${code}\n`);
    process.exitCode = code;
    return;
  }
  throw new CliError(status.message ?? 'the command failed');
}

export async function exec(ctx: Context, args: string[], flags: RemoteCommandFlags): Promise<void> {
  if (args.length < 2) throw new CliError('expected POD -- COMMAND [ARGS...]');
  const status = await session(ctx, podName(args[0], 'exec into'), args.slice(1), flags);
  process.stdin.pause();
  finish(status);
}

export async function attach(ctx: Context, args: string[], flags: RemoteCommandFlags): Promise<void> {
  if (args.length !== 1) throw new CliError('expected POD');
  if (flags.stdin) process.stderr.write("If you don't see a command prompt, try pressing enter.\n");
  const status = await session(ctx, podName(args[0], 'attach to'), undefined, flags);
  process.stdin.pause();
  finish(status);
}
