// Real agents on Docker for the e2e tests: an agent per node on a test's own network, and a
// controller whose containers stop at once on TERM, so graceful deletions are quick.

import type { Pod, ReplicationController } from '@peapod/api';
import { startComponent } from '@peapod/client/testing';
import type { RunningProcess } from '@peapod/client/testing';
import { isPodLive } from '../replication/controller';
import { rcManifest } from './cluster';

/** An agent for `node`, heartbeating every second unless `args` say otherwise (they come last and win); resolves once it listens. */
export async function startAgent(server: string, node: string, network: string, args: string[] = []): Promise<RunningProcess> {
  const agent = startComponent('agent', [
    '--server', server,
    '--node-name', node,
    '--port', '0',
    '--address', '127.0.0.1',
    '--network', network,
    '--heartbeat-interval', '1',
    '--relist-period', '0.5',
    '--log-level', 'info',
    ...args,
  ]);
  await agent.ready(/"msg":"listening"/, 30_000);
  return agent;
}

/** A controller of busybox pods labelled app=<name> that exit as soon as they get TERM. */
export function quickStopController(name: string, replicas: number): ReplicationController {
  const rc = rcManifest(name, replicas);
  rc.spec!.template!.spec = {
    terminationGracePeriodSeconds: 5,
    containers: [
      {
        name: 'app',
        image: 'peapod/busybox:latest',
        imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"],
      },
    ],
  };
  return rc;
}

/** The pods that are live, Running and Ready. */
export function runningReady(list: Pod[]): Pod[] {
  return list.filter((p) => isPodLive(p) && p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}
