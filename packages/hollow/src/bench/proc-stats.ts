// What a process costs, from /proc: resident memory now and at its peak, and CPU time.
import fs from 'fs';
import path from 'path';
import { cpuSecondsOf } from '@peapod/client/testing';

export interface ProcStats {
  rssMiB: number;
  peakRssMiB: number;
  /** user + system CPU seconds since the process started. */
  cpuSeconds: number;
}

function kib(status: string, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

export function procStats(pid: number): ProcStats {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssMiB: kib(status, 'VmRSS'), peakRssMiB: kib(status, 'VmHWM'), cpuSeconds: cpuSecondsOf(pid) };
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

/**
 * The machine's pressure stall totals (Linux PSI, /proc/pressure): microseconds in which some
 * task waited for a CPU, and for the disk. Other processes' load shows here; undefined without PSI.
 */
export function pressureTotals(): { cpuMicros: number; ioMicros: number } | undefined {
  const some = (resource: string): number => {
    const m = /^some .*total=(\d+)/m.exec(fs.readFileSync(`/proc/pressure/${resource}`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  };
  try {
    return { cpuMicros: some('cpu'), ioMicros: some('io') };
  } catch {
    return undefined;
  }
}

/**
 * How many connections the kernel has dropped because a listen queue was full (TcpExt
 * ListenOverflows of this network namespace, /proc/net/netstat): each such client waits out
 * retransmissions, a second or more, before the server reads its request. Undefined when
 * the file does not give it.
 */
export function listenOverflows(): number | undefined {
  try {
    const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n');
    // Pairs of lines: the TcpExt names, then their values.
    const at = lines.findIndex((l) => l.startsWith('TcpExt:'));
    const names = lines[at].split(/\s+/);
    const values = lines[at + 1].split(/\s+/);
    const i = names.indexOf('ListenOverflows');
    return i > 0 ? Number(values[i]) : undefined;
  } catch {
    return undefined;
  }
}
