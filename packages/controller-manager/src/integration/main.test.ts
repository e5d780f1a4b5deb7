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
