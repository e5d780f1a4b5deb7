// Restart policies with back-off, and an agent restart that adopts running pods and removes
// the containers of pods that no longer exist: real API server, agent, Docker.
import type { ContainerStatus, Event, Pod } from '@peapod/api';
import { TestCluster, cooperative, makePod, shContainer, sleep, waitFor } from '../testing/cluster';

jest.setTimeout(60_000);

const cluster = new TestCluster('restart');
const n1 = cluster.node('n1');

beforeAll(async () => {
  await cluster.start();
  await cluster.startAgent(n1, { backoffBase: 1 });
});

afterAll(async () => {
  await cluster.cleanup();
});

async function podWhere(name: string, what: string, check: (pod: Pod) => boolean, timeoutMs = 20_000): Promise<Pod> {
  return waitFor(`${name}: ${what}`, async () => {
    const pod = await cluster.api.get<Pod>('pods', name);
    return check(pod) ? pod : undefined;
  }, timeoutMs, 50);
}

const status = (pod: Pod, container = 'app'): ContainerStatus | undefined =>
  pod.status?.containerStatuses?.find((c) => c.name === container);

describe('restart policies', () => {
  it('Always: restarts a crashing container with growing back-off, showing CrashLoopBackOff', async () => {
    await cluster.api.create('pods', makePod('crasher', n1, [shContainer('app', 'echo crashing; exit 1')], { restartPolicy: 'Always' }));
    const looping = await podWhere('crasher', 'CrashLoopBackOff', (p) => status(p)?.state?.waiting?.reason === 'CrashLoopBackOff');
    expect(looping.status?.phase).toBe('Running');
    expect(status(looping)?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(status(looping)?.state?.waiting?.message).toMatch(/^back-off \d+(\.\d)?s restarting failed container=app pod=crasher_default/);
    const later = await podWhere('crasher', 'restartCount ≥ 3', (p) => (status(p)?.restartCount ?? 0) >= 3);
    expect(status(later)?.restartCount).toBeGreaterThanOrEqual(3);
    // Back-off base 1 s: restarts 1, 2, 3 come at about 0, 1 and 3 s — not in a tight loop.
    const created = Date.parse(later.metadata.creationTimestamp ?? '');
    expect(Date.now() - created).toBeGreaterThanOrEqual(2000);
    const events = await cluster.api.list<Event>('events', { namespace: 'default', fieldSelector: 'involvedObject.name=crasher' });
    expect(events.items.filter((e) => e.reason === 'BackOff' && e.type === 'Warning').length).toBeGreaterThan(0);
  });

  it('Never: the pod fails with the exit code', async () => {
    await cluster.api.create('pods', makePod('once', n1, [shContainer('app', 'exit 7')], { restartPolicy: 'Never' }));
    const failed = await podWhere('once', 'Failed', (p) => p.status?.phase === 'Failed');
    expect(status(failed)?.state?.terminated).toMatchObject({ exitCode: 7, reason: 'Error' });
    expect(status(failed)?.restartCount).toBe(0);
  });

  it('OnFailure: a container that exits 0 makes the pod Succeeded', async () => {
    await cluster.api.create('pods', makePod('done', n1, [shContainer('app', 'exit 0')], { restartPolicy: 'OnFailure' }));
    const succeeded = await podWhere('done', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
    expect(status(succeeded)?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(status(succeeded)?.restartCount).toBe(0);
  });
});

describe('images', () => {
  it('an image that cannot be pulled gives ErrImagePull, then ImagePullBackOff, and a Failed event', async () => {
    await cluster.api.create('pods', makePod('unpullable', n1, [shContainer('app', 'true', { image: 'peapod/no-such-image:1' })]));
    const waiting = await podWhere('unpullable', 'a pull error', (p) => /^(ErrImagePull|ImagePullBackOff)$/.test(status(p)?.state?.waiting?.reason ?? ''));
    expect(waiting.status?.phase).toBe('Pending');
    await podWhere('unpullable', 'ImagePullBackOff', (p) => status(p)?.state?.waiting?.reason === 'ImagePullBackOff');
    const events = await cluster.api.list<Event>('events', { namespace: 'default', fieldSelector: 'involvedObject.name=unpullable' });
    expect(events.items.find((e) => e.reason === 'Failed')?.message).toContain('peapod/no-such-image:1');
  });

  it('a changed image restarts the container from the new image', async () => {
    await cluster.api.create('pods', makePod('swap', n1, [shContainer('app', cooperative())]));
    const before = await podWhere('swap', 'Running', (p) => status(p)?.ready === true);
    await cluster.api.patch('pods', 'swap', { spec: { containers: [{ name: 'app', image: 'peapod/pause:latest' }] } }, 'strategic');
    const after = await podWhere('swap', 'the new image running', (p) => status(p)?.image === 'peapod/pause:latest' && status(p)?.ready === true && status(p)?.containerID !== status(before)?.containerID);
    expect(status(after)?.restartCount).toBe(1);
  });
});

describe('agent restart', () => {
  it('adopts running pods without restarting them, and removes the containers of pods that no longer exist', async () => {
    await cluster.api.create('pods', makePod('keeper', n1, [shContainer('app', cooperative())]));
    await cluster.api.create('pods', makePod('doomed', n1, [shContainer('app', cooperative())]));
    const keeper = await podWhere('keeper', 'Running', (p) => p.status?.phase === 'Running' && status(p)?.ready === true);
    await podWhere('doomed', 'Running', (p) => p.status?.phase === 'Running');
    const before = (await cluster.podContainers(n1, 'keeper')).map((c) => c.Id).sort();

    await cluster.agents.get(n1)?.kill('SIGKILL');
    // Removed from the API while no agent watches: its containers are orphans now.
    await cluster.api.delete('pods', 'doomed', { gracePeriodSeconds: 0 });
    expect((await cluster.podContainers(n1, 'doomed')).length).toBeGreaterThan(0);

    await cluster.startAgent(n1, { backoffBase: 1 });
    await waitFor('orphans removed', async () => (await cluster.podContainers(n1, 'doomed')).length === 0, 15_000);
    // Give the agent a few relists to (wrongly) touch the adopted pod.
    await sleep(1500);
    const after = await cluster.podContainers(n1, 'keeper');
    expect(after.map((c) => c.Id).sort()).toEqual(before);
    expect(after.every((c) => c.State === 'running')).toBe(true);
    const again = await cluster.api.get<Pod>('pods', 'keeper');
    expect(status(again)?.containerID).toBe(status(keeper)?.containerID);
    expect(status(again)?.restartCount).toBe(0);
    expect(again.status?.podIP).toBe(keeper.status?.podIP);
  });
});
