// Graceful termination (docs/architecture.md, a pod's path, step 12) end to end: real API server, agent, Docker.
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Event, Pod } from '@peapod/api';
import { ApiError } from '@peapod/client';
import { TestCluster, cooperative, makePod, shContainer, sleep, stubborn, waitFor } from '../testing/cluster';

jest.setTimeout(60_000);

const cluster = new TestCluster('term');
const n1 = cluster.node('n1');
const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-term-'));
fs.chmodSync(hostDir, 0o777);

beforeAll(async () => {
  await cluster.start();
  await cluster.startAgent(n1);
});

afterAll(async () => {
  await cluster.cleanup();
  fs.rmSync(hostDir, { recursive: true, force: true });
});

async function runningPod(name: string): Promise<Pod> {
  return waitFor(`pod ${name} Running`, async () => {
    const pod = await cluster.api.get<Pod>('pods', name);
    return pod.status?.phase === 'Running' && pod.status.containerStatuses?.every((c) => c.ready) ? pod : undefined;
  });
}

async function goneFromApi(name: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    `pod ${name} gone from the API`,
    async () => {
      try {
        await cluster.api.get('pods', name);
        return false;
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return true;
        throw err;
      }
    },
    timeoutMs,
    25,
  );
}

async function noContainers(name: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(`containers of ${name} removed`, async () => (await cluster.podContainers(n1, name)).length === 0, timeoutMs, 25);
}

