// The scheduler wired to a cluster: informers for nodes and pods feed the cache and the
// queue, and scheduling starts only once both have listed everything, so the cache holds
// every pod already bound (a restarted scheduler never places a pod on a full node).

import type { Node, Pod } from '@peapod/api';
import { Informer } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { clientApi } from './client-api';
import { silentLogger } from './log';
import { defaultSchedulerName, Scheduler } from './scheduler';
import type { SchedulerOptions } from './scheduler';

export interface RunningScheduler {
  readonly scheduler: Scheduler;
  /** Resolves once the informers have synced and scheduling has begun; rejects if stopped first. */
  readonly started: Promise<void>;
  stop(): Promise<void>;
}

export interface RunSchedulerOptions extends SchedulerOptions {
  /** The client events are written with: one of their own, as Kubernetes' scheduler has, so they do not spend the binds' rate limit. Default: `client`. */
  eventClient?: Client;
}

export function runScheduler(client: Client, opts: RunSchedulerOptions = {}): RunningScheduler {
  const logger: Logger = opts.logger ?? silentLogger;
  const scheduler = new Scheduler(clientApi(client, opts.schedulerName ?? defaultSchedulerName, opts.eventClient), opts);
  // The scheduler never reads managedFields: cached without them, every pod and node takes
  // about a third less memory, and the garbage collector has that much less to move. Cut
  // from the watch events' text, they are not even parsed: the scheduler reads every pod
  // twice (pending, then bound). Not internStrings: its cost per event (a quarter of the
  // parse's) shows in the scheduler's binds per second, its memory does not.
  const nodes = new Informer<Node>(client, 'nodes', { logger, dropManagedFields: true });
  const pods = new Informer<Pod>(client, 'pods', { logger, dropManagedFields: true });
  nodes.on('add', scheduler.onNodeAdd).on('update', scheduler.onNodeUpdate).on('delete', scheduler.onNodeDelete);
  pods.on('add', scheduler.onPodAdd).on('update', scheduler.onPodUpdate).on('delete', scheduler.onPodDelete);
  nodes.start();
  pods.start();
  const started = Promise.all([nodes.waitForSync(), pods.waitForSync()]).then(() => {
    scheduler.start();
    logger.info('scheduling', { nodes: scheduler.cache.nodes.length, pending: scheduler.queue.counts().active });
  });
  return {
    scheduler,
    started,
    async stop(): Promise<void> {
      nodes.stop();
      pods.stop();
      await scheduler.stop();
    },
  };
}
