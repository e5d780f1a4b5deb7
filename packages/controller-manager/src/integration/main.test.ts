// The command line: flags, their defaults, and refusals.

import { spawnSync } from 'child_process';
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
