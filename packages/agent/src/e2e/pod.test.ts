// The pod as a shared context, pod-to-pod traffic across two agents, limits, privileged
// admission and `kubectl logs -f`: real API server, real agents, real Docker.
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Event, Pod } from '@peapod/api';
import { TestCluster, cooperative, makePod, shContainer, waitFor } from '../testing/cluster';

jest.setTimeout(60_000);

const cluster = new TestCluster('pod');
const n1 = cluster.node('n1');
const n2 = cluster.node('n2');
const strict = cluster.node('strict');

beforeAll(async () => {
  await cluster.start();
  await Promise.all([cluster.startAgent(n1), cluster.startAgent(n2), cluster.startAgent(strict, { allowPrivileged: false })]);
});

afterAll(async () => {
  await cluster.cleanup();
});

async function runningPod(name: string): Promise<Pod> {
  return waitFor(`pod ${name} Running`, async () => {
    const pod = await cluster.api.get<Pod>('pods', name);
    return pod.status?.phase === 'Running' && pod.status.containerStatuses?.every((c) => c.ready) ? pod : undefined;
  });
}

/** Retries a command in a container until it exits 0 (a server may still be starting). */
async function execOk(node: string, pod: string, container: string, script: string): Promise<string> {
  return waitFor(`${script} in ${pod}/${container}`, async () => {
    const r = await cluster.exec(node, pod, container, ['sh', '-c', script]);
    return r.code === 0 ? r.out : undefined;
  }, 10_000);
}

const server = `mkdir -p /www && echo served-by-a > /www/index.html && httpd -p 8080 -h /www && echo from-a > /shared/note && echo ipc-a > /dev/shm/token && exec sh -c "${cooperative()}"`;

describe('a two-container pod', () => {
  const name = 'duo';

  beforeAll(async () => {
    await cluster.api.create(
      'pods',
      makePod(
        name,
        n1,
        [
          shContainer('a', server, { volumeMounts: [{ name: 'shared', mountPath: '/shared' }] }),
          shContainer('b', `sleep 424242 & ${cooperative()}`, { volumeMounts: [{ name: 'shared', mountPath: '/shared' }] }),
        ],
        { shareProcessNamespace: true, volumes: [{ name: 'shared', emptyDir: {} }] },
      ),
    );
    await runningPod(name);
  });

  it('reaches the other container on localhost', async () => {
    expect((await execOk(n1, name, 'b', 'wget -qO- http://localhost:8080/index.html')).trim()).toBe('served-by-a');
  });

  it('shows the pod name as hostname in both containers', async () => {
    expect((await execOk(n1, name, 'a', 'hostname')).trim()).toBe(name);
    expect((await execOk(n1, name, 'b', 'hostname')).trim()).toBe(name);
  });

  it('shares the emptyDir volume', async () => {
    expect((await execOk(n1, name, 'b', 'cat /shared/note')).trim()).toBe('from-a');
  });

  it('shares the IPC namespace: same namespace, and /dev/shm objects seen by both', async () => {
    expect((await execOk(n1, name, 'b', 'cat /dev/shm/token')).trim()).toBe('ipc-a');
    const ipcA = await execOk(n1, name, 'a', 'readlink /proc/self/ns/ipc');
    const ipcB = await execOk(n1, name, 'b', 'readlink /proc/self/ns/ipc');
    expect(ipcA.trim()).toMatch(/^ipc:\[\d+\]$/);
    expect(ipcB).toBe(ipcA);
  });

  it('with shareProcessNamespace, one container sees the other one’s processes', async () => {
    expect(await execOk(n1, name, 'a', 'ps')).toContain('sleep 424242');
  });
});

