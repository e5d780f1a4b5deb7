// The controller manager: one informer per resource, shared by the controllers that read it,
// and the controllers themselves (replication, garbage collector, node lifecycle, endpoints,
// EndpointSlices, each namespace's default service account and kube-root-ca.crt, ClusterRole
// aggregation). main.ts only
// parses flags and handles signals.

import { resources } from '@peapod/api';
import type {
  ClusterRole,
  ConfigMap,
  EndpointSlice,
  Endpoints,
  KubeObject,
  Lease,
  Namespace,
  Node,
  Pod,
  ReplicationController,
  Service,
  ServiceAccount,
} from '@peapod/api';
import { Informer, createLogger } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import { ApiGarbageCollectorClient, GarbageCollector } from './gc/garbage-collector';
import { ApiNodeLifecycleClient, NodeLifecycleController } from './nodelifecycle/controller';
import type { EvictionPacing } from './nodelifecycle/zones';
import { ApiControllerClient } from './replication/pod-control';
import { ReplicationManager } from './replication/controller';
import { EndpointsController } from './endpoints/controller';
import { EndpointSliceController } from './endpointslice/controller';
import { ApiObjectWriter } from './object-writer';
import { NamespaceIndex, ServiceIndex } from './service-index';
import { ApiPerNamespaceClient, PerNamespaceController } from './namespaces/per-namespace';
import { defaultServiceAccount, rootCAConfigMap } from './namespaces/objects';
import { ApiAggregationClient, ClusterRoleAggregationController } from './clusterroleaggregation/controller';

export interface ControllerManagerOptions {
  nodeMonitorPeriodMs: number;
  nodeMonitorGracePeriodMs: number;
  podEvictionTimeoutMs: number;
  /** How fast unreachable nodes get the taint that evicts their pods, per zone. Default: Kubernetes'. */
  evictionPacing?: EvictionPacing;
  /** Replication controllers synced at once. Default 5. */
  concurrentRcSyncs?: number;
  /** Services whose Endpoints are synced at once. Default 5. */
  concurrentEndpointSyncs?: number;
  /** Services whose EndpointSlices are synced at once. Default 5. */
  concurrentServiceEndpointSyncs?: number;
  /** Most endpoints in one EndpointSlice. Default 100. */
  maxEndpointsPerSlice?: number;
  /** How long pod changes are gathered before a service's endpoints are synced. Default 0. */
  endpointUpdatesBatchPeriodMs?: number;
  /** The CA (PEM) published to every namespace as kube-root-ca.crt; empty when the components trust no particular CA. */
  rootCA?: string;
  logger?: Logger;
  /**
   * The client of each controller, by its name, as Kubernetes' controller manager gives each
   * controller a client (and so a rate limit, --kube-api-qps) of its own; the informers use
   * the one runControllerManager is given. Default: that one for all.
   */
  controllerClient?: (name: string) => Client;
}

export interface RunningControllerManager {
  /** Resolves once every informer has synced and the controllers are at work. */
  started: Promise<void>;
  /** Stops the controllers and informers; resolves when the controllers' loops have ended. */
  stop(): Promise<void>;
}

