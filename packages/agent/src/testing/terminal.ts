// A command on a pseudo-terminal (util-linux script(1)), typed into and read from as a
// person at a terminal would: for kubectl -it in tests.
import { spawn } from 'child_process';
import { waitFor } from './cluster';

export interface Terminal {
  output(): string;
  /** Types text until the output contains `expected` (a line typed may be needed to ask again). */
  typeUntil(text: string, expected: string, timeoutMs?: number): Promise<void>;
  type(text: string): void;
  readonly exited: Promise<number | null>;
  kill(): void;
}

export function onTerminal(shellCommand: string, env?: NodeJS.ProcessEnv): Terminal {
  const proc = spawn('script', ['-q', '-e', '-c', shellCommand, '/dev/null'], { env });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
  return {
    output: () => out,
    type: (text) => {
      proc.stdin.write(text);
    },
    typeUntil: (text, expected, timeoutMs = 30_000) =>
      waitFor(JSON.stringify(expected), async () => {
        if (out.includes(expected)) return true;
        proc.stdin.write(text);
        return out.includes(expected);
      }, timeoutMs, 500).then(() => undefined),
    exited,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}
