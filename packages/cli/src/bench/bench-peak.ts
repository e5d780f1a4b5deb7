// Preloaded (node --require) into peactl by the benchmark: on exit, records the process's
// peak resident memory (VmHWM) in the file named by PEACTL_BENCH_PEAK_FILE.

import * as fs from 'fs';

const target = process.env.PEACTL_BENCH_PEAK_FILE;
if (target !== undefined && target !== '') {
  process.on('exit', () => {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) fs.writeFileSync(target, m[1]);
  });
}
