// Objects made for the real API server, and small waits, for the integration tests and the
// end-to-end benchmark. Nodes carry their status in the create request (the server keeps it),
// so a cluster needs no agents.

import type { Event, KubeObject, Node, Pod, PodCondition } from '@peapod/api';
import { Client } from '@peapod/client';
import { makeNode, makePod } from '../fixtures';
import type { NodeShape, PodShape } from '../fixtures';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';
import { startScheduler } from './processes';

/** A real API server, the schedulers started against it, and a client. */
export interface TestCluster {
  readonly api: RunningApiServer;
  readonly client: Client;
  /** The scheduler started last, if any. */
  scheduler: RunningProcess | undefined;
  /** Starts a scheduler process and waits until it schedules. */
  startScheduler(args?: string[]): Promise<RunningProcess>;
  /** Kills every process started and removes the server's data; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts an API server and, unless `withScheduler` is false, a scheduler. */
export async function startCluster(opts: { withScheduler?: boolean } = {}): Promise<TestCluster> {
  const api = await startApiServer();
  const client = new Client({ server: api.url });
  const schedulers: RunningProcess[] = [];
  const cluster: TestCluster = {
    api,
    client,
    scheduler: undefined,
    async startScheduler(args?: string[]) {
      const started = await startScheduler(api.url, { args });
      schedulers.push(started);
      cluster.scheduler = started;
      return started;
    },
    async stop() {
      client.close();
      await Promise.all(schedulers.map((s) => s.kill('SIGKILL')));
      await api.stop();
    },
  };
  if (opts.withScheduler !== false) {
    try {
      await cluster.startScheduler();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }
  return cluster;
}

/** A Ready node as a create request: the server assigns uid and resourceVersion. */
export function nodeManifest(name: string, shape: NodeShape = {}): Node {
  const node = makeNode(name, shape);
  delete node.metadata.uid;
  return node;
}

/** A pod as a create request, with one container asking what `shape` says. */
export function podManifest(name: string, shape: PodShape = {}): Pod {
  const pod = makePod(name, shape);
  delete pod.metadata.uid;
  delete pod.status;
  return pod;
}

/** Creates the objects with `concurrency` requests in flight; returns them as the server stored them, in order. */
export async function createAll<T extends KubeObject>(client: Client, resource: string, objects: T[], concurrency = 32): Promise<T[]> {
  const created: T[] = new Array(objects.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < objects.length) {
      const i = next++;
      created[i] = await client.create<T>(resource, objects[i], { namespace: objects[i].metadata.namespace });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, objects.length) }, worker));
  return created;
}

/** Polls `check` until it returns something other than undefined/false; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The pod's PodScheduled condition, if it has one. */
export function podScheduled(pod: Pod): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
}

/** The events about one pod. */
export async function podEvents(client: Client, name: string, namespace = 'default'): Promise<Event[]> {
  const list = await client.list<Event>('events', { namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

/** Every pod, listed. */
export async function listPods(client: Client, namespace = 'default'): Promise<Pod[]> {
  return (await client.list<Pod>('pods', { namespace })).items;
}

/** Waits until the pod satisfies `check`, and returns it. */
export async function waitForPod(
  client: Client,
  name: string,
  what: string,
  check: (pod: Pod) => boolean,
  opts: { namespace?: string; timeoutMs?: number } = {},
): Promise<Pod> {
  return waitFor(
    `pod ${name} ${what}`,
    async () => {
      const pod = await client.get<Pod>('pods', name, { namespace: opts.namespace ?? 'default' });
      return check(pod) ? pod : undefined;
    },
    opts.timeoutMs,
  );
}

/** Waits until the pod is bound; returns its node's name. */
export async function waitForBinding(client: Client, name: string, opts: { namespace?: string; timeoutMs?: number } = {}): Promise<string> {
  const pod = await waitForPod(client, name, 'to be bound', (p) => Boolean(p.spec.nodeName), opts);
  return pod.spec.nodeName as string;
}
