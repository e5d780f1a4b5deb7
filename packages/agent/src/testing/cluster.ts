// Real processes for e2e tests and the benchmark: an API server, agents, and a Docker
// network of their own; everything they create is found again by label and removed.
import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import fs from 'fs';
import path from 'path';
import Docker from 'dockerode';
import type { Container, Pod } from '@peapod/api';
import { Client } from '@peapod/client';
import { createNamespaceDefaults, mainJs, sleep, startApiServer, startComponent, waitFor } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';

export { sleep, waitFor };

export const BUSYBOX = 'peapod/busybox:latest';
export const INFRA = 'peapod/pause:latest';

/** The credentials `peapod-apiserver bootstrap` writes: a cluster with authentication and TLS. */
export interface TestPki {
  file(name: string): string;
  /** each identity's token, by user name */
  tokens: Record<string, string>;
  ca: Buffer;
  /** what the API server needs to use them */
  apiserverArgs: string[];
}

/** Writes a CA, certificates, tokens and kubeconfigs into dir for these nodes and server addresses. */
export function bootstrapPki(dir: string, nodes: string[], hosts = ['127.0.0.1']): TestPki {
  const boot = spawnSync(process.execPath, [mainJs('apiserver'), 'bootstrap', '--dir', dir, '--server', `https://${hosts[hosts.length - 1]}:1`, '--hosts', hosts.join(','), '--nodes', nodes.join(',')], { encoding: 'utf8' });
  if (boot.status !== 0) throw new Error(`bootstrap failed: ${boot.stderr}`);
  const file = (name: string) => path.join(dir, name);
  const tokens: Record<string, string> = {};
  for (const line of fs.readFileSync(file('tokens.csv'), 'utf8').trim().split('\n')) {
    const [token, user] = line.split(',');
    tokens[user] = token;
  }
  const apiserverArgs = [
    '--token-auth-file', file('tokens.csv'),
    '--tls-cert-file', file('apiserver.crt'),
    '--tls-private-key-file', file('apiserver.key'),
    '--agent-client-token-file', file('apiserver-agent-client.token'),
  ];
  return { file, tokens, ca: fs.readFileSync(file('ca.crt')), apiserverArgs };
}

export interface AgentProc extends RunningProcess {
  nodeName: string;
  port: number;
}

export interface AgentSpec {
  server: string;
  nodeName: string;
  network: string;
  allowPrivileged?: boolean;
  /** Base restart back-off in seconds. */
  backoffBase?: number;
  args?: string[];
}

export async function startAgent(spec: AgentSpec): Promise<AgentProc> {
  const args = [
    '--server', spec.server,
    '--node-name', spec.nodeName,
    '--runtime', 'docker',
    '--port', '0',
    '--address', '127.0.0.1',
    `--allow-privileged=${spec.allowPrivileged ?? true}`,
    '--network', spec.network,
    '--heartbeat-interval', '2',
    '--backoff-base', String(spec.backoffBase ?? 1),
    '--relist-period', '0.5',
    ...(spec.args ?? []),
  ];
  const agent = startComponent('agent', args);
  const m = await agent.ready(/"msg":"listening"[^\n]*"address":"http:\/\/127\.0\.0\.1:(\d+)"/, 20_000);
  return { ...agent, nodeName: spec.nodeName, port: Number(m[1]) };
}

/**
 * One test file's world: an API server, agents on a Docker network of its own, and the
 * clean-up that removes all of it (agents first, then their containers, volumes, network).
 */
export class TestCluster {
  readonly runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  readonly network: string;
  readonly docker = new Docker();
  server?: RunningApiServer;
  client?: Client;
  readonly agents = new Map<string, AgentProc>();
  private readonly nodeNames = new Set<string>();
  private gateway: Promise<string> | undefined;

  constructor(readonly prefix: string) {
    this.network = `peapod-test-${prefix}-${this.runId}`;
  }

  /** A node name unique to this run. */
  node(name: string): string {
    const full = `${name}-${this.runId}`;
    this.nodeNames.add(full);
    return full;
  }

  /**
   * Starts the API server; `token` is the admin's when the arguments turn authentication on,
   * `ca` the certificate authority of a server that serves TLS.
   */
  async start(apiserverArgs: string[] = [], token?: string, ca?: Buffer): Promise<Client> {
    await this.createNetwork();
    this.server = await startApiServer({ args: apiserverArgs, timeoutMs: 20_000 });
    this.client = new Client({ server: this.server.url, ...(token !== undefined ? { token } : {}), ...(ca !== undefined ? { ca } : {}) });
    await this.namespaceDefaults('default');
    return this.client;
  }

