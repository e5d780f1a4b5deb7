// The controller manager: one informer per resource, shared by the controllers that read it,
// and the controllers themselves. main.ts only parses flags and handles signals.

import type { Node, Pod, ReplicationController } from '@peapod/api';
import { Informer, createLogger } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { ApiGarbageCollectorClient, GarbageCollector } from './gc/garbage-collector';
import { ApiNodeLifecycleClient, NodeLifecycleController } from './nodelifecycle/controller';
import { ApiControllerClient } from './replication/pod-control';
import { ReplicationManager } from './replication/controller';

export interface ControllerManagerOptions {
  nodeMonitorPeriodMs: number;
  nodeMonitorGracePeriodMs: number;
  podEvictionTimeoutMs: number;
  /** Replication controllers synced at once. Default 5. */
  concurrentRcSyncs?: number;
  logger?: Logger;
}

export interface RunningControllerManager {
  /** Resolves once every informer has synced and the controllers are at work. */
  started: Promise<void>;
  /** Stops the controllers and informers; resolves when the controllers' loops have ended. */
  stop(): Promise<void>;
}

export function runControllerManager(client: Client, opts: ControllerManagerOptions): RunningControllerManager {
  const log = opts.logger ?? createLogger('controller-manager');
  const informerLog = createLogger('informer');
  const rcs = new Informer<ReplicationController>(client, 'replicationcontrollers', { logger: informerLog });
  const pods = new Informer<Pod>(client, 'pods', { logger: informerLog });
  const nodes = new Informer<Node>(client, 'nodes', { logger: informerLog });

  const replication = new ReplicationManager(rcs, pods, new ApiControllerClient(client, log), {
    workers: opts.concurrentRcSyncs,
    logger: createLogger('replication-controller'),
  });
  const gc = new GarbageCollector(pods, rcs, new ApiGarbageCollectorClient(client), { logger: createLogger('garbage-collector') });
  const lifecycle = new NodeLifecycleController(nodes, pods, new ApiNodeLifecycleClient(client), {
    monitorPeriodMs: opts.nodeMonitorPeriodMs,
    gracePeriodMs: opts.nodeMonitorGracePeriodMs,
    podEvictionTimeoutMs: opts.podEvictionTimeoutMs,
    logger: createLogger('node-lifecycle'),
  });

  for (const informer of [rcs, pods, nodes]) informer.start();
  const loops = [replication.run(), gc.run(), lifecycle.run()].map((p) =>
    p.catch((err: unknown) => log.error('controller stopped with an error', { error: err })),
  );
  const started = Promise.all([rcs.waitForSync(), pods.waitForSync(), nodes.waitForSync()]).then(() => undefined);

  return {
    started,
    async stop() {
      replication.stop();
      gc.stop();
      lifecycle.stop();
      for (const informer of [rcs, pods, nodes]) informer.stop();
      started.catch(() => undefined);
      await Promise.all(loops);
    },
  };
}