describe('graceful termination', () => {
  it('a container that exits on TERM is gone, and its pod removed, long before the grace period ends', async () => {
    await cluster.api.create('pods', makePod('quick', n1, [shContainer('app', cooperative())], { terminationGracePeriodSeconds: 30 }));
    await runningPod('quick');
    const start = Date.now();
    await cluster.api.delete('pods', 'quick', { gracePeriodSeconds: 30 });
    await goneFromApi('quick');
    const elapsed = Date.now() - start;
    expect(elapsed).toBeLessThan(5000);
    await noContainers('quick');
    const events = await cluster.api.list<Event>('events', { namespace: 'default', fieldSelector: 'involvedObject.name=quick' });
    expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['Pulled', 'Created', 'Started', 'Killing']));
  });

  it('a container that ignores TERM is killed when the grace period ends', async () => {
    const grace = 3;
    await cluster.api.create('pods', makePod('stubborn', n1, [shContainer('app', stubborn)]));
    await runningPod('stubborn');
    const start = Date.now();
    await cluster.api.delete('pods', 'stubborn', { gracePeriodSeconds: grace });
    // Still running well into the grace period...
    await sleep(grace * 1000 - 700);
    expect((await cluster.podContainers(n1, 'stubborn')).some((c) => c.State === 'running' && c.Labels['peapod.container'] === 'app')).toBe(true);
    // ...and gone, with its pod, within a second of its end.
    await goneFromApi('stubborn');
    const elapsed = Date.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(grace * 1000);
    expect(elapsed).toBeLessThan(grace * 1000 + 1000);
  });

  it('runs preStop hooks (exec and httpGet) before TERM', async () => {
    const mount = [{ name: 'out', mountPath: '/out' }];
    const execHooked = shContainer('exec-hooked', cooperative('echo term >> /out/exec.log; exit 0'), {
      volumeMounts: mount,
      lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /out/exec.log'] } } },
    });
    // A one-request-at-a-time HTTP responder that records each request line before TERM arrives.
    const server = `trap 'echo term >> /out/http.log; exit 0' TERM; while :; do printf 'HTTP/1.0 200 OK\\r\\n\\r\\n' | nc -l -p 8080 | head -1 >> /out/http.log & wait $!; done`;
    const httpHooked = shContainer('http-hooked', server, {
      volumeMounts: mount,
      ports: [{ name: 'hook', containerPort: 8080 }],
      lifecycle: { preStop: { httpGet: { path: '/prestop', port: 'hook' } } },
    });
    await cluster.api.create(
      'pods',
      makePod('hooked', n1, [execHooked, httpHooked], { volumes: [{ name: 'out', hostPath: { path: hostDir } }] }),
    );
    await runningPod('hooked');
    await cluster.api.delete('pods', 'hooked', { gracePeriodSeconds: 10 });
    await goneFromApi('hooked');
    expect(fs.readFileSync(path.join(hostDir, 'exec.log'), 'utf8')).toBe('prestop\nterm\n');
    const http = fs.readFileSync(path.join(hostDir, 'http.log'), 'utf8').split('\n').filter(Boolean);
    expect(http[0]).toMatch(/^GET \/prestop HTTP/);
    expect(http[http.length - 1]).toBe('term');
  });

  it('records the termination on the pod step by step, in order, each with its time; Ready=False before anything stops', async () => {
    const app = shContainer('app', stubborn, { lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } } } });
    await cluster.api.create('pods', makePod('timeline', n1, [app]));
    const uid = (await runningPod('timeline')).metadata.uid;
    await cluster.api.delete('pods', 'timeline', { gracePeriodSeconds: 3 });
    const outOfService = await waitFor(
      'Ready=False on the terminating pod',
      async () => {
        const pod = await cluster.api.get<Pod>('pods', 'timeline');
        return pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False') ? pod : undefined;
      },
      5000,
      25,
    );
    expect(outOfService.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'PodTerminating' });
    // The preStop hook alone takes a second: the container still runs.
    expect((await cluster.podContainers(n1, 'timeline')).some((c) => c.State === 'running' && c.Labels['peapod.container'] === 'app')).toBe(true);
    await goneFromApi('timeline');

    const list = await cluster.api.list<Event>('events', { namespace: 'default', fieldSelector: `involvedObject.uid=${uid}` });
    const timeline = list.items.filter((e) => e.eventTime).sort((a, b) => Date.parse(a.eventTime ?? '') - Date.parse(b.eventTime ?? ''));
    expect(timeline.map((e) => e.reason)).toEqual([
      'Killing',
      'PreStopHookStarted',
      'PreStopHookFinished',
      'SentStopSignal',
      'SentKillSignal',
      'ContainerStopped',
      'ContainersGone',
    ]);
    // Written in that order too, so a watcher sees them as they happened.
    const written = [...timeline].sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
    expect(written.map((e) => e.reason)).toEqual(timeline.map((e) => e.reason));
    const at = (reason: string): number => Date.parse(timeline.find((e) => e.reason === reason)?.eventTime ?? '');
    expect(at('PreStopHookFinished') - at('PreStopHookStarted')).toBeGreaterThanOrEqual(900);
    // KILL at the end of the 3 s grace period, which the 1 s hook had partly used.
    expect(at('SentKillSignal') - at('Killing')).toBeGreaterThanOrEqual(2500);
    expect(at('SentKillSignal') - at('SentStopSignal')).toBeGreaterThanOrEqual(1000);
    const message = (reason: string): string | undefined => timeline.find((e) => e.reason === reason)?.message;
    expect(message('Killing')).toBe('Stopping container app');
    expect(message('PreStopHookFinished')).toMatch(/^PreStop hook of container app finished in 1(\.\d)?s$/);
    expect(message('SentStopSignal')).toBe('Sent SIGTERM to container app');
    expect(message('ContainerStopped')).toMatch(/^Container app was killed \(exit code 137\), \d+(\.\d)?s after SIGTERM$/);
    expect(message('ContainersGone')).toMatch(/^All containers of the pod are gone, \d+(\.\d)?s after termination began \(grace period 3s\)$/);
    expect(timeline.find((e) => e.reason === 'SentKillSignal')?.type).toBe('Warning');
  });

  it('readiness is still probed during the grace period: ContainersReady and the container\'s ready follow it, Ready stays False', async () => {
    const app = shContainer('app', `mkdir -p /tmp && touch /tmp/ready; ${stubborn}`, {
      // A docker exec slowed by a loaded machine is not a failure: only a missing file is.
      readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, timeoutSeconds: 5, failureThreshold: 1 },
    });
    await cluster.api.create('pods', makePod('draining', n1, [app], { terminationGracePeriodSeconds: 30 }));
    await runningPod('draining');
    await cluster.api.delete('pods', 'draining');
    const condition = (pod: Pod, type: string): string | undefined => pod.status?.conditions?.find((c) => c.type === type)?.status;
    const marked = await waitFor('Ready=False on the terminating pod', async () => {
      const pod = await cluster.api.get<Pod>('pods', 'draining');
      return condition(pod, 'Ready') === 'False' ? pod : undefined;
    });
    expect(condition(marked, 'ContainersReady')).toBe('True');
    const r = await cluster.exec(n1, 'draining', 'app', ['rm', '/tmp/ready']);
    expect(r.code).toBe(0);
    const unready = await waitFor('ContainersReady=False while it terminates', async () => {
      const pod = await cluster.api.get<Pod>('pods', 'draining');
      return condition(pod, 'ContainersReady') === 'False' ? pod : undefined;
    });
    expect(unready.status?.containerStatuses?.[0]).toMatchObject({ ready: false, state: { running: {} } });
    expect(condition(unready, 'Ready')).toBe('False');
    await cluster.api.delete('pods', 'draining', { gracePeriodSeconds: 0 });
    await goneFromApi('draining');
  });

  it('grace 0: the pod leaves the API at once and its containers are gone within about 2 s', async () => {
    await cluster.api.create('pods', makePod('forced', n1, [shContainer('app', stubborn)], { terminationGracePeriodSeconds: 30 }));
    await runningPod('forced');
    const start = Date.now();
    await cluster.api.delete('pods', 'forced', { gracePeriodSeconds: 0 });
    await goneFromApi('forced', 1000);
    await waitFor('no running container of forced', async () => (await cluster.podContainers(n1, 'forced')).every((c) => c.State !== 'running'), 10_000, 25);
    const stopped = Date.now() - start;
    expect(stopped).toBeGreaterThanOrEqual(1500);
    expect(stopped).toBeLessThan(3000);
    // Removing them is Docker's own work after that.
    await noContainers('forced');
  });

  it('an agent killed with SIGKILL mid-termination finishes the termination when restarted, with the full grace', async () => {
    const grace = 4;
    await cluster.api.create('pods', makePod('interrupted', n1, [shContainer('app', stubborn)]));
    await runningPod('interrupted');
    await cluster.api.delete('pods', 'interrupted', { gracePeriodSeconds: grace });
    await sleep(1000);
    await cluster.agents.get(n1)?.kill('SIGKILL');
    // With no agent nothing ends the pod, even past its grace period.
    await sleep(grace * 1000);
    expect((await cluster.api.get<Pod>('pods', 'interrupted')).metadata.deletionTimestamp).toBeDefined();
    const restarted = Date.now();
    await cluster.startAgent(n1);
    await goneFromApi('interrupted');
    await noContainers('interrupted');
    expect(Date.now() - restarted).toBeGreaterThanOrEqual(grace * 1000 - 500);
  });
});
