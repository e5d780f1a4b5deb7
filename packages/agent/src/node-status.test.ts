import type { NodeStatus } from '@peapod/api';
import { statusChanged } from './node-status';

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
