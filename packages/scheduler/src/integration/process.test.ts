// The scheduler as a process: killed with SIGKILL in the middle of a burst and started
// again, it binds no pod twice and loses none; asked to stop, it exits cleanly.

import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import type { Event, Pod } from '@peapod/api';
import { parseCpuMillis } from '@peapod/api';
import { createAll, listPods, nodeManifest, podManifest, startCluster, waitFor } from '../testing/cluster';
import type { TestCluster } from '../testing/cluster';
import { mainJs } from '@peapod/client/testing';
import { startScheduler } from '../testing/processes';

jest.setTimeout(60_000);

let c: TestCluster | undefined;

afterEach(async () => {
  await c?.stop();
  c = undefined;
});

describe('killed in the middle of a burst', () => {
  it('binds no pod twice and loses none once started again', async () => {
    c = await startCluster({ withScheduler: false });
    const cluster = c;
    // 20 nodes of 3 cpu and 600 pods of 100m: exactly full, so a pod counted twice or on
    // the wrong node would leave another without room.
    const nodes = await createAll(
      c.client,
      'nodes',
      Array.from({ length: 20 }, (_, i) => nodeManifest(`node-${i}`, { cpu: '3', memory: '64Gi' })),
    );
    const total = 600;
    await createAll(c.client, 'pods', Array.from({ length: total }, (_, i) => podManifest(`pod-${i}`, { cpu: '100m' })));

    // Every nodeName each pod has had, in the order the watch showed them.
    const history = new Map<string, string[]>();
    const bound = new Set<string>();
    const rv = (await c.client.list('pods', { limit: 1 })).metadata.resourceVersion;
    const watch = c.client.watch<Pod>('pods', { namespace: 'default', resourceVersion: rv }, (event) => {
      const name = event.object.metadata.name ?? '';
      const nodeName = event.object.spec.nodeName ?? '';
      const seen = history.get(name) ?? [];
      if (seen[seen.length - 1] !== nodeName) seen.push(nodeName);
      history.set(name, seen);
      if (nodeName) bound.add(name);
    });
    try {
      // One instance killed and started again at once (election has its own test): without
      // election, which would make the second wait out the first's lease.
      const first = await c.startScheduler(['--leader-elect=false']);
      await waitFor('some pods bound', () => bound.size >= 50, 20_000, 5);
      await first.kill('SIGKILL');
      // Requests the server had already taken still land; then the count holds still.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const boundByFirst = (await listPods(c.client)).filter((p) => p.spec.nodeName).length;
      expect(boundByFirst).toBeLessThan(total);

      const second = await c.startScheduler(['--leader-elect=false']);
      await waitFor(`all ${total} pods bound`, () => bound.size === total, 30_000);
      // A clean stop waits for the events still on their way.
      expect(await second.kill('SIGTERM')).toEqual({ code: 0, signal: null });

      const pods = await listPods(cluster.client);
      expect(pods.filter((p) => !p.spec.nodeName)).toEqual([]);
      const moved = [...history].filter(([, names]) => names.filter((n) => n !== '').length > 1 || names.lastIndexOf('') > 0);
      expect(moved).toEqual([]);
      for (const node of nodes) {
        const requested = pods
          .filter((p) => p.spec.nodeName === node.metadata.name)
          .reduce((sum, p) => sum + parseCpuMillis(p.spec.containers[0].resources?.requests?.cpu ?? '0'), 0);
        expect(requested).toBeLessThanOrEqual(3000);
      }
      const events = (await cluster.client.list<Event>('events', { namespace: 'default' })).items;
      const scheduled = new Map<string, number>();
      for (const e of events.filter((e) => e.reason === 'Scheduled')) {
        scheduled.set(e.involvedObject.name ?? '', (scheduled.get(e.involvedObject.name ?? '') ?? 0) + 1);
      }
      expect([...scheduled].filter(([, n]) => n > 1)).toEqual([]);
      // Those bound by the second scheduler all got their event; only binds cut short by the kill may lack one.
      expect(scheduled.size).toBeGreaterThanOrEqual(total - boundByFirst);
      expect(events.filter((e) => e.reason === 'FailedScheduling')).toEqual([]);
    } finally {
      watch.stop();
    }
  });
});

describe('stopping', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('exits with code 0 on %s', async (signal) => {
    c = await startCluster({ withScheduler: false });
    const scheduler = await startScheduler(c.api.url);
    expect(await scheduler.kill(signal, 5000)).toEqual({ code: 0, signal: null });
  });

  it('exits with code 1 and one line of why when it has nothing to connect to', async () => {
    const run = promisify(execFile);
    const result = await run(process.execPath, [mainJs('scheduler'), '--server', 'ftp://nowhere'], { env: { ...process.env, KUBECONFIG: '/nonexistent' } }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^peapod-scheduler: .+\n$/);
  });
});

describe('the peapod-scheduler command', () => {
  const packageDir = path.resolve(__dirname, '../..');
  const binPath = path.join(packageDir, (JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['peapod-scheduler']);

  it('is an executable script with a node shebang, and so is dist/main.js', () => {
    for (const file of [binPath, mainJs('scheduler')]) {
      expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    }
    expect(fs.statSync(binPath).mode & 0o111).not.toBe(0);
  });

  it('runs directly and prints its flags', async () => {
    const { stdout } = await promisify(execFile)(binPath, ['--help']);
    expect(stdout).toContain('Usage: peapod-scheduler');
    expect(stdout).toContain('--server <url>');
    // Kubernetes' scheduler's client rate limit.
    expect(stdout).toMatch(/--kube-api-qps <n>[\s\S]*\(default: 50\)/);
    expect(stdout).toMatch(/--kube-api-burst <n>[\s\S]*\(default: 100\)/);
  });
});
