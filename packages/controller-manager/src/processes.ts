// Real peapod processes on free loopback ports, and fake nodes that heartbeat through the
// API: what the benchmark and the integration tests run the controller manager against.

import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Node, Pod } from '@peapod/api';
import { ApiError, Informer, createLogger } from '@peapod/client';
import type { Client } from '@peapod/client';

const packagesDir = path.resolve(__dirname, '../..');
export const apiserverMain = path.join(packagesDir, 'apiserver/dist/main.js');
export const schedulerMain = path.join(packagesDir, 'scheduler/dist/main.js');
export const controllerManagerMain = path.join(packagesDir, 'controller-manager/dist/main.js');
export const agentMain = path.join(packagesDir, 'agent/dist/main.js');

export interface RunningProcess {
  proc: ChildProcess;
  /** stderr so far */
  logs(): string;
  exited(): boolean;
  /** Sends the signal and waits for the exit (SIGKILL after 10 s of waiting). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node script args`; resolves once `ready` matches its stderr (at once when not given). */
export async function startNodeProcess(script: string, args: string[], ready?: RegExp, timeoutMs = 15_000): Promise<RunningProcess & { match?: RegExpExecArray }> {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = (): boolean => proc.exitCode !== null || proc.signalCode !== null;
  const handle: RunningProcess = {
    proc,
    logs: () => stderr,
    exited,
    kill(signal = 'SIGTERM') {
      if (exited()) return Promise.resolve();
      return new Promise((resolve) => {
        const force = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        proc.kill(signal);
      });
    },
  };
  if (ready === undefined) return handle;
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${path.basename(script)} did not start: ${stderr}`));
    }, timeoutMs);
    const check = (): void => {
      const m = ready.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    proc.stderr!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(script)} exited with ${code}: ${stderr}`));
    });
  });
  return { ...handle, match };
}

export interface RunningApiServer extends RunningProcess {
  url: string;
  dataDir: string;
}

/** The real API server with its data in a fresh temporary directory (removed on kill). */
export async function startApiServer(): Promise<RunningApiServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-cm-api-'));
  const p = await startNodeProcess(
    apiserverMain,
    ['--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir],
    /"address":"(http:\/\/127\.0\.0\.1:\d+)"/,
  );
  return {
    ...p,
    url: p.match![1],
    dataDir,
    async kill(signal) {
      await p.kill(signal);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function startScheduler(server: string): Promise<RunningProcess> {
  return startNodeProcess(schedulerMain, ['--server', server]);
}

/** Our own main.js; resolves once its informers have synced. */
export function startControllerManager(server: string, args: string[] = []): Promise<RunningProcess> {
  return startNodeProcess(controllerManagerMain, ['--server', server, '--log-level', 'info', ...args], /"msg":"started"/);
}

export interface FakeNodeOptions {
  pods?: number;
  cpu?: string;
  memory?: string;
  /** How often the fake agent posts its heartbeat. */
  heartbeatMs?: number;
}

function timestamp(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Node objects with a pretend agent behind them: created Ready, they heartbeat through the
 * status subresource until stopped, as a dead agent would. With `runPods`, the pretend agent
 * of a live node also reports its bound pods Running and Ready at once, and finishes their
 * graceful deletion at once (as an agent whose containers stop quickly).
 */
export class FakeNodes {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly pods: Informer<Pod> | undefined;

  constructor(
    private readonly client: Client,
    opts: { runPods?: boolean } = {},
  ) {
    if (opts.runPods) {
      this.pods = new Informer<Pod>(client, 'pods', { logger: createLogger('fake-nodes', { level: 'error' }) });
      const act = (pod: Pod): void => void this.actOn(pod).catch(() => undefined);
      this.pods.on('add', act).on('update', (_old, pod) => act(pod));
      this.pods.start();
    }
  }

  private async actOn(pod: Pod): Promise<void> {
    const node = pod.spec.nodeName;
    if (node === undefined || !this.timers.has(node)) return;
    const ns = pod.metadata.namespace;
    if (pod.metadata.deletionTimestamp !== undefined) {
      await this.client.delete('pods', pod.metadata.name ?? '', { namespace: ns, gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      return;
    }
    if (pod.status?.phase === 'Running') return;
    const now = timestamp();
    const conditions = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True' as const, lastTransitionTime: now }));
    await this.client.updateStatus<Pod>('pods', { ...pod, status: { ...pod.status, phase: 'Running', startTime: now, hostIP: '127.0.0.1', conditions } });
  }

  async add(name: string, opts: FakeNodeOptions = {}): Promise<Node> {
    const allocatable = { cpu: opts.cpu ?? '64', memory: opts.memory ?? '256Gi', pods: String(opts.pods ?? 110) };
    const node = await this.client.create<Node>('nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      spec: {},
    });
    const now = timestamp();
    node.status = {
      capacity: allocatable,
      allocatable,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake node', lastHeartbeatTime: now, lastTransitionTime: now }],
    };
    const ready = await this.client.updateStatus<Node>('nodes', node);
    this.timers.set(
      name,
      setInterval(() => void this.heartbeat(name).catch(() => undefined), opts.heartbeatMs ?? 1000),
    );
    return ready;
  }

  /** Posts Ready=True with a fresh heartbeat (what an agent does every few seconds). */
  async heartbeat(name: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const node = await this.client.get<Node>('nodes', name);
      const now = timestamp();
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      const transition = ready?.status === 'True' ? ready.lastTransitionTime : now;
      node.status = {
        ...node.status,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake node', lastHeartbeatTime: now, lastTransitionTime: transition }],
      };
      try {
        await this.client.updateStatus('nodes', node);
        return;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      }
    }
  }

  /** The node's agent dies: no more heartbeats. */
  stopHeartbeat(name: string): void {
    clearInterval(this.timers.get(name));
    this.timers.delete(name);
  }

  /** The agent comes back. */
  resumeHeartbeat(name: string, heartbeatMs = 1000): void {
    this.stopHeartbeat(name);
    void this.heartbeat(name).catch(() => undefined);
    this.timers.set(
      name,
      setInterval(() => void this.heartbeat(name).catch(() => undefined), heartbeatMs),
    );
  }

  stopAll(): void {
    for (const name of [...this.timers.keys()]) this.stopHeartbeat(name);
    this.pods?.stop();
  }
}
