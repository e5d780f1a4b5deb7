import path from 'path';
import type { Node, Pod } from '@peapod/api';
import { run, runOk } from './process';
import type { RunResult } from './process';

export const repoRoot = path.resolve(__dirname, '../../..');
export const scriptsDir = path.join(repoRoot, 'scripts');
export const peactlMain = path.join(repoRoot, 'packages/cli/dist/main.js');
export const kubectlPath = process.env.KUBECTL ?? '/usr/bin/kubectl';
export const testImage = 'peapod/busybox:latest';

export { freePort } from '@peapod/client/testing';

/** A short id that keeps this run's Docker objects apart from any other's. */
export function runId(): string {
  return `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`;
}

export function peactl(kubeconfig: string, args: string[]): Promise<string> {
  return runOk(process.execPath, [peactlMain, '--kubeconfig', kubeconfig, ...args]);
}

/** peactl that may fail, e.g. to see a NotFound, or to run in the background. */
export function peactlRun(kubeconfig: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return run(process.execPath, [peactlMain, '--kubeconfig', kubeconfig, ...args], { timeoutMs });
}

export function kubectl(kubeconfig: string, args: string[]): Promise<string> {
  return runOk(kubectlPath, ['--kubeconfig', kubeconfig, ...args]);
}

export async function assertDocker(): Promise<void> {
  const r = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 }).catch((err: Error) => ({
    code: -1,
    stdout: '',
    stderr: err.message,
  }));
  if (r.code !== 0) {
    throw new Error(`e2e tests need a running Docker engine (bash scripts/install-docker.sh): ${r.stderr.trim()}`);
  }
}

export async function ensureTestImages(): Promise<void> {
  await runOk('bash', [path.join(scriptsDir, 'build-images.sh'), 'pause', 'busybox'], { timeoutMs: 120_000 });
}

/** Removes the pod containers and volumes the given nodes' agents left in Docker. */
export async function cleanupPods(nodes: string[]): Promise<string> {
  const args = nodes.flatMap((n) => ['--node', n]);
  return (await runOk('bash', [path.join(scriptsDir, 'cleanup-pods.sh'), ...args], { timeoutMs: 120_000 })).trim();
}

/** IDs of the containers (running or not) that Peapod agents made on the node (for one pod if named). */
export async function podContainers(node: string, pod?: string): Promise<string[]> {
  const filters = ['--filter', 'label=peapod.managed=true', '--filter', `label=peapod.node=${node}`];
  if (pod !== undefined) filters.push('--filter', `label=peapod.pod.name=${pod}`);
  const out = await runOk('docker', ['ps', '-aq', ...filters]);
  return out.split('\n').filter(Boolean);
}

export function nodeReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function podRunning(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp;
}

/** The rows of a `get` table (no headers), split on runs of spaces. */
export function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => line.split(/\s+/));
}
