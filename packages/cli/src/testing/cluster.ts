// Test helpers for peactl against more of a cluster: the controller manager, and a node
// agent on real Docker with a network of its own. Everything the agent creates carries
// the label peapod.node=<node>, which is how clean-up finds it even after a failed test.

import { ChildProcess, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import path from 'path';

export const agentMain = path.resolve(__dirname, '../../../agent/dist/main.js');
export const controllerManagerMain = path.resolve(__dirname, '../../../controller-manager/dist/main.js');
export const busybox = 'peapod/busybox:latest';

export interface Component {
  /** stderr so far. */
  logs(): string;
  stop(): Promise<void>;
}

/** Starts a component process; resolves once its stderr matches `ready` (or at once without one). */
async function startComponent(what: string, main: string, args: string[], ready?: RegExp): Promise<Component> {
  const proc: ChildProcess = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${stderr}`)), 20_000);
    const check = (): void => {
      if (ready === undefined || ready.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      check();
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${stderr}`));
    });
    check();
  });
  try {
    await started;
  } catch (err) {
    await stop();
    throw err;
  }
  return { logs: () => stderr, stop };
}

export function startControllerManager(server: string): Promise<Component> {
  return startComponent('controller manager', controllerManagerMain, ['--server', server]);
}

function docker(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function hasDocker(): boolean {
  return docker(['image', 'inspect', busybox]).code === 0;
}

/** One test file's node: a Docker network and an agent on it, and the clean-up of both. */
export class DockerNode {
  readonly runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  readonly nodeName: string;
  readonly network: string;
  private agent?: Component;

  constructor(prefix: string) {
    this.nodeName = `${prefix}-${this.runId}`;
    this.network = `peapod-test-${prefix}-${this.runId}`;
  }

  async start(server: string, opts: { backoffBase?: number } = {}): Promise<void> {
    const created = docker(['network', 'create', '--label', `peapod.test=${this.runId}`, this.network]);
    if (created.code !== 0) throw new Error(`docker network create: ${created.stderr}`);
    this.agent = await startComponent(
      `agent ${this.nodeName}`,
      agentMain,
      [
        '--server', server,
        '--node-name', this.nodeName,
        '--port', '0',
        '--address', '127.0.0.1',
        '--network', this.network,
        '--heartbeat-interval', '2',
        '--relist-period', '0.5',
        '--backoff-base', String(opts.backoffBase ?? 1),
      ],
      /"msg":"listening"/,
    );
  }

  logs(): string {
    return this.agent?.logs() ?? '';
  }

  /** Kills the agent, then removes its containers, volumes and the network; safe to call after a failed start. */
  async cleanup(): Promise<void> {
    await this.agent?.stop();
    const label = `label=peapod.node=${this.nodeName}`;
    const containers = docker(['ps', '-aq', '--filter', label]).stdout.split('\n').filter(Boolean);
    if (containers.length > 0) docker(['rm', '-f', '-v', ...containers]);
    const volumes = docker(['volume', 'ls', '-q', '--filter', label]).stdout.split('\n').filter(Boolean);
    if (volumes.length > 0) docker(['volume', 'rm', '-f', ...volumes]);
    docker(['network', 'rm', this.network]);
  }
}