export function runControllerManager(client: Client, opts: ControllerManagerOptions): RunningControllerManager {
  const log = opts.logger ?? createLogger('controller-manager');
  const clientOf = opts.controllerClient ?? (() => client);
  // No controller reads managedFields (an update without them keeps the stored ones), so every
  // informer drops them, as Kubernetes' controller manager does: a third of a pod's JSON.
  const cached = { logger: createLogger('informer'), dropManagedFields: true };
  const rcs = new Informer<ReplicationController>(client, 'replicationcontrollers', cached);
  const pods = new Informer<Pod>(client, 'pods', { ...cached, internStrings: true });
  const nodes = new Informer<Node>(client, 'nodes', cached);
  const services = new Informer<Service>(client, 'services', cached);
  const endpoints = new Informer<Endpoints>(client, 'endpoints', cached);
  const slices = new Informer<EndpointSlice>(client, 'endpointslices', cached);
  const namespaces = new Informer<Namespace>(client, 'namespaces', cached);
  const serviceAccounts = new Informer<ServiceAccount>(client, 'serviceaccounts', cached);
  const configMaps = new Informer<ConfigMap>(client, 'configmaps', cached);
  // Node leases (kube-node-lease) are heartbeats for the node lifecycle controller.
  const leases = new Informer<Lease>(client, 'leases', cached);
  const clusterRoles = new Informer<ClusterRole>(client, 'clusterroles', cached);

  const replication = new ReplicationManager(rcs, pods, new ApiControllerClient(clientOf('replication-controller'), log), {
    workers: opts.concurrentRcSyncs,
    logger: createLogger('replication-controller'),
  });
  // The garbage collector watches every resource that can be owned or own, sharing the informers
  // the other controllers use (so it sees an owner change no later than they do); events own
  // nothing and are left out, as Kubernetes leaves them out.
  const shared = new Map<string, Informer<KubeObject>>([
    ['pods', pods],
    ['replicationcontrollers', rcs],
    ['nodes', nodes],
    ['services', services],
    ['endpoints', endpoints],
    ['endpointslices', slices],
    ['namespaces', namespaces],
    ['serviceaccounts', serviceAccounts],
    ['configmaps', configMaps],
    ['leases', leases],
    ['clusterroles', clusterRoles],
  ]);
  const monitored = new Map<string, Informer<KubeObject>>();
  for (const r of resources) {
    if (r.name === 'events' || !['list', 'watch', 'delete'].every((v) => r.verbs.includes(v))) continue;
    monitored.set(r.name, shared.get(r.name) ?? new Informer<KubeObject>(client, r.name, cached));
  }
  const gc = new GarbageCollector(monitored, new ApiGarbageCollectorClient(clientOf('garbage-collector')), { logger: createLogger('garbage-collector') });
  const lifecycle = new NodeLifecycleController(nodes, pods, leases, new ApiNodeLifecycleClient(clientOf('node-lifecycle-controller')), {
    monitorPeriodMs: opts.nodeMonitorPeriodMs,
    gracePeriodMs: opts.nodeMonitorGracePeriodMs,
    podEvictionTimeoutMs: opts.podEvictionTimeoutMs,
    pacing: opts.evictionPacing,
    logger: createLogger('node-lifecycle'),
  });

  // The indexes are made before the controllers so that they are up to date when a controller's handlers run.
  const serviceIndex = new ServiceIndex(services);
  const podIndex = new NamespaceIndex(pods);
  const sliceIndex = new NamespaceIndex(slices);
  const endpointsController = new EndpointsController(
    { services, pods, endpoints, serviceIndex, podIndex },
    new ApiObjectWriter<Endpoints>(clientOf('endpoints-controller'), 'endpoints'),
    { workers: opts.concurrentEndpointSyncs, batchPeriodMs: opts.endpointUpdatesBatchPeriodMs, logger: createLogger('endpoints-controller') },
  );
  const sliceController = new EndpointSliceController(
    { services, pods, nodes, slices, serviceIndex, podIndex, sliceIndex },
    new ApiObjectWriter<EndpointSlice>(clientOf('endpointslice-controller'), 'endpointslices'),
    {
      workers: opts.concurrentServiceEndpointSyncs,
      maxEndpointsPerSlice: opts.maxEndpointsPerSlice,
      batchPeriodMs: opts.endpointUpdatesBatchPeriodMs,
      logger: createLogger('endpointslice-controller'),
    },
  );

  const serviceAccountsController = new PerNamespaceController(namespaces, serviceAccounts, defaultServiceAccount, new ApiPerNamespaceClient(clientOf('serviceaccount-controller')), {
    logger: createLogger('serviceaccounts-controller'),
  });
  const rootCAPublisher = new PerNamespaceController(namespaces, configMaps, rootCAConfigMap(opts.rootCA ?? ''), new ApiPerNamespaceClient(clientOf('root-ca-cert-publisher')), {
    logger: createLogger('root-ca-cert-publisher'),
  });

  const aggregation = new ClusterRoleAggregationController(clusterRoles, new ApiAggregationClient(clientOf('clusterrole-aggregation-controller')), {
    logger: createLogger('clusterrole-aggregation-controller'),
  });

  const informers = new Set<Informer<KubeObject>>([...shared.values(), ...monitored.values()]);
  for (const informer of informers) informer.start();
  const controllers = [replication, gc, lifecycle, endpointsController, sliceController, serviceAccountsController, rootCAPublisher, aggregation];
  const loops = controllers.map((c) => c.run()).map((p) =>
    p.catch((err: unknown) => log.error('controller stopped with an error', { error: err })),
  );
  const started = Promise.all([...informers].map((i) => i.waitForSync())).then(() => undefined);

  return {
    started,
    async stop() {
      for (const c of controllers) c.stop();
      for (const informer of informers) informer.stop();
      started.catch(() => undefined);
      await Promise.all(loops);
    },
  };
}
