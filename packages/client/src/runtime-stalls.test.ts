import type { LogFields, Logger } from './log';
import { logEventLoopStalls } from './runtime-stalls';

function recorder(): { log: Logger; lines: { msg: string; fields?: LogFields }[] } {
  const lines: { msg: string; fields?: LogFields }[] = [];
  const add = (msg: string, fields?: LogFields): void => void lines.push({ msg, fields });
  return { log: { debug: add, info: add, warn: add, error: add }, lines };
}

function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

async function waitFor(check: () => boolean): Promise<void> {
  for (const until = Date.now() + 10_000; !check(); ) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a held event loop is logged with how long and when, a short one is not', async () => {
  const { log, lines } = recorder();
  const stop = logEventLoopStalls(log);
  try {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = Date.now();
    busy(300);
    await waitFor(() => lines.some((l) => l.msg === 'event loop stalled'));
    const stall = lines.find((l) => l.msg === 'event loop stalled')!.fields!;
    expect(stall.ms).toBeGreaterThanOrEqual(250);
    expect(typeof stall.gcMs).toBe('number');
    // It began at most a tick before the busy loop.
    expect(Math.abs(Date.parse(String(stall.began)) - before)).toBeLessThan(1000);
  } finally {
    stop();
  }
});

test('stops watching when told', async () => {
  const { log, lines } = recorder();
  logEventLoopStalls(log)();
  busy(200);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(lines).toEqual([]);
});
