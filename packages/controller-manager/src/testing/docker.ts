// Docker through its CLI, for the e2e tests: a network per test file labelled peapod.test=<id>,
// and the clean-up of everything the agents created for this run's nodes.

import { spawnSync } from 'child_process';

export function docker(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function dockerWorks(): boolean {
  return docker(['info', '--format', '{{.ServerVersion}}']).code === 0;
}

export function createNetwork(name: string, testId: string): void {
  const r = docker(['network', 'create', '--label', `peapod.test=${testId}`, name]);
  if (r.code !== 0) throw new Error(`docker network create ${name}: ${r.stderr}`);
}

/** IDs of the containers (running or not) carrying all these labels. */
export function containersWith(labels: string[]): string[] {
  const r = docker(['ps', '-aq', ...labels.flatMap((l) => ['--filter', `label=${l}`])]);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** The pod names of a node's containers that are still running. */
export function runningPodsOn(node: string): Set<string> {
  const r = docker(['ps', '--filter', `label=peapod.node=${node}`, '--format', '{{.Label "peapod.pod.name"}}']);
  return new Set(r.stdout.split('\n').filter((l) => l !== ''));
}

/** Removes the nodes' containers and volumes, then the test's networks. */
export function cleanUp(nodes: string[], testId: string): void {
  for (const node of nodes) {
    const ids = containersWith([`peapod.node=${node}`]);
    if (ids.length > 0) docker(['rm', '-f', '-v', ...ids]);
    const volumes = docker(['volume', 'ls', '-q', '--filter', `label=peapod.node=${node}`]).stdout.split('\n').filter((l) => l !== '');
    if (volumes.length > 0) docker(['volume', 'rm', '-f', ...volumes]);
  }
  const networks = docker(['network', 'ls', '-q', '--filter', `label=peapod.test=${testId}`]).stdout.split('\n').filter((l) => l !== '');
  if (networks.length > 0) docker(['network', 'rm', ...networks]);
}
