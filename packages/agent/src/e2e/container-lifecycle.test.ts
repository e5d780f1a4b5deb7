// Probes, postStart hooks and init containers end to end: real API server, agent, Docker.
// Periods are 1 s so each case takes seconds; every wait is on a condition, generously bounded.
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { ContainerStatus, Event, Pod, WatchEvent } from '@peapod/api';
import { TestCluster, cooperative, makePod, shContainer, waitFor } from '../testing/cluster';

jest.setTimeout(90_000);

const cluster = new TestCluster('lifecycle');
const n1 = cluster.node('n1');
const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-lifecycle-'));
fs.chmodSync(hostDir, 0o777);
const kubectl = process.env.KUBECTL ?? '/usr/bin/kubectl';

beforeAll(async () => {
  await cluster.start();
  await cluster.startAgent(n1, { backoffBase: 1 });
});

afterAll(async () => {
  await cluster.cleanup();
  fs.rmSync(hostDir, { recursive: true, force: true });
});

async function podWhere(name: string, what: string, check: (pod: Pod) => boolean, timeoutMs = 30_000): Promise<Pod> {
  return waitFor(`${name}: ${what}`, async () => {
    const pod = await cluster.api.get<Pod>('pods', name);
    return check(pod) ? pod : undefined;
  }, timeoutMs, 50);
}

const status = (pod: Pod, container = 'app'): ContainerStatus | undefined => pod.status?.containerStatuses?.find((c) => c.name === container);
const condition = (pod: Pod, type: string): string | undefined => pod.status?.conditions?.find((c) => c.type === type)?.status;

async function events(pod: string): Promise<Event[]> {
  const list = await cluster.api.list<Event>('events', { namespace: 'default', fieldSelector: `involvedObject.name=${pod}` });
  return list.items.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
}

async function sh(pod: string, script: string, container = 'app'): Promise<void> {
  const r = await cluster.exec(n1, pod, container, ['sh', '-c', script]);
  if (r.code !== 0) throw new Error(`${script} in ${pod}: exit ${r.code}: ${r.out}`);
}

