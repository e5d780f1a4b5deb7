// The scheduler against an API server over HTTP: a small in-test server that lists
// (streaming lists: sendInitialEvents), watches (chunked JSON lines), binds (409 when bound), patches pod status and takes events.

import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Event, KubeObject, Node, Pod } from '@peapod/api';
import { failureStatus, initialEventsEndAnnotation } from '@peapod/api';
import { Client } from '@peapod/client';
import { makeNode, makePod } from './fixtures';
import { runScheduler } from './run';
import type { RunningScheduler } from './run';

type Resource = 'pods' | 'nodes';

interface Change {
  rv: number;
  resource: Resource;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

class TinyApiServer {
  private rv = 1;
  readonly objects = { pods: new Map<string, Pod>(), nodes: new Map<string, Node>() };
  readonly events: Event[] = [];
  readonly bindRequests: string[] = [];
  private readonly history: Change[] = [];
  private readonly watchers = new Set<{ resource: Resource; res: http.ServerResponse }>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  put(resource: Resource, obj: KubeObject): void {
    const key = obj.metadata.name as string;
    const map = this.objects[resource] as Map<string, KubeObject>;
    const type = map.has(key) ? 'MODIFIED' : 'ADDED';
    obj.metadata.resourceVersion = String(++this.rv);
    map.set(key, obj);
    this.emit({ rv: this.rv, resource, type, object: obj });
  }

  private emit(change: Change): void {
    this.history.push(change);
    for (const w of this.watchers) {
      if (w.resource === change.resource) w.res.write(JSON.stringify({ type: change.type, object: change.object }) + '\n');
    }
  }

  private reply(res: http.ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
      const list = /^\/api\/v1\/(pods|nodes)$/.exec(url.pathname);
      if (req.method === 'GET' && list) {
        const resource = list[1] as Resource;
        if (url.searchParams.get('watch') === 'true') {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          if (url.searchParams.get('sendInitialEvents') === 'true') {
            // A streaming list: the current objects, then the bookmark that ends them.
            for (const object of (this.objects[resource] as Map<string, KubeObject>).values()) res.write(JSON.stringify({ type: 'ADDED', object }) + '\n');
            const metadata = { resourceVersion: String(this.rv), annotations: { [initialEventsEndAnnotation]: 'true' } };
            res.write(JSON.stringify({ type: 'BOOKMARK', object: { metadata } }) + '\n');
          } else {
            const from = Number(url.searchParams.get('resourceVersion') ?? '0');
            for (const c of this.history) {
              if (c.resource === resource && c.rv > from) res.write(JSON.stringify({ type: c.type, object: c.object }) + '\n');
            }
          }
          const watcher = { resource, res };
          this.watchers.add(watcher);
          res.on('close', () => this.watchers.delete(watcher));
          return;
        }
        const items = [...(this.objects[resource] as Map<string, KubeObject>).values()];
        this.reply(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items });
        return;
      }
      const podPath = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(binding|status)$/.exec(url.pathname);
      if (podPath) {
        const pod = this.objects.pods.get(podPath[2]);
        if (!pod) return this.reply(res, 404, failureStatus(404, `pods "${podPath[2]}" not found`));
        if (podPath[3] === 'binding' && req.method === 'POST') {
          this.bindRequests.push(podPath[2]);
          if (pod.spec.nodeName) {
            return this.reply(res, 409, failureStatus(409, `pod ${podPath[2]} is already assigned to node "${pod.spec.nodeName}"`));
          }
          this.put('pods', { ...pod, spec: { ...pod.spec, nodeName: body.target.name } } as Pod);
          return this.reply(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
        }
        if (podPath[3] === 'status' && req.method === 'PATCH') {
          const updated = { ...pod, status: { ...pod.status, ...body.status } } as Pod;
          this.put('pods', updated);
          return this.reply(res, 200, updated);
        }
      }
      if (req.method === 'POST' && /^\/api\/v1\/namespaces\/[^/]+\/events$/.test(url.pathname)) {
        this.events.push(body as Event);
        return this.reply(res, 201, body);
      }
      this.reply(res, 404, failureStatus(404, `no route for ${req.method} ${url.pathname}`));
    });
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('runScheduler against an API server', () => {
  let api: TinyApiServer;
  let client: Client;
  let running: RunningScheduler | undefined;

  beforeEach(async () => {
    api = new TinyApiServer();
    client = new Client({ server: await api.start(), token: 'test' });
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    client.close();
    await api.stop();
  });

  const nodeOf = (name: string): string | undefined => api.objects.pods.get(name)?.spec.nodeName;

  it('binds, explains, leaves others alone, and reacts to a new node', async () => {
    api.put('nodes', makeNode('node-1', { cpu: '2' }));
    api.put('nodes', makeNode('node-2', { cpu: '2' }));
    api.put('pods', makePod('web-1', { cpu: '500m' }));
    api.put('pods', makePod('web-2', { cpu: '500m' }));
    api.put('pods', makePod('other', { spec: { schedulerName: 'someone-else' } }));
    api.put('pods', makePod('huge', { cpu: '3' }));
    running = runScheduler(client, { flushIntervalMs: 20 });
    await running.started;

    api.put('pods', makePod('late', { cpu: '500m' }));
    await until('three pods are bound', () => ['web-1', 'web-2', 'late'].every((p) => nodeOf(p)));
    const message = '0/2 nodes are available: 2 Insufficient cpu.';
    await until('huge is marked unschedulable', () =>
      Boolean(api.objects.pods.get('huge')?.status?.conditions?.some((c) => c.reason === 'Unschedulable')),
    );
    expect(api.objects.pods.get('huge')?.status?.conditions).toEqual([
      expect.objectContaining({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }),
    ]);
    await until('events are recorded', () => api.events.length >= 4);
    const scheduled = api.events.filter((e) => e.reason === 'Scheduled').map((e) => e.message);
    expect(scheduled.sort()).toEqual(
      ['web-1', 'web-2', 'late'].map((p) => `Successfully assigned default/${p} to ${nodeOf(p)}`).sort(),
    );
    const failed = api.events.filter((e) => e.reason === 'FailedScheduling');
    expect(failed).toEqual([
      expect.objectContaining({
        type: 'Warning',
        message,
        involvedObject: expect.objectContaining({ kind: 'Pod', name: 'huge', namespace: 'default' }),
        source: { component: 'default-scheduler' },
      }),
    ]);
    expect(nodeOf('other')).toBeUndefined();

    api.put('nodes', makeNode('node-3', { cpu: '8' }));
    await until('huge is bound to the new node', () => nodeOf('huge') === 'node-3');
  });

  it('restarted, counts the pods already bound and binds none of them again', async () => {
    api.put('nodes', makeNode('node-1', { cpu: '1' }));
    api.put('nodes', makeNode('node-2', { cpu: '1' }));
    api.put('pods', makePod('old', { cpu: '1', spec: { nodeName: 'node-1' } }));
    for (let i = 0; i < 3; i++) api.put('pods', makePod(`new-${i}`, { cpu: '300m' }));
    running = runScheduler(client);
    await running.started;
    await until('the new pods are bound', () => [0, 1, 2].every((i) => nodeOf(`new-${i}`)));
    expect([0, 1, 2].map((i) => nodeOf(`new-${i}`))).toEqual(['node-2', 'node-2', 'node-2']);
    expect(api.bindRequests.sort()).toEqual(['new-0', 'new-1', 'new-2']);
  });
});
