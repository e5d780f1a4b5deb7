// `peactl get pods` beside `kubectl get pods` on the same server (which already holds the
// pods): wall time and peak resident memory of each process. The lead's `npm run bench`
// prints these as a ratio.
//
// Peak memory: /proc/PID/status VmHWM (the kernel's high-water mark of RSS), polled every
// millisecond while the process runs; for peactl also read by the process itself at exit
// (bench-peak.js preloaded), so its figure is exact. kubectl's is the last value polled
// before it exited, which can only be lower than its true peak: the comparison never
// flatters peactl.

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface RunFigures {
  /** Median wall time over the runs. */
  seconds: number;
  /** Highest peak RSS seen over the runs. */
  peakRssMiB: number;
}

export interface BenchGetPodsResult {
  peactl: RunFigures;
  kubectl: RunFigures;
  /** peactl / kubectl: below 1 means peactl is faster / smaller. */
  ratio: { seconds: number; peakRssMiB: number };
  /** Lines each printed (the same when both listed every pod). */
  lines: { peactl: number; kubectl: number };
}

export interface BenchOptions {
  runs?: number;
  kubectlPath?: string;
}

const peactlMain = path.join(__dirname, '..', 'main.js');
const peakPreload = path.join(__dirname, 'bench-peak.js');

function readHwmKiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface OneRun {
  seconds: number;
  peakKiB: number;
  lines: number;
}

function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv, peakFile?: string): Promise<OneRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let peakKiB = 0;
    let lines = 0;
    let stderr = '';
    const poll = setInterval(() => {
      const v = child.pid !== undefined ? readHwmKiB(child.pid) : undefined;
      if (v !== undefined && v > peakKiB) peakKiB = v;
    }, 1);
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (err) => {
      clearInterval(poll);
      reject(err);
    });
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`${cmd} exited with ${code}: ${stderr.trim()}`));
      if (peakFile !== undefined && fs.existsSync(peakFile)) peakKiB = Math.max(peakKiB, Number(fs.readFileSync(peakFile, 'utf8')));
      resolve({ seconds, peakKiB, lines });
    });
  });
}

function summarize(runs: OneRun[]): RunFigures {
  const times = runs.map((r) => r.seconds).sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  return { seconds: median, peakRssMiB: Math.max(...runs.map((r) => r.peakKiB)) / 1024 };
}

/** Runs `get pods` with each binary `runs` times (alternating), against `serverUrl`. */
export async function benchGetPods(serverUrl: string, opts: BenchOptions = {}): Promise<BenchGetPodsResult> {
  const runs = opts.runs ?? 3;
  const kubectl = opts.kubectlPath ?? '/usr/bin/kubectl';
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'peactl-bench-'));
  // Neither binary may find a kubeconfig: both talk to --server only.
  const env = { ...process.env, HOME: home, KUBECONFIG: path.join(home, 'none') };
  const peakFile = path.join(home, 'peactl-peak');
  const ours: OneRun[] = [];
  const theirs: OneRun[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      fs.rmSync(peakFile, { force: true });
      ours.push(
        await measure(process.execPath, ['--require', peakPreload, peactlMain, '--server', serverUrl, 'get', 'pods'], { ...env, PEACTL_BENCH_PEAK_FILE: peakFile }, peakFile),
      );
      theirs.push(await measure(kubectl, ['--server', serverUrl, '--cache-dir', path.join(home, 'cache'), 'get', 'pods'], env));
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  const peactl = summarize(ours);
  const kube = summarize(theirs);
  return {
    peactl,
    kubectl: kube,
    ratio: { seconds: peactl.seconds / kube.seconds, peakRssMiB: peactl.peakRssMiB / kube.peakRssMiB },
    lines: { peactl: ours[0].lines, kubectl: theirs[0].lines },
  };
}

/** Creates `count` small pods in namespace default (16 requests in flight), for the benchmark. */
export async function createPods(serverUrl: string, count: number, prefix = 'bench-'): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${prefix}${i}`, labels: { app: 'bench' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
      const res = await fetch(`${serverUrl}/api/v1/namespaces/default/pods`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      await res.text();
      if (res.status !== 201) throw new Error(`creating pod ${prefix}${i}: HTTP ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}
