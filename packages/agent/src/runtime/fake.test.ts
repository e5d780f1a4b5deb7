import type { Container, Pod } from '@peapod/api';
import { ContainerConfigError } from './errors';
import { EXIT_ON_KILL, EXIT_ON_TERM, FAKE_EXIT_CODE, FAKE_LIVE, FAKE_READY, FAKE_RUN_SECONDS, FAKE_START_SECONDS, FAKE_TERM_SECONDS, FakeRuntime, defaultBehaviour, fakeBehaviour } from './fake';
import { deadlineAfter } from './kill-pod';
import { IpPool, defaultPodCidr, formatCidr, nthSubnet, parseCidr } from './pod-cidr';

const app: Container = { name: 'app', image: 'peapod/busybox:latest' };

function pod(uid: string, annotations: Record<string, string> = {}, containers: Container[] = [app]): Pod {
  return { metadata: { name: `p-${uid}`, namespace: 'default', uid, annotations }, spec: { containers } };
}

async function started(rt: FakeRuntime, p: Pod): Promise<string> {
  const sandbox = await rt.createSandbox(p);
  const id = await rt.createContainer(p, p.spec.containers[0], sandbox, { restartCount: 0, volumes: {} });
  await rt.startContainer(id);
  return id;
}

describe('pod CIDRs', () => {
  it('parses, masks and splits ranges', () => {
    expect(formatCidr(parseCidr('10.1.2.3/16'))).toBe('10.1.0.0/16');
    expect(formatCidr(nthSubnet(parseCidr('10.128.0.0/9'), 24, 0))).toBe('10.128.0.0/24');
    expect(formatCidr(nthSubnet(parseCidr('10.128.0.0/9'), 24, 257))).toBe('10.129.1.0/24');
    expect(() => nthSubnet(parseCidr('10.0.0.0/24'), 26, 4)).toThrow(/no subnet number 4/);
    for (const bad of ['10.0.0.0', '10.0.0/24', '300.0.0.0/8', '10.0.0.0/33', 'x/8']) expect(() => parseCidr(bad)).toThrow(/IPv4 CIDR/);
  });

  it('derives a stable /24 from a node name', () => {
    expect(defaultPodCidr('node-1')).toBe(defaultPodCidr('node-1'));
    expect(defaultPodCidr('node-1')).not.toBe(defaultPodCidr('node-2'));
    expect(defaultPodCidr('node-1')).toMatch(/^10\.(1[2-9]\d|2[0-5]\d)\.\d+\.0\/24$/);
  });

  it('hands out host addresses round-robin, never the network, gateway or broadcast, until none is left', () => {
    const pool = new IpPool('192.168.0.0/30');
    expect(pool.allocate()).toBe('192.168.0.2');
    expect(() => pool.allocate()).toThrow(/no pod IP left/);
    pool.release('192.168.0.2');
    expect(pool.allocate()).toBe('192.168.0.2');
    const big = new IpPool('10.0.0.0/24');
    const a = big.allocate();
    big.release(a);
    expect(big.allocate()).not.toBe(a);
  });
});

describe('fake behaviour from annotations', () => {
  const defaults = defaultBehaviour(1000, 0);
  it('reads each annotation over the defaults, sharing the defaults where a pod asks nothing', () => {
    expect(fakeBehaviour(pod('u'), defaults)).toEqual({ startMs: 1000, exitCode: 0, termMs: 0, ready: true, live: true });
    expect(fakeBehaviour(pod('u', { other: 'x' }), defaults)).toBe(defaults);
    const p = pod('u', { [FAKE_START_SECONDS]: '0', [FAKE_RUN_SECONDS]: '2.5', [FAKE_EXIT_CODE]: '3', [FAKE_TERM_SECONDS]: 'never', [FAKE_READY]: 'false', [FAKE_LIVE]: 'true' });
    expect(fakeBehaviour(p, defaults)).toEqual({ startMs: 0, runMs: 2500, exitCode: 3, termMs: null, ready: false, live: true });
  });

  it('refuses bad values as the container config error Kubernetes reports', () => {
    for (const [key, value] of [[FAKE_RUN_SECONDS, '-1'], [FAKE_RUN_SECONDS, ''], [FAKE_EXIT_CODE, '256'], [FAKE_EXIT_CODE, '1.5'], [FAKE_TERM_SECONDS, 'soon'], [FAKE_READY, 'no']]) {
      expect(() => fakeBehaviour(pod('u', { [key]: value }), defaults)).toThrow(ContainerConfigError);
    }
  });
});