describe('two nodes', () => {
  it('a pod on n1 reaches a pod on n2 at its podIP', async () => {
    await cluster.api.create('pods', makePod('far', n2, [shContainer('web', server.replace(' && echo from-a > /shared/note', ''))]));
    await cluster.api.create('pods', makePod('near', n1, [shContainer('client', cooperative())]));
    const far = await runningPod('far');
    await runningPod('near');
    expect(far.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(far.status?.hostIP).toBe('127.0.0.1');
    const body = await execOk(n1, 'near', 'client', `wget -qO- http://${far.status?.podIP}:8080/index.html`);
    expect(body.trim()).toBe('served-by-a');
  });
});

describe('limits', () => {
  it('puts the container limits on the containers', async () => {
    await cluster.api.create(
      'pods',
      makePod('limited', n1, [shContainer('app', cooperative(), { resources: { limits: { cpu: '250m', memory: '64Mi' } } })]),
    );
    await runningPod('limited');
    const [info] = (await cluster.podContainers(n1, 'limited')).filter((c) => c.Labels['peapod.container'] === 'app');
    const inspected = await cluster.docker.getContainer(info.Id).inspect();
    expect(inspected.HostConfig.Memory).toBe(64 * 2 ** 20);
    expect(inspected.HostConfig.NanoCpus).toBe(250_000_000);
    // And from inside: the memory cgroup (v1 or v2) carries the limit.
    const inside = await execOk(n1, 'limited', 'app', 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes');
    expect(Number(inside.trim())).toBe(64 * 2 ** 20);
  });
});

describe('privileged pods', () => {
  const privileged = (name: string, node: string): Pod =>
    makePod(name, node, [shContainer('app', cooperative(), { securityContext: { privileged: true } })]);

  it('are refused by an agent started with --allow-privileged=false: Pending, with a Warning event', async () => {
    await cluster.api.create('pods', privileged('priv-refused', strict));
    const event = await waitFor('the refusal event', async () => {
      const list = await cluster.api.list<Event>('events', { namespace: 'default', fieldSelector: 'involvedObject.name=priv-refused' });
      return list.items.find((e) => e.type === 'Warning');
    });
    expect(event.reason).toBe('FailedValidation');
    expect(event.message).toContain('Error validating pod "priv-refused"."default" from api, ignoring: spec.containers[0].securityContext.privileged: Forbidden');
    const pod = await cluster.api.get<Pod>('pods', 'priv-refused');
    expect(pod.status?.phase).toBe('Pending');
    expect(await cluster.podContainers(strict, 'priv-refused')).toEqual([]);

    const describe = await kubectl(['describe', 'pod', 'priv-refused']);
    expect(describe).toContain('FailedValidation');
    expect(describe).toContain('spec.containers[0].securityContext.privileged');
  });

  it('run on an agent that allows them', async () => {
    await cluster.api.create('pods', privileged('priv-allowed', n1));
    await runningPod('priv-allowed');
  });
});

const emptyHome = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-kubectl-home-'));
afterAll(() => fs.rmSync(emptyHome, { recursive: true, force: true }));

function kubectlEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: emptyHome, KUBECONFIG: '/nonexistent' };
}

function kubectl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn('/usr/bin/kubectl', ['--server', cluster.server?.url ?? '', ...args], { env: kubectlEnv() });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')}: ${code}: ${err}`))));
  });
}

describe('kubectl logs -f', () => {
  it('follows a container’s output as it is written', async () => {
    const counter = `trap 'exit 0' TERM; i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.3 & wait $!; done`;
    await cluster.api.create('pods', makePod('chatty', n1, [shContainer('talk', counter)]));
    await runningPod('chatty');
    const proc = spawn('/usr/bin/kubectl', ['--server', cluster.server?.url ?? '', 'logs', '-f', 'chatty', '-c', 'talk'], { env: kubectlEnv() });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    try {
      // A line written after kubectl attached proves it follows rather than dumps.
      const firstSeen = await waitFor('first lines', async () => /tick (\d+)/.exec(out)?.[1], 10_000, 50);
      const target = Number(firstSeen) + 5;
      await waitFor(`tick ${target} (stderr: ${err})`, async () => out.includes(`tick ${target}\n`), 10_000, 50);
      expect(proc.exitCode).toBeNull();
      const lines = out.trim().split('\n');
      expect(lines.slice(0, 3)).toEqual(['tick 0', 'tick 1', 'tick 2']);
    } finally {
      proc.kill('SIGKILL');
    }
    const tail = await kubectl(['logs', 'chatty', '-c', 'talk', '--tail=2']);
    expect(tail.trim().split('\n')).toHaveLength(2);
  });
});
