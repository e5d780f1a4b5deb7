import { PerformanceObserver, constants, performance, type PerformanceEntry } from 'perf_hooks';
import type { Logger } from './log';

/** Pauses of the event loop (or of one garbage collection) at least this long are logged. */
export const stallThresholdMs = 100;
/** How often the watcher's timer is due: its lateness is the stall. */
const tickMs = 20;

const gcKinds: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

interface Pause {
  start: number;
  end: number;
}

/**
 * Logs (at warn) each time the event loop was held for stallThresholdMs or more, with when it
 * began, how much of it garbage collection took and how much CPU the process used meanwhile (all
 * its threads: far less than the stall means it waited, for the disk or for a CPU), and each
 * garbage collection that long: a component's histograms tell how often it was slow, these
 * lines tell when and what the process was doing. A timer due every few milliseconds measures
 * how late it runs.
 * Returns a function that stops watching.
 */
export function logEventLoopStalls(log: Logger, thresholdMs = stallThresholdMs): () => void {
  // GC entries reach the observer after the pause they describe: a stall is reported a turn
  // later, once they are in.
  let gcs: Pause[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcs.push({ start: e.startTime, end: e.startTime + e.duration });
      if (e.duration >= thresholdMs) {
        const kind = gcKinds[(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
        log.warn('slow garbage collection', { kind, ms: Math.round(e.duration) });
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  const timer = setInterval(() => {
    const now = performance.now();
    const from = last;
    last = now;
    // One reading a tick (it is a system call, 50 a second): the stall's CPU is its difference from the last.
    const nowCpu = process.cpuUsage();
    const cpuMs = (nowCpu.user - lastCpu.user + nowCpu.system - lastCpu.system) / 1000;
    lastCpu = nowCpu;
    const ms = now - from - tickMs;
    if (ms < thresholdMs) {
      gcs = gcs.filter((g) => g.end > now - 10 * tickMs);
      return;
    }
    setTimeout(() => {
      const gcMs = gcs.reduce((sum, g) => sum + Math.max(0, Math.min(g.end, now) - Math.max(g.start, from)), 0);
      log.warn('event loop stalled', {
        ms: Math.round(ms),
        gcMs: Math.round(gcMs),
        cpuMs: Math.round(cpuMs),
        began: new Date(performance.timeOrigin + from).toISOString(),
      });
    }, 0).unref();
  }, tickMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    observer.disconnect();
  };
}