describe('FakeRuntime', () => {
  it('runs a pod: an IP from the node range, the container running after the start delay', async () => {
    const rt = new FakeRuntime({ nodeName: 'n', podCIDR: '10.9.8.0/24', startDelayMs: 50 });
    const p = pod('u1');
    const sandbox = await rt.createSandbox(p);
    expect(sandbox.ip).toBe('10.9.8.2');
    const id = await rt.createContainer(p, app, sandbox, { restartCount: 0, volumes: {} });
    expect((await rt.inspect(id)).state).toBe('created');
    const t0 = Date.now();
    await rt.startContainer(id);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    const c = await rt.inspect(id);
    expect(c).toMatchObject({ state: 'running', podUid: 'u1', containerName: 'app', isInfra: false, image: 'peapod/busybox:latest' });
    expect(c.specHash).toHaveLength(16);
    expect(await rt.findSandbox('u1')).toMatchObject({ ip: '10.9.8.2' });
    expect((await rt.listPodContainers({ uid: 'u1' })).map((x) => x.containerName).sort()).toEqual(['POD', 'app']);
    expect(await rt.removePod('u1')).toEqual({ containers: 2, volumes: 0 });
    expect(await rt.listPodContainers()).toEqual([]);
    await expect(rt.inspect(id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('exits on its own after fake-run-seconds with the exit code, and says so to its listener', async () => {
    const rt = new FakeRuntime({ nodeName: 'n', podCIDR: '10.0.0.0/24' });
    const changed: string[] = [];
    rt.watchChanges((uid) => changed.push(uid));
    const id = await started(rt, pod('u2', { [FAKE_RUN_SECONDS]: '0.05', [FAKE_EXIT_CODE]: '7' }));
    await new Promise((r) => setTimeout(r, 150));
    expect(await rt.inspect(id)).toMatchObject({ state: 'exited', exitCode: 7 });
    expect(changed).toEqual(['u2']);
    const logs = await rt.logs(id, { timestamps: true });
    const text = (await logs.toArray()).join('');
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT[^ ]+ started\n.* exited with code 7\n$/);
  });

  it('exits after its term delay on TERM, with 143', async () => {
    const rt = new FakeRuntime({ nodeName: 'n', podCIDR: '10.0.0.0/24', termDelayMs: 50 });
    const id = await started(rt, pod('u3'));
    const result = await rt.stopContainer(id, deadlineAfter(10));
    expect(result).toMatchObject({ ended: 'exited', exitCode: EXIT_ON_TERM, signal: 'SIGTERM' });
    expect(result.durationMs).toBeGreaterThanOrEqual(45);
    expect(result.durationMs).toBeLessThan(5000);
    expect(await rt.stopContainer(id, deadlineAfter(10))).toMatchObject({ ended: 'not-running', exitCode: EXIT_ON_TERM });
  });

  it('ignores TERM when told "never": the grace period ends it with KILL (137); a shorter one later wins', async () => {
    const rt = new FakeRuntime({ nodeName: 'n', podCIDR: '10.0.0.0/24' });
    const id = await started(rt, pod('u4', { [FAKE_TERM_SECONDS]: 'never' }));
    const first = rt.stopContainer(id, deadlineAfter(30));
    await new Promise((r) => setTimeout(r, 20));
    expect((await rt.inspect(id)).state).toBe('running');
    const second = await rt.stopContainer(id, deadlineAfter(0.1));
    expect(second).toMatchObject({ ended: 'killed', exitCode: EXIT_ON_KILL });
    expect(await first).toMatchObject({ ended: 'killed', exitCode: EXIT_ON_KILL });
  });

  it('stops a whole pod through killPod: preStop hooks answered without a network, the infra container last', async () => {
    const rt = new FakeRuntime({ nodeName: 'n', podCIDR: '10.0.0.0/24' });
    const withHook: Container = { ...app, lifecycle: { preStop: { httpGet: { port: 80, path: '/quit' } } } };
    const p = pod('u5', {}, [withHook]);
    await started(rt, p);
    const report = await rt.killPod(p, deadlineAfter(5));
    expect(report.containers).toEqual([expect.objectContaining({ name: 'app', preStop: expect.objectContaining({ status: 'ok' }), stop: expect.objectContaining({ ended: 'exited' }) })]);
    expect(report.infra?.removed).toBe(true);
    expect(await rt.findSandbox('u5')).toBeUndefined();
  });

  it('answers probes from the annotations: readiness and liveness apart, an error for a container not running', async () => {
    const rt = new FakeRuntime({ nodeName: 'n', podCIDR: '10.0.0.0/24' });
    const probe = { exec: { command: ['true'] } };
    const container: Container = { ...app, readinessProbe: probe, livenessProbe: { tcpSocket: { port: 80 } } };
    const p = pod('u8', { [FAKE_READY]: 'false' }, [container]);
    const id = await started(rt, p);
    const target = { container, containerId: id, podIP: '', exec: async () => ({ exitCode: 0, timedOut: false, output: '', durationMs: 0 }) };
    expect(await rt.runProbe(container.readinessProbe!, target)).toMatchObject({ result: 'failure', output: expect.stringMatching(/fake-ready/) });
    expect(await rt.runProbe(container.livenessProbe!, target)).toEqual({ result: 'success', output: '' });
    await rt.stopContainer(id, deadlineAfter(0));
    expect(await rt.runProbe(container.livenessProbe!, target)).toMatchObject({ result: 'error' });
  });

  it('keeps a pod its IP when its sandbox is made again, and frees it with the pod', async () => {
    const rt = new FakeRuntime({ nodeName: 'n', podCIDR: '10.0.0.0/24' });
    const p = pod('u6');
    const first = await rt.createSandbox(p);
    await rt.stopContainer(first.id, deadlineAfter(0));
    expect(await rt.findSandbox('u6')).toBeUndefined();
    expect((await rt.createSandbox(p)).ip).toBe(first.ip);
    await rt.removePod('u6');
    expect((await rt.createSandbox(pod('u7'))).ip).not.toBe(first.ip);
  });
});
