// Preloaded into a server under a bench (`node -r .../gc-meter.js`): on SIGUSR2 it writes one
// line to stderr, `gc-meter N {...}`, with what the garbage collector did since the process
// started: bytes allocated on the JavaScript heap, collections and their time. A bench reads
// the difference between two lines as what the requests sent in between cost.
//
// Bytes allocated are the heap's growth between collections: each collection's heap before it,
// less the heap the previous one left, plus the growth since the last collection.

import v8 from 'v8';

export interface GcMeterReading {
  allocatedBytes: number;
  /** collections, and their time in ms: scavenges (young generation) and the rest (marking) */
  scavenges: number;
  scavengeMs: number;
  majors: number;
  majorMs: number;
}

interface GcStatistics {
  gcType: string;
  /** microseconds */
  cost: number;
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

const total: GcMeterReading = { allocatedBytes: 0, scavenges: 0, scavengeMs: 0, majors: 0, majorMs: 0 };
/** the heap as the last collection left it (or as it was at start) */
let heapAfterLast = v8.getHeapStatistics().used_heap_size;
let profiler = new v8.GCProfiler();
profiler.start();
let readings = 0;

function read(): GcMeterReading {
  const { statistics } = profiler.stop() as unknown as { statistics: GcStatistics[] };
  profiler = new v8.GCProfiler();
  profiler.start();
  for (const s of statistics) {
    total.allocatedBytes += s.beforeGC.heapStatistics.usedHeapSize - heapAfterLast;
    heapAfterLast = s.afterGC.heapStatistics.usedHeapSize;
    if (s.gcType === 'Scavenge' || s.gcType === 'MinorMarkCompact') {
      total.scavenges++;
      total.scavengeMs += s.cost / 1000;
    } else {
      total.majors++;
      total.majorMs += s.cost / 1000;
    }
  }
  const now = v8.getHeapStatistics().used_heap_size;
  return { ...total, allocatedBytes: total.allocatedBytes + now - heapAfterLast };
}

process.on('SIGUSR2', () => {
  process.stderr.write(`gc-meter ${++readings} ${JSON.stringify(read())}\n`);
});