  /** Starts the API server with the credentials of pki (and more arguments); the client is the admin's. */
  startSecure(pki: TestPki, args: string[] = []): Promise<Client> {
    return this.start([...pki.apiserverArgs, ...args], pki.tokens.admin, pki.ca);
  }

  /**
   * Creates the test's Docker network, once (start does it too); returns its gateway: the
   * host's address there, where a server bound is reached from pods.
   */
  async createNetwork(): Promise<string> {
    this.gateway ??= (async () => {
      const network = await this.docker.createNetwork({ Name: this.network, Driver: 'bridge', Labels: { 'peapod.test': this.runId } });
      const gateway = (await network.inspect()).IPAM?.Config?.[0]?.Gateway;
      if (!gateway) throw new Error(`network ${this.network} has no gateway`);
      return gateway as string;
    })();
    return this.gateway;
  }

  /** What the controller manager (not run here) gives a namespace. */
  async namespaceDefaults(namespace: string): Promise<void> {
    await createNamespaceDefaults(this.api, namespace);
  }

  get api(): Client {
    if (!this.client) throw new Error('cluster not started');
    return this.client;
  }

  async startAgent(nodeName: string, opts: Partial<AgentSpec> = {}): Promise<AgentProc> {
    this.nodeNames.add(nodeName);
    const agent = await startAgent({ server: this.server?.url ?? '', nodeName, network: this.network, ...opts });
    this.agents.set(nodeName, agent);
    return agent;
  }

  /** Kills every agent, then removes what they left on Docker, then the API server. */
  async cleanup(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.kill('SIGKILL')));
    for (const node of this.nodeNames) {
      const containers = await this.docker.listContainers({ all: true, filters: { label: [`peapod.node=${node}`] } });
      await Promise.all(containers.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
      const { Volumes } = await this.docker.listVolumes({ filters: { label: [`peapod.node=${node}`] } });
      await Promise.all((Volumes ?? []).map((v) => this.docker.getVolume(v.Name).remove().catch(() => undefined)));
    }
    await this.docker.getNetwork(this.network).remove().catch(() => undefined);
    this.client?.close();
    await this.server?.stop('SIGKILL');
  }

  /** The node's containers of one pod (by pod name), as Docker lists them. */
  async podContainers(node: string, podName: string): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [`peapod.node=${node}`, `peapod.pod.name=${podName}`] } });
  }

  /** Runs a command in a pod's container (by container name) through Docker exec. */
  async exec(node: string, podName: string, container: string, cmd: string[]): Promise<{ code: number | null; out: string }> {
    const [info] = await this.docker.listContainers({
      filters: { label: [`peapod.node=${node}`, `peapod.pod.name=${podName}`, `peapod.container=${container}`] },
    });
    if (!info) throw new Error(`no running container ${container} of pod ${podName}`);
    const exec = await this.docker.getContainer(info.Id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    const raw = Buffer.concat(chunks);
    // Strip Docker's 8-byte stream frame headers.
    const parts: Buffer[] = [];
    for (let i = 0; i + 8 <= raw.length; ) {
      const size = raw.readUInt32BE(i + 4);
      parts.push(raw.subarray(i + 8, i + 8 + size));
      i += 8 + size;
    }
    let inspected = await exec.inspect();
    for (let i = 0; inspected.Running && i < 50; i++) {
      await sleep(20);
      inspected = await exec.inspect();
    }
    return { code: inspected.ExitCode ?? null, out: Buffer.concat(parts).toString() };
  }
}

/** A shell loop that exits at once on TERM (sleep in the background so the trap runs now). */
export function cooperative(onTerm = 'exit 0'): string {
  return `trap '${onTerm}' TERM; while :; do sleep 1 & wait $!; done`;
}

/** A shell loop that ignores TERM. */
export const stubborn = `trap '' TERM; while :; do sleep 1 & wait $!; done`;

export function shContainer(name: string, script: string, extra: Partial<Container> = {}): Container {
  return { name, image: BUSYBOX, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra };
}

export function makePod(name: string, nodeName: string, containers: Container[], spec: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName, containers, terminationGracePeriodSeconds: 5, ...spec },
  };
}
