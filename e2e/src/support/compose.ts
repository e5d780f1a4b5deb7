import fs from 'fs';
import os from 'os';
import path from 'path';
import { cleanupPods, repoRoot } from './cluster';
import { run, runOk } from './process';

/** The agents' node names in docker-compose.yml, after PEAPOD_NODE_PREFIX. */
export const composeNodes = ['node-1', 'node-2', 'node-3'];
/** The agents of the `ha` profile. */
export const haComposeNodes = ['ha-node-1', 'ha-node-2'];

export interface ComposeSettings {
  /** Compose project, Docker network and node-name prefix all derive from it. */
  id: string;
  apiPort: number;
  /** Base image for the Dockerfile (PEAPOD_NODE_IMAGE). */
  nodeImage: string;
  /** Where the bootstrap service writes the credentials and kubeconfigs (PEAPOD_PKI_DIR). */
  pkiDir: string;
  /** Extra variables for docker-compose.yml (heartbeat and eviction timings). */
  extraEnv?: Record<string, string>;
  /**
   * The `ha` profile's cluster instead (etcd, two API servers): apiPort and haApiPort2 are its
   * two API servers' ports, pkiDir its credentials.
   */
  ha?: { apiPort2: number };
}

/**
 * One docker-compose.yml cluster under its own project name, network, node names and host
 * port, so that it touches nothing of another cluster on the same Docker.
 */
export class ComposeCluster {
  readonly project: string;
  readonly network: string;
  readonly nodePrefix: string;
  readonly server: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly ha: boolean;

  constructor(settings: ComposeSettings) {
    this.project = `peapod-e2e-${settings.id}`;
    this.ha = settings.ha !== undefined;
    this.network = this.ha ? `${this.project}-ha` : this.project;
    this.nodePrefix = `e2e-${settings.id}-`;
    this.server = `https://127.0.0.1:${settings.apiPort}`;
    this.env = {
      ...process.env,
      PEAPOD_NETWORK: this.project,
      PEAPOD_NODE_PREFIX: this.nodePrefix,
      PEAPOD_NODE_IMAGE: settings.nodeImage,
      ...(settings.ha
        ? { PEAPOD_HA_API_PORT: String(settings.apiPort), PEAPOD_HA_API_PORT_2: String(settings.ha.apiPort2), PEAPOD_HA_PKI_DIR: settings.pkiDir }
        : { PEAPOD_API_PORT: String(settings.apiPort), PEAPOD_PKI_DIR: settings.pkiDir }),
      ...settings.extraEnv,
    };
  }

  nodeName(composeNode: string): string {
    return `${this.nodePrefix}${composeNode}`;
  }

  get nodeNames(): string[] {
    return (this.ha ? haComposeNodes : composeNodes).map((n) => this.nodeName(n));
  }

  compose(args: string[], timeoutMs = 120_000): Promise<string> {
    return runOk('docker-compose', ['-p', this.project, ...(this.ha ? ['--profile', 'ha'] : []), ...args], { cwd: repoRoot, env: this.env, timeoutMs });
  }

  /**
   * Stops the components, removes the pods' containers (which hold the network), then the
   * project with its volume and network; saves the components' logs first and returns
   * where. Each step runs even when an earlier one fails; the first failure is thrown.
   * The logs go to one file per kind of cluster, which the next run replaces: a failed run's
   * logs stay for reading, and passing runs do not pile files up.
   */
  async destroy(): Promise<string> {
    const logFile = path.join(os.tmpdir(), this.ha ? 'peapod-e2e-compose-ha.log' : 'peapod-e2e-compose.log');
    const failures: unknown[] = [];
    const step = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        failures.push(err);
      }
    };
    await step(async () => fs.writeFileSync(logFile, await this.compose(['logs', '--no-color', '--timestamps'], 60_000)));
    await step(() => this.compose(['stop', '-t', '5']));
    await step(() => cleanupPods(this.nodeNames));
    await step(() => this.compose(['down', '-v', '--remove-orphans', '-t', '5']));
    // `up --build` leaves the untagged build stage (a copy of node_modules) behind.
    await step(() => runOk('docker', ['image', 'prune', '-f', '--filter', 'label=peapod.image']));
    // A network still held by a container that escaped the steps above.
    await step(async () => {
      const left = await runOk('docker', ['network', 'ls', '-q', '--filter', `name=^${this.network}$`]);
      if (left.trim()) await runOk('docker', ['network', 'rm', this.network]);
    });
    if (failures.length > 0) throw failures[0];
    return logFile;
  }

  /** Containers of the project or of its nodes' pods that are still there. */
  async leftovers(): Promise<string[]> {
    const filters = [
      ['--filter', `label=com.docker.compose.project=${this.project}`],
      ...this.nodeNames.map((n) => ['--filter', `label=peapod.node=${n}`]),
    ];
    const names: string[] = [];
    for (const f of filters) {
      const r = await run('docker', ['ps', '-a', '--format', '{{.Names}}', ...f]);
      names.push(...r.stdout.split('\n').filter(Boolean));
    }
    return names;
  }
}

/** The base image: as scripts/node-image.sh picks it (the official one, or the local stand-in). */
export async function nodeImage(): Promise<string> {
  return (await runOk('bash', [path.join(repoRoot, 'scripts/node-image.sh')], { timeoutMs: 180_000 })).trim();
}
