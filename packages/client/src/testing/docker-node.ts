// Test helpers for tests against more of a cluster (peactl's, the dashboard's): the
// scheduler, the controller manager, and a node agent on real Docker with a network of its
// own. Everything the agent creates carries the label peapod.node=<node>, which is how
// clean-up finds it even after a failed test.

import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { startComponent } from './processes';
import type { RunningProcess } from './processes';

export const busybox = 'peapod/busybox:latest';

/** The controller manager, not waited for: it acts once it has synced. */
export function startControllerManager(server: string, args: string[] = []): RunningProcess {
  return startComponent('controller-manager', ['--server', server, ...args]);
}

/** The scheduler, not waited for: it binds pods once it has synced. */
export function startScheduler(server: string, args: string[] = []): RunningProcess {
  return startComponent('scheduler', ['--server', server, ...args]);
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
  private agent?: RunningProcess;

  constructor(prefix: string) {
    this.nodeName = `${prefix}-${this.runId}`;
    this.network = `peapod-test-${prefix}-${this.runId}`;
  }

  /** `args`: more agent flags (a --token when the server authenticates). */
  async start(server: string, opts: { backoffBase?: number; args?: string[] } = {}): Promise<void> {
    const created = docker(['network', 'create', '--label', `peapod.test=${this.runId}`, this.network]);
    if (created.code !== 0) throw new Error(`docker network create: ${created.stderr}`);
    this.agent = startComponent('agent', [
      '--server', server,
      '--node-name', this.nodeName,
      '--port', '0',
      '--address', '127.0.0.1',
      '--network', this.network,
      '--heartbeat-interval', '2',
      '--relist-period', '0.5',
      '--backoff-base', String(opts.backoffBase ?? 1),
      ...(opts.args ?? []),
    ]);
    await this.agent.ready(/"msg":"listening"/, 20_000);
  }

  /**
   * A pod of busybox shell scripts bound to this node, as JSON for `peactl create -f -`; each
   * container may mount the pod's emptyDir "state" (at /state) and ask for stdin.
   */
  podManifest(name: string, containers: { name: string; script: string; stdin?: boolean; state?: boolean }[]): string {
    const state = containers.some((c) => c.state);
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        nodeName: this.nodeName,
        terminationGracePeriodSeconds: 1,
        ...(state ? { volumes: [{ name: 'state', emptyDir: {} }] } : {}),
        containers: containers.map((c) => ({
          name: c.name,
          image: busybox,
          imagePullPolicy: 'Never',
          command: ['sh', '-c', c.script],
          ...(c.stdin ? { stdin: true } : {}),
          ...(c.state ? { volumeMounts: [{ name: 'state', mountPath: '/state' }] } : {}),
        })),
      },
    });
  }

  logs(): string {
    return this.agent?.logs() ?? '';
  }

  /** Kills the agent, then removes its containers, volumes and the network; safe to call after a failed start. */
  async cleanup(): Promise<void> {
    await this.agent?.kill('SIGKILL');
    const label = `label=peapod.node=${this.nodeName}`;
    const containers = docker(['ps', '-aq', '--filter', label]).stdout.split('\n').filter(Boolean);
    if (containers.length > 0) docker(['rm', '-f', '-v', ...containers]);
    const volumes = docker(['volume', 'ls', '-q', '--filter', label]).stdout.split('\n').filter(Boolean);
    if (volumes.length > 0) docker(['volume', 'rm', '-f', ...volumes]);
    docker(['network', 'rm', this.network]);
  }
}
