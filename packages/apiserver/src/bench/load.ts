import fs from 'fs';
import http from 'http';
import https from 'https';
import { cpuSecondsOf } from '@peapod/client/testing';

export const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface Sent {
  status: number;
  body: string;
  /** the size of the response body */
  bytes: number;
}

/** How to reach a server over HTTPS with a bearer token (the default is plain HTTP, no token). */
export interface Secure {
  agent: https.Agent;
  token: string;
}

export function send(port: number, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, secure?: Secure): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const all = { ...(body ? { 'Content-Type': 'application/json' } : {}), ...(secure ? { Authorization: `Bearer ${secure.token}` } : {}), ...headers };
    const req = (secure ? https : http).request(
      { host: '127.0.0.1', port, method, path, agent: secure ? secure.agent : agent, headers: all },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, body: all.toString('utf8'), bytes: all.length });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs total calls of fn with `concurrency` in flight; returns each call's latency in ms and the wall time. */
export async function runConcurrent(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      await fn(i);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Opens a chunked watch and calls onLine for every line, until close(). */
export function openStream(port: number, path: string, onLine: (line: string) => void, headers: Record<string, string> = {}): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, headers }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      res.on('error', () => undefined);
      resolve({ close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

/** CPU seconds a bench side used: the server's, the etcd members', and the load generator's (this process). */
export interface CpuTimes {
  server: number;
  etcd: number;
  client: number;
}

/**
 * Runs `work` and adds the CPU time it took, in seconds, to `into`: the server's (when given),
 * the processes in `etcdPids`, and this process's own.
 */
export async function cpuOf<T>(serverPid: number | undefined, etcdPids: number[], into: CpuTimes, work: () => Promise<T>): Promise<T> {
  const etcdOf = () => etcdPids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const server = serverPid ? cpuSecondsOf(serverPid) : 0;
  const etcd = etcdOf();
  const own = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(own);
  into.server += serverPid ? cpuSecondsOf(serverPid) - server : 0;
  into.etcd += etcdOf() - etcd;
  into.client += (used.user + used.system) / 1e6;
  return result;
}