describe('probes', () => {
  it('a readiness probe decides Ready, ContainersReady and the container\'s ready, both ways', async () => {
    // The test image is FROM scratch: no /tmp until the container makes one.
    const app = shContainer('app', `mkdir -p /tmp; ${cooperative()}`, {
      readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 2 },
    });
    await cluster.api.create('pods', makePod('flip', n1, [app]));
    const unready = await podWhere('flip', 'Running, not ready', (p) => p.status?.phase === 'Running' && status(p)?.started === true);
    expect(status(unready)?.ready).toBe(false);
    expect(condition(unready, 'Ready')).toBe('False');
    expect(condition(unready, 'ContainersReady')).toBe('False');

    await sh('flip', 'touch /tmp/ready');
    const ready = await podWhere('flip', 'Ready', (p) => condition(p, 'Ready') === 'True');
    expect(status(ready)?.ready).toBe(true);
    expect(condition(ready, 'ContainersReady')).toBe('True');

    await sh('flip', 'rm /tmp/ready');
    const again = await podWhere('flip', 'not Ready again', (p) => condition(p, 'Ready') === 'False');
    expect(status(again)?.ready).toBe(false);
    expect(status(again)?.restartCount).toBe(0);
    const unhealthy = (await events('flip')).filter((e) => e.reason === 'Unhealthy');
    expect(unhealthy.length).toBeGreaterThan(0);
    expect(unhealthy[0]).toMatchObject({ type: 'Warning', message: 'Readiness probe failed: ' });
  });

  it('httpGet and tcpSocket probes reach the pod IP from the agent', async () => {
    const server = shContainer('app', `mkdir -p /www && httpd -p 8080 -h /www && exec sh -c "${cooperative()}"`, {
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
      livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
    });
    await cluster.api.create('pods', makePod('web', n1, [server]));
    await podWhere('web', 'Running, not ready (404)', (p) => p.status?.phase === 'Running' && status(p)?.started === true);
    await waitFor('a failed httpGet probe event', async () => (await events('web')).find((e) => e.message === 'Readiness probe failed: HTTP probe failed with statuscode: 404'));
    await sh('web', 'echo ok > /www/healthz');
    const ready = await podWhere('web', 'Ready', (p) => condition(p, 'Ready') === 'True');
    expect(status(ready)?.restartCount).toBe(0);
  });

  it('a failed liveness probe restarts the container: Unhealthy, then Killing, worded as Kubernetes words them', async () => {
    const app = shContainer('app', `mkdir -p /tmp; touch /tmp/alive; ${cooperative()}`, {
      livenessProbe: { exec: { command: ['test', '-f', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 2 },
    });
    await cluster.api.create('pods', makePod('undead', n1, [app]));
    const first = await podWhere('undead', 'Ready', (p) => condition(p, 'Ready') === 'True');
    await sh('undead', 'rm /tmp/alive');
    const restarted = await podWhere('undead', 'restarted and ready', (p) => status(p)?.restartCount === 1 && status(p)?.ready === true);
    expect(status(restarted)?.containerID).not.toBe(status(first)?.containerID);
    expect(status(restarted)?.lastState?.terminated).toBeDefined();
    const list = await events('undead');
    const unhealthy = list.findIndex((e) => e.reason === 'Unhealthy');
    const killing = list.findIndex((e) => e.reason === 'Killing');
    expect(list[unhealthy]).toMatchObject({ type: 'Warning', message: 'Liveness probe failed: ' });
    expect(list[killing]).toMatchObject({ type: 'Normal', message: 'Container app failed liveness probe, will be restarted' });
    expect(unhealthy).toBeLessThan(killing);
    expect(list.slice(killing).map((e) => e.reason)).toEqual(expect.arrayContaining(['Created', 'Started']));
  });
});

describe('postStart hooks', () => {
  it('the container counts as started (and running) only once its postStart hook has finished', async () => {
    const marker = path.join(hostDir, 'poststart');
    const app = shContainer('app', cooperative(), {
      volumeMounts: [{ name: 'out', mountPath: '/out' }],
      lifecycle: { postStart: { exec: { command: ['sh', '-c', 'sleep 2; touch /out/poststart'] } } },
    });
    const seen: string[] = [];
    const watch = cluster.api.watch<Pod>('pods', { namespace: 'default', fieldSelector: 'metadata.name=hooked' }, (event: WatchEvent<Pod>) => {
      if (event.type === 'BOOKMARK') return;
      const s = status(event.object);
      if (s?.started || s?.state?.running) seen.push(fs.existsSync(marker) ? 'started after the hook' : 'started before the hook');
    });
    try {
      await cluster.api.create('pods', makePod('hooked', n1, [app], { volumes: [{ name: 'out', hostPath: { path: hostDir } }] }));
      await podWhere('hooked', 'started', (p) => status(p)?.started === true && status(p)?.ready === true);
      await waitFor('the watch to see it', async () => seen.length > 0);
    } finally {
      watch.stop();
    }
    expect(seen.every((s) => s === 'started after the hook')).toBe(true);
  });

  it('a failing postStart hook kills the container (FailedPostStartHook), which restarts', async () => {
    const app = shContainer('app', cooperative(), { lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo no; exit 3'] } } } });
    await cluster.api.create('pods', makePod('badhook', n1, [app]));
    await podWhere('badhook', 'restarted', (p) => (status(p)?.restartCount ?? 0) >= 1);
    const list = await events('badhook');
    const failed = list.find((e) => e.reason === 'FailedPostStartHook');
    expect(failed?.type).toBe('Warning');
    expect(failed?.message).toMatch(/^Exec lifecycle hook \(\[sh -c echo no; exit 3\]\) for Container "app" in Pod "badhook_default\(.+\)" failed - error: /);
    expect(list.find((e) => e.reason === 'Killing')?.message).toBe('FailedPostStartHook');
  });
});

describe('init containers', () => {
  function kubectlGetPod(name: string): string {
    const r = spawnSync(kubectl, ['--server', cluster.server?.url ?? '', 'get', 'pod', name, '--no-headers'], { encoding: 'utf8', timeout: 20_000 });
    return r.stdout;
  }

  it('run in order, each to success, before any app container; kubectl shows Init:N/M', async () => {
    const mount = [{ name: 'work', mountPath: '/work' }];
    const pod = makePod('seq', n1, [shContainer('app', `echo app >> /work/order; ${cooperative()}`, { volumeMounts: mount })], {
      volumes: [{ name: 'work', emptyDir: {} }],
      initContainers: [
        shContainer('first', 'sleep 2; echo first >> /work/order', { volumeMounts: mount }),
        shContainer('second', 'sleep 1; echo second >> /work/order', { volumeMounts: mount }),
      ],
    });
    await cluster.api.create('pods', pod);
    const initializing = await podWhere('seq', 'first init running', (p) => p.status?.initContainerStatuses?.[0]?.state?.running !== undefined);
    expect(initializing.status?.phase).toBe('Pending');
    expect(condition(initializing, 'Initialized')).toBe('False');
    expect(status(initializing)?.state?.waiting?.reason).toBe('PodInitializing');
    if (fs.existsSync(kubectl)) expect(kubectlGetPod('seq')).toMatch(/^seq\s+0\/1\s+Init:0\/2\s+0\s+/);
    await podWhere('seq', 'second init running', (p) => p.status?.initContainerStatuses?.[1]?.state?.running !== undefined);
    if (fs.existsSync(kubectl)) expect(kubectlGetPod('seq')).toMatch(/^seq\s+0\/1\s+Init:1\/2\s+0\s+/);
    const running = await podWhere('seq', 'Running', (p) => status(p)?.ready === true);
    expect(condition(running, 'Initialized')).toBe('True');
    expect(running.status?.initContainerStatuses?.map((s) => [s.name, s.state?.terminated?.reason, s.ready])).toEqual([
      ['first', 'Completed', true],
      ['second', 'Completed', true],
    ]);
    const order = await cluster.exec(n1, 'seq', 'app', ['cat', '/work/order']);
    expect(order.out).toBe('first\nsecond\napp\n');
    if (fs.existsSync(kubectl)) expect(kubectlGetPod('seq')).toMatch(/^seq\s+1\/1\s+Running\s+0\s+/);
  });

  it('a failing init container is retried with back-off (Init:CrashLoopBackOff) and the app never starts', async () => {
    const pod = makePod('stuck', n1, [shContainer('app', cooperative())], { initContainers: [shContainer('setup', 'exit 1')] });
    await cluster.api.create('pods', pod);
    const looping = await podWhere('stuck', 'Init:CrashLoopBackOff', (p) => p.status?.initContainerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff');
    expect(looping.status?.phase).toBe('Pending');
    expect(looping.status?.initContainerStatuses?.[0].lastState?.terminated?.exitCode).toBe(1);
    expect(status(looping)?.state?.waiting?.reason).toBe('PodInitializing');
    if (fs.existsSync(kubectl)) expect(kubectlGetPod('stuck')).toMatch(/^stuck\s+0\/1\s+Init:CrashLoopBackOff\s+\d+/);
    const apps = (await cluster.podContainers(n1, 'stuck')).filter((c) => c.Labels['peapod.container'] === 'app');
    expect(apps).toEqual([]);
  });

  it('under restartPolicy Never a failed init container fails the pod (Init:Error)', async () => {
    const pod = makePod('doomed', n1, [shContainer('app', cooperative())], { restartPolicy: 'Never', initContainers: [shContainer('setup', 'exit 2')] });
    await cluster.api.create('pods', pod);
    const failed = await podWhere('doomed', 'Failed', (p) => p.status?.phase === 'Failed');
    expect(failed.status?.initContainerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    if (fs.existsSync(kubectl)) expect(kubectlGetPod('doomed')).toMatch(/^doomed\s+0\/1\s+Init:Error\s+0\s+/);
  });
});
