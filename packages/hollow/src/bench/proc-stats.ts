// What a process costs, from /proc: resident memory now and at its peak, and CPU time.
import fs from 'fs';
import path from 'path';

export interface ProcStats {
  rssMiB: number;
  peakRssMiB: number;
  /** user + system CPU seconds since the process started. */
  cpuSeconds: number;
}

const CLOCK_TICKS = 100;

function kib(status: string, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

export function procStats(pid: number): ProcStats {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  // The command name may hold spaces: the fields are counted after its closing parenthesis.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMiB: kib(status, 'VmRSS'), peakRssMiB: kib(status, 'VmHWM'), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
}

/** Bytes of the files in a directory (the API server's database and its WAL). */
export function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(full) : fs.statSync(full).size;
  }
  return total;
}
