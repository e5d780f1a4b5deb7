import type { Node, NodeStatus } from '@peapod/api';
import { ApiError, ConnectionError } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { NodeStatusManager, statusChanged } from './node-status';
import type { NodeStatusOptions } from './node-status';

const status = (heartbeat: string, ready: 'True' | 'False' | 'Unknown' = 'True'): NodeStatus => ({
  capacity: { cpu: '2', memory: '4Gi', pods: '110' },
  conditions: [{ type: 'Ready', status: ready, reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: heartbeat, lastTransitionTime: '2024-01-01T00:00:00Z' }],
  addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
});

test('a status that differs only in its heartbeat times is unchanged; anything else is a change', () => {
  expect(statusChanged(status('2024-01-01T00:00:00Z'), status('2024-01-01T00:04:50Z'))).toBe(false);
  // The node lifecycle controller marked the node Unknown: the agent must post again.
  expect(statusChanged(status('2024-01-01T00:00:00Z', 'Unknown'), status('2024-01-01T00:00:10Z'))).toBe(true);
  expect(statusChanged({ ...status('x'), capacity: { cpu: '4', memory: '4Gi', pods: '110' } }, status('x'))).toBe(true);
  expect(statusChanged(undefined, status('x'))).toBe(true);
});

test('fields the agent does not post, written by others, are no change', () => {
  const onServer = { ...status('2024-01-01T00:00:00Z'), phase: 'Running' } as NodeStatus;
  const reordered = JSON.parse(JSON.stringify(status('2024-01-01T00:00:10Z'), ['conditions', 'type', 'status', 'reason', 'message', 'lastTransitionTime', 'lastHeartbeatTime', 'addresses', 'address', 'capacity', 'pods', 'memory', 'cpu'])) as NodeStatus;
  expect(statusChanged(onServer, reordered)).toBe(false);
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
const reportMs = 300_000;
const updateMs = 10_000;

function newManager(client: Partial<Client>, opts: Partial<NodeStatusOptions> = {}): NodeStatusManager {
  return new NodeStatusManager({
    client: client as Client,
    log: quiet,
    nodeName: 'n1',
    address: '10.0.0.1',
    port: 10250,
    cpu: '2',
    memory: '4Gi',
    statusUpdateIntervalMs: updateMs,
    statusReportIntervalMs: reportMs,
    current: () => undefined,
    runtimeVersion: async () => 'fake://1',
    runtimeHealthy: async () => true,
    ...opts,
  });
}

beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] }));
afterEach(() => jest.useRealTimers());

describe('the periodic report', () => {
  /** A manager whose server copy is whatever it last posted, so only the clock makes it post. */
  function manager(random: (() => number) | undefined): { status: NodeStatusManager; posts: () => number } {
    let onServer: Node | undefined;
    let posts = 0;
    const client = {
      create: async <T,>(_resource: string, node: T) => node,
      patch: async (_resource: string, name: string, body: { status: NodeStatus }) => {
        posts++;
        onServer = { apiVersion: 'v1', kind: 'Node', metadata: { name }, status: body.status };
        return onServer;
      },
    } as unknown as Partial<Client>;
    const status = newManager(client, { random, current: () => onServer });
    return { status, posts: () => posts };
  }

  /** The times, from registration, at which checks every update interval posted. */
  async function reportTimes(random: (() => number) | undefined, horizonMs: number): Promise<number[]> {
    const { status, posts } = manager(random);
    const start = Date.now();
    await status.register();
    const times: number[] = [];
    for (let t = updateMs; t <= horizonMs; t += updateMs) {
      jest.setSystemTime(start + t);
      const before = posts();
      await status.update();
      if (posts() > before) times.push(t);
    }
    return times;
  }

  test('the first report after registering comes half an interval early or late, as drawn; later ones a whole interval apart', async () => {
    expect(await reportTimes(() => 0, 3 * reportMs)).toEqual([150_000, 450_000, 750_000]);
    expect(await reportTimes(() => 1, 3 * reportMs)).toEqual([450_000, 750_000]);
    expect(await reportTimes(() => 0.5, 3 * reportMs)).toEqual([300_000, 600_000, 900_000]);
  });

  test('by default each node draws its own shift', async () => {
    const draws = jest.spyOn(Math, 'random').mockReturnValueOnce(0.25).mockReturnValueOnce(0.75);
    expect(await reportTimes(undefined, reportMs * 1.5)).toEqual([220_000]);
    expect(await reportTimes(undefined, reportMs * 1.5)).toEqual([370_000]);
    draws.mockRestore();
  });
});

describe('registration', () => {
  /** A manager whose API server fails the first `failures` creates with `error`. */
  function manager(failures: number, error: Error): { status: NodeStatusManager; attempts: number[] } {
    const attempts: number[] = [];
    const client = {
      create: async (_resource: string, node: Node) => {
        attempts.push(Date.now());
        if (attempts.length <= failures) throw error;
        return node;
      },
      patch: async (_resource: string, name: string, body: { status: NodeStatus }) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: body.status }),
    } as unknown as Partial<Client>;
    const status = newManager(client);
    return { status, attempts };
  }
  const refused = new ConnectionError('http://127.0.0.1:6443', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));

  test('an unreachable API server is waited for, 100 ms doubled up to 7 s between tries, as the kubelet does', async () => {
    const { status, attempts } = manager(9, refused);
    const registered = status.registerUntilDone();
    for (let i = 0; i < 10; i++) await jest.advanceTimersByTimeAsync(7_000);
    expect((await registered)?.metadata.name).toBe('n1');
    const gaps = attempts.slice(1).map((at, i) => at - attempts[i]);
    expect(gaps).toEqual([100, 200, 400, 800, 1_600, 3_200, 6_400, 7_000, 7_000]);
  });

  test('stopping ends the wait', async () => {
    const { status, attempts } = manager(Infinity, refused);
    const registered = status.registerUntilDone();
    await jest.advanceTimersByTimeAsync(1_000);
    status.stop();
    expect(await registered).toBeUndefined();
    const tries = attempts.length;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(attempts.length).toBe(tries);
  });

  test('a node the server finds invalid is not tried again', async () => {
    const invalid = ApiError.fromResponse(422, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 422, reason: 'Invalid', message: 'Node "n1" is invalid' });
    const { status, attempts } = manager(Infinity, invalid);
    await expect(status.registerUntilDone()).rejects.toThrow('Node "n1" is invalid');
    expect(attempts).toHaveLength(1);
  });
});
