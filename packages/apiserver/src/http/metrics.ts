import client from 'prom-client';

/** The server's Prometheus metrics, in a registry of its own (several servers may share a process in tests). */
export class Metrics {
  readonly registry = new client.Registry();
  readonly requests = new client.Counter({
    name: 'apiserver_request_total',
    help: 'Requests by verb, resource, subresource and HTTP code.',
    labelNames: ['verb', 'resource', 'subresource', 'code'] as const,
    registers: [this.registry],
  });
  readonly latency = new client.Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Request latency by verb, resource and subresource (watches excluded).',
    labelNames: ['verb', 'resource', 'subresource'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly watchers = new client.Gauge({
    name: 'apiserver_registered_watchers',
    help: 'Open watches by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly watchEvents = new client.Counter({
    name: 'apiserver_watch_events_total',
    help: 'Events sent to watchers by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly storage = new client.Histogram({
    name: 'apiserver_storage_duration_seconds',
    help: 'Storage operation latency.',
    labelNames: ['operation'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1],
    registers: [this.registry],
  });
  constructor() {
    client.collectDefaultMetrics({ register: this.registry });
  }
}
