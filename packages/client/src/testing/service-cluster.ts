// A cluster for tests of services end to end, on real Docker: an API server, the controller
// manager (Endpoints and EndpointSlices), agents on a Docker network of the test's own whose
// InternalIP is the host's address on that network (so node ports answer there), a service
// proxy per node and, when asked, the cluster DNS. Pods are bound to nodes by name (no
// scheduler). Everything is found again by label or name and removed by cleanup(), which
// also makes sure no proxy left its nftables table behind.

import { execFile, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import type { Container, Pod } from '@peapod/api';
import { Client } from '../rest';
import { startApiServer, startComponent } from './processes';
import { waitFor } from './wait';
import type { RunningApiServer, RunningProcess } from './processes';

export const testImage = 'peapod/busybox:latest';
/** The kube-dns cluster IP the agents give pods. */
export const clusterDnsIP = '10.96.0.10';

function docker(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Docker and nft answer, and the test image is here: the e2e suites run only then. */
export function canRunServices(): boolean {
  return docker(['image', 'inspect', testImage]).code === 0 && spawnSync('nft', ['list', 'tables']).status === 0;
}

/** nft's listing of one table, or '' when it does not exist. */
export function nftTable(table: string): string {
  const r = spawnSync('nft', ['list', 'table', 'ip', table], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

/** The names of the host's nftables tables (family ip). */
export function nftTables(): string[] {
  const r = spawnSync('nft', ['list', 'tables', 'ip'], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => l.replace(/^table ip /, '').trim()).filter(Boolean);
}

export interface ServiceClusterNode {
  name: string;
  agent: RunningProcess;
  proxy?: RunningProcess;
}

export interface ExecResult {
  code: number;
  out: string;
}

export class ServiceCluster {
  readonly runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  readonly network: string;
  /** the host's address on the network: every node's InternalIP, and where the DNS listens */
  gateway = '';
  subnet = '';
  server?: RunningApiServer;
  client?: Client;
  dns?: RunningProcess;
  readonly nodes = new Map<string, ServiceClusterNode>();
  private controllerManager?: RunningProcess;
  private readonly nodeNames = new Set<string>();
  private readonly podNodes = new Map<string, string>();

  constructor(readonly prefix: string) {
    this.network = `peapod-test-${prefix}-${this.runId}`;
  }

  get api(): Client {
    if (!this.client) throw new Error('cluster not started');
    return this.client;
  }

  /** A node name unique to this run. */
  node(name: string): string {
    return `${name}-${this.runId}`;
  }

  /** The nftables table a node's proxy owns. */
  proxyTable(node: string): string {
    return `peapod-proxy-${node}`;
  }

  async start(): Promise<void> {
    const created = docker(['network', 'create', '--label', `peapod.test=${this.runId}`, this.network]);
    if (created.code !== 0) throw new Error(`docker network create: ${created.stderr}`);
    const ipam = docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}', this.network]).stdout.trim().split(' ');
    [this.subnet, this.gateway] = ipam;
    this.server = await startApiServer({ timeoutMs: 20_000 });
    this.client = new Client({ server: this.server.url });
    this.controllerManager = startComponent('controller-manager', ['--server', this.server.url]);
  }

  /** An agent on the test network, with the cluster DNS address for its pods, and (unless told not to) its proxy. */
  async addNode(name: string, opts: { proxy?: boolean } = {}): Promise<ServiceClusterNode> {
    this.nodeNames.add(name);
    const agent = startComponent('agent', [
      '--server', this.server!.url,
      '--node-name', name,
      '--port', '0',
      '--address', this.gateway,
      '--network', this.network,
      '--heartbeat-interval', '2',
      '--relist-period', '0.5',
      '--backoff-base', '1',
      '--cluster-dns', clusterDnsIP,
      '--resolv-conf', '',
    ]);
    await agent.ready(/"msg":"listening"/, 20_000);
    const node: ServiceClusterNode = { name, agent };
    this.nodes.set(name, node);
    if (opts.proxy !== false) await this.startProxy(name);
    return node;
  }

  /** Starts (or starts again) a node's proxy and waits for its first rules. */
  async startProxy(name: string): Promise<RunningProcess> {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    node.proxy = startComponent('proxy', ['--server', this.server!.url, '--node-name', name, '--network', this.network, '--log-level', 'info']);
    await node.proxy.ready(/"msg":"rules written"/, 30_000);
    return node.proxy;
  }

  /** The cluster DNS on the host's address on the network, any free port, forwarding to `upstream` (IP:PORT). */
  async startDns(upstream: string): Promise<RunningProcess> {
    this.dns = startComponent('dns', ['--server', this.server!.url, '--address', this.gateway, '--port', '0', '--upstream', upstream, '--instance', `test-${this.runId}`, '--log-level', 'info']);
    await this.dns.ready(/"msg":"serving"/, 30_000);
    return this.dns;
  }

  /** Creates a pod bound to `node` and waits until it is Ready; returns it as the API has it then. */
  async runPod(name: string, node: string, containers: Container[], spec: Partial<Pod['spec']> = {}, labels: Record<string, string> = {}): Promise<Pod> {
    this.podNodes.set(name, node);
    await this.api.create<Pod>('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels },
      spec: { nodeName: node, containers, ...spec },
    });
    return waitFor(`pod ${name} Ready`, async () => {
      const pod = await this.api.get<Pod>('pods', name);
      return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && pod.status.podIP ? pod : undefined;
    });
  }

  /** The Docker container of a pod's container. */
  containerOf(pod: string, container: string): string {
    const labels = [`peapod.node=${this.podNodes.get(pod) ?? ''}`, `peapod.pod.name=${pod}`, `peapod.container=${container}`];
    const id = docker(['ps', '-aq', ...labels.flatMap((l) => ['--filter', `label=${l}`])]).stdout.trim().split('\n')[0];
    if (!id) throw new Error(`no container ${container} of pod ${pod}`);
    return id;
  }

  /** Runs a shell script in a pod's container (docker exec) and gives its exit code and output. */
  exec(pod: string, container: string, script: string, timeoutMs = 60_000): Promise<ExecResult> {
    const id = this.containerOf(pod, container);
    return new Promise((resolve) => {
      execFile('docker', ['exec', id, 'sh', '-c', script], { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
        resolve({ code, out: stdout + stderr });
      });
    });
  }

  /** Whether a pod's container runs, and when it ended if it did; undefined once it is removed. */
  containerState(pod: string, container: string): { running: boolean; finishedAt?: number } | undefined {
    let id: string;
    try {
      id = this.containerOf(pod, container);
    } catch {
      return undefined;
    }
    const r = docker(['inspect', '-f', '{{.State.Running}} {{.State.FinishedAt}}', id]);
    if (r.code !== 0) return undefined;
    const [running, finishedAt] = r.stdout.trim().split(' ');
    return running === 'true' ? { running: true } : { running: false, finishedAt: Date.parse(finishedAt) };
  }

  /** A container's log lines with Docker's timestamps ("2026-...Z line"). */
  logs(pod: string, container: string): string[] {
    const r = docker(['logs', '-t', this.containerOf(pod, container)]);
    return (r.stdout + r.stderr).split('\n').filter(Boolean);
  }

  /** Stops everything: proxies with SIGTERM (they remove their tables), the rest; then removes what is left. */
  async cleanup(): Promise<{ tablesLeft: string[] }> {
    await Promise.all([...this.nodes.values()].map((n) => n.proxy?.kill('SIGTERM')));
    await this.dns?.kill('SIGTERM');
    await Promise.all([...this.nodes.values()].map((n) => n.agent.kill('SIGKILL')));
    await this.controllerManager?.kill('SIGKILL');
    const tablesLeft = nftTables().filter((t) => [...this.nodeNames].some((n) => t === this.proxyTable(n)));
    // A proxy a test killed outright leaves its table: take it away as a restarted one would.
    await Promise.all([...this.nodeNames].map((node) => startComponent('proxy', ['--cleanup', '--node-name', node]).exited));
    for (const node of this.nodeNames) {
      const ids = docker(['ps', '-aq', '--filter', `label=peapod.node=${node}`]).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) docker(['rm', '-f', '-v', ...ids]);
      const volumes = docker(['volume', 'ls', '-q', '--filter', `label=peapod.node=${node}`]).stdout.split('\n').filter(Boolean);
      if (volumes.length > 0) docker(['volume', 'rm', '-f', ...volumes]);
    }
    docker(['network', 'rm', this.network]);
    this.client?.close();
    await this.server?.stop('SIGKILL');
    return { tablesLeft };
  }
}

/** The time Docker stamped on a `docker logs -t` line, in ms. */
export function logStamp(line: string): number {
  return Date.parse(line.slice(0, line.indexOf(' ')));
}

/**
 * A client that requests `url` in a loop, one request at a time (20 ms apart), and writes
 * one line per request, "ok BODY" or "fail ERROR", which Docker stamps with its time.
 */
export function requestLoop(name: string, url: string): Container {
  return shContainer(name, `while :; do if r=$(timeout 5 wget -q -O - ${url} 2>&1); then echo "ok $r"; else echo "fail $r"; fi; usleep 20000; done`);
}

/** When every one of `backends` had answered a requestLoop (the stamp of the line that completed the set), from its log lines; undefined until then. */
export function allAnsweredAt(lines: string[], backends: string[]): number | undefined {
  const seen = new Set<string>();
  for (const line of lines) {
    seen.add(line.split(' ')[2]);
    if (backends.every((b) => seen.has(b))) return logStamp(line);
  }
  return undefined;
}

/** A busybox container that runs `script` with sh. */
export function shContainer(name: string, script: string, extra: Partial<Container> = {}): Container {
  return { name, image: testImage, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra };
}

/**
 * A web backend: busybox httpd (in the foreground, logging each request with -vv) serving
 * its pod's name at / and, at /cgi-bin/slow, an answer that takes `slowSeconds`.
 */
export function webContainer(name = 'web', slowSeconds = 5, extra: Partial<Container> = {}): Container {
  const cgi = '/www/cgi-bin/slow';
  const script = [
    'mkdir -p /www/cgi-bin',
    'hostname > /www/index.html',
    `echo '#!/bin/sh' > ${cgi}`,
    `echo 'sleep ${slowSeconds}' >> ${cgi}`,
    `echo 'printf "Content-Type: text/plain\\r\\n\\r\\nslow %s\\n" "$(hostname)"' >> ${cgi}`,
    `chmod +x ${cgi}`,
    'exec httpd -f -vv -p 80 -h /www',
  ].join(' && ');
  return shContainer(name, script, { ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }], ...extra });
}
