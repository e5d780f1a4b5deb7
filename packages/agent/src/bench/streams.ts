// Getting inside a pod, measured end to end (kubectl → API server → agent → Docker) beside
// Docker alone on the same container in the same run: port-forward throughput against the
// agent's own bridge driven straight through the Docker API, and `kubectl exec POD -- true`
// against `docker exec CONTAINER true`.
import { spawn } from 'child_process';
import http from 'http';
import { PassThrough, Writable } from 'stream';
import type { Pod } from '@peapod/api';
import { freePort } from '@peapod/client/testing';
import { latencyFigures, type LatencyFigures } from '@peapod/api/bench';
import { execInteractive } from '../runtime/interactive';
import { TestCluster, makePod, shContainer, cooperative, waitFor } from '../testing/cluster';
import { kubectlFor, type Kubectl } from '../testing/kubectl';

export interface StreamsBenchOptions {
  /** size of the file downloaded through port-forward (default 64 MiB) */
  megabytes?: number;
  /** downloads, one after another (default 5) */
  downloads?: number;
  /** exec round trips (default 20) */
  execs?: number;
}

export interface StreamsBench {
  portForwardMiBps: number;
  baselineMiBps: number;
  exec: LatencyFigures;
}

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function download(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/big', agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { env, stdio: 'ignore' });
    proc.on('error', reject);
    proc.on('close', resolve);
  });
}

async function timed(n: number, once: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    await once();
    times.push(elapsedMs(start));
  }
  return times;
}

export async function benchStreams(opts: StreamsBenchOptions = {}): Promise<StreamsBench> {
  const megabytes = opts.megabytes ?? 64;
  const downloads = opts.downloads ?? 5;
  const cluster = new TestCluster('bench-streams');
  let kubectl: Kubectl | undefined;
  try {
    await cluster.start();
    const node = cluster.node('bench');
    await cluster.startAgent(node);
    kubectl = kubectlFor(cluster.server!.url);
    const script = `mkdir -p /www && head -c ${megabytes * 1024 * 1024} /dev/zero > /www/big && httpd -p 127.0.0.1:8080 -h /www && exec sh -c "${cooperative()}"`;
    await cluster.api.create('pods', makePod('web', node, [shContainer('c', script)]));
    await waitFor('pod web Running', async () => (await cluster.api.get<Pod>('pods', 'web')).status?.phase === 'Running', 60_000);
    const containers = await cluster.podContainers(node, 'web');
    const app = containers.find((c) => c.Labels['peapod.container'] === 'c')!;
    const infra = containers.find((c) => c.Labels['peapod.container'] === 'POD')!;
    await waitFor('the file served', async () => (await kubectl!.run(['exec', 'web', '--', 'wget', '-qO/dev/null', 'http://127.0.0.1:8080/big'])).code === 0, 60_000);

    // Port-forward: kubectl's WebSocket-tunnelled SPDY, one download at a time.
    const port = await freePort();
    const forward = kubectl.start(['port-forward', 'pod/web', `${port}:8080`]);
    let ready = '';
    forward.stdout.on('data', (d: Buffer) => (ready += d.toString()));
    let forwardedMs = 0;
    try {
      await waitFor('port-forward listening', async () => ready.includes('Forwarding from 127.0.0.1'), 30_000);
      await download(port);
      forwardedMs = (await timed(downloads, () => download(port))).reduce((a, b) => a + b, 0);
    } finally {
      forward.kill('SIGKILL');
    }

    // Baseline: the same bridge the agent runs (nc in the infra container), through the Docker API.
    const request = Buffer.from('GET /big HTTP/1.0\r\n\r\n');
    const baselineOnce = async (): Promise<void> => {
      const sink = new Writable({ write: (_c, _e, done) => done() });
      const stdin = new PassThrough();
      const proc = await execInteractive(cluster.docker, infra.Id, ['nc', '127.0.0.1', '8080'], { stdin, stdout: sink, tty: false });
      stdin.end(request);
      await proc.done;
    };
    await baselineOnce();
    const baselineMs = (await timed(downloads, baselineOnce)).reduce((a, b) => a + b, 0);

    // exec round trips, each a new process as a user would run them.
    const execs = opts.execs ?? 20;
    const kubectlBin = '/usr/bin/kubectl';
    const execTimes = await timed(execs, () => run(kubectlBin, [...kubectl!.baseArgs, 'exec', 'web', '--', 'true'], kubectl!.env));
    const dockerTimes = await timed(execs, () => run('docker', ['exec', app.Id, 'true']));

    const mib = megabytes * downloads;
    return {
      portForwardMiBps: Math.round((mib / (forwardedMs / 1000)) * 10) / 10,
      baselineMiBps: Math.round((mib / (baselineMs / 1000)) * 10) / 10,
      exec: latencyFigures(execTimes, dockerTimes),
    };
  } finally {
    kubectl?.cleanup();
    await cluster.cleanup();
  }
}
