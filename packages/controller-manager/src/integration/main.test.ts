// The command line: flags, their defaults, and refusals.

import { spawnSync } from 'child_process';
import type { Pod, ReplicationController } from '@peapod/api';
import { Client } from '@peapod/client';
import { mainJs, startApiServer } from '@peapod/client/testing';
import { startControllerManager } from '../testing/processes';

const controllerManagerMain = mainJs('controller-manager');

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [controllerManagerMain, ...args], { encoding: 'utf8', timeout: 15_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help lists the flags of the README with their defaults', () => {
  const help = run(['--help']);
  expect(help.code).toBe(0);
  for (const flag of ['--server <url>', '--token <token>', '--kubeconfig <file>']) expect(help.stdout).toContain(flag);
  expect(help.stdout).toMatch(/--node-monitor-grace-period <duration>[\s\S]*\(default: 40s\)/);
  expect(help.stdout).toMatch(/--pod-eviction-timeout <duration>[\s\S]*\(default: 5m\)/);
  expect(help.stdout).toMatch(/--node-monitor-period <duration>[\s\S]*\(default: 5s\)/);
  expect(help.stdout).toMatch(/--node-eviction-rate <nodes\/s>[\s\S]*\(default: 0.1\)/);
  expect(help.stdout).toMatch(/--secondary-node-eviction-rate <nodes\/s>[\s\S]*\(default: 0.01\)/);
  expect(help.stdout).toMatch(/--large-cluster-size-threshold <n>[\s\S]*\(default: 50\)/);
  expect(help.stdout).toMatch(/--unhealthy-zone-threshold <share>[\s\S]*\(default: 0.55\)/);
  expect(help.stdout).toMatch(/--kube-api-qps <n>[\s\S]*\(default: 20\)/);
  expect(help.stdout).toMatch(/--kube-api-burst <n>[\s\S]*\(default: 30\)/);
});

test('an eviction rate below 0 or a zone threshold above 1 is refused', () => {
  const rate = run(['--server', 'http://127.0.0.1:1', '--node-eviction-rate', '-1']);
  expect(rate.code).not.toBe(0);
  expect(rate.stderr).toContain("option '--node-eviction-rate <nodes/s>' argument '-1' is invalid. must be a number, 0 or more");
  const share = run(['--server', 'http://127.0.0.1:1', '--unhealthy-zone-threshold', '1.5']);
  expect(share.code).not.toBe(0);
  expect(share.stderr).toContain("option '--unhealthy-zone-threshold <share>' argument '1.5' is invalid. must be a number from 0 to 1");
});

test('a duration that is not Go-style is refused', () => {
  const bad = run(['--server', 'http://127.0.0.1:1', '--pod-eviction-timeout', '5 minutes']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain("option '--pod-eviction-timeout <duration>' argument '5 minutes' is invalid");
});

test('with no server and no kubeconfig it says so and exits', () => {
  const r = spawnSync(process.execPath, [controllerManagerMain], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, HOME: '/nonexistent', KUBECONFIG: '/nonexistent' } });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^peapod-controller-manager: /);
});

test('exits cleanly on SIGTERM', async () => {
  const api = await startApiServer();
  try {
    const cm = await startControllerManager(api.url, ['--node-monitor-period', '300ms']);
    expect(cm.logs()).toContain('"nodeMonitorPeriod":"300ms","nodeMonitorGracePeriod":"40s","podEvictionTimeout":"5m0s"');
    await cm.kill('SIGTERM');
    expect(cm.proc.exitCode).toBe(0);
  } finally {
    await api.stop('SIGKILL');
  }
  // Two processes start and stop: generous on a loaded machine.
}, 60_000);

test('--kube-api-qps paces its requests: a controller of six replicas gets its pods over seconds, not at once', async () => {
  const api = await startApiServer();
  const client = new Client({ server: api.url });
  const added: number[] = [];
  const watch = client.watch<Pod>('pods', { namespace: 'default' }, (e) => {
    if (e.type === 'ADDED') added.push(Date.now());
  });
  try {
    const template = { metadata: { labels: { app: 'paced' } }, spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } };
    await client.create<ReplicationController>('replicationcontrollers', { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'paced', namespace: 'default' }, spec: { replicas: 6, selector: { app: 'paced' }, template } } as ReplicationController);
    const cm = await startControllerManager(api.url, ['--kube-api-qps', '5', '--kube-api-burst', '1']);
    try {
      for (let i = 0; i < 200 && added.length < 6; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(added).toHaveLength(6);
      // Six creates at five a second, one token each (other requests may take turns between them): 1 s end to end at
      // least, where without a limit the six leave together.
      expect(added[5] - added[0]).toBeGreaterThanOrEqual(950);
    } finally {
      await cm.kill('SIGTERM');
    }
  } finally {
    watch.stop();
    client.close();
    await api.stop('SIGKILL');
  }
}, 60_000);
