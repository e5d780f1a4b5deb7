// The client against the real peapod-apiserver process (built by `npx tsc -b`): REST verbs,
// both watch transports, and an informer that must converge after the server is killed
// and restarted on the same data directory.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Event, KubeObject, Pod, WatchEvent } from '@peapod/api';
import { Informer, objectKey } from './informer';
import { writeKubeconfig } from './kubeconfig';
import { createLogger } from './log';
import { ApiError, Client, ConnectionError } from './rest';
import { startApiServer } from './testing/processes';
import type { RunningApiServer } from './testing/processes';

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pod(name: string, labels: Record<string, string> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
}

jest.setTimeout(30_000);

let dataDir: string;
let server: RunningApiServer | undefined;
let client: Client;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-client-it-'));
  server = await startApiServer({ dataDir });
  client = new Client({ server: server.url });
});

afterAll(async () => {
  client?.close();
  await server?.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('REST against the real API server', () => {
  it('creates, reads, lists, conflicts, records events and deletes', async () => {
    const created = await client.create<Pod>('pods', pod('rest-a', { app: 'rest' }));
    expect(created.metadata).toMatchObject({ name: 'rest-a', namespace: 'default' });
    expect(created.metadata.uid).toBeTruthy();

    const got = await client.get<Pod>('pods', 'rest-a');
    expect(got.metadata.resourceVersion).toBe(created.metadata.resourceVersion);

    const listed = await client.list<Pod>('pods', { namespace: 'default', labelSelector: 'app=rest' });
    expect(listed.items.map((p) => p.metadata.name)).toEqual(['rest-a']);
    expect(listed.items[0].kind).toBe('Pod');
    expect(Number(listed.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata.resourceVersion));

    const updated = await client.update<Pod>('pods', { ...got, metadata: { ...got.metadata, labels: { app: 'rest', v: '2' } } });
    const stale = await client.update<Pod>('pods', got).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ApiError);
    expect((stale as ApiError).code).toBe(409);

    await client.recordEvent(updated, 'Normal', 'Tested', 'hello from the client test', { component: 'client-test' });
    const events = await client.list<Event>('events', { namespace: 'default', fieldSelector: 'involvedObject.name=rest-a' });
    expect(events.items.map((e) => e.reason)).toContain('Tested');

    const missing = await client.get('pods', 'nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect((missing as ApiError).status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });

    await client.delete('pods', 'rest-a', { gracePeriodSeconds: 0 });
    await expect(client.get('pods', 'rest-a')).rejects.toMatchObject({ code: 404 });
  });

  it('lists in chunks, all pages one snapshot read at the first page', async () => {
    for (const name of ['chunk-a', 'chunk-b', 'chunk-c']) await client.create('pods', pod(name, { app: 'chunk' }));
    const pages: (string | undefined)[] = [];
    const list = jest.spyOn(client, 'list');
    list.mockImplementation(async (resource, opts) => {
      const page = await Client.prototype.list.call(client, resource, opts);
      pages.push(opts?.continue);
      // A change after the first page must not show in the later ones.
      if (pages.length === 1) await client.create('pods', pod('chunk-late', { app: 'chunk' }));
      return page;
    });
    try {
      const all = await client.listAll<Pod>('pods', { namespace: 'default', labelSelector: 'app=chunk' }, 1);
      expect(all.items.map((p) => p.metadata.name)).toEqual(['chunk-a', 'chunk-b', 'chunk-c']);
      expect(all.items.every((p) => p.kind === 'Pod')).toBe(true);
      expect(all.metadata).toEqual({ resourceVersion: expect.any(String) });
      expect(pages).toHaveLength(3);
      expect(pages[0]).toBeUndefined();
      expect(pages.slice(1).every((t) => typeof t === 'string' && t !== '')).toBe(true);
    } finally {
      list.mockRestore();
    }
    const whole = await client.listAll<Pod>('pods', { namespace: 'default', labelSelector: 'app=chunk' }, 0);
    expect(whole.items.map((p) => p.metadata.name)).toEqual(['chunk-a', 'chunk-b', 'chunk-c', 'chunk-late']);

    // A page whose snapshot the server does not keep (as after a failover to another server): the list starts again, once.
    const stale = (token: string) => {
      const parsed = JSON.parse(Buffer.from(token, 'base64url').toString()) as { s: number };
      return Buffer.from(JSON.stringify({ ...parsed, s: parsed.s + 1000 })).toString('base64url');
    };
    const asked: string[] = [];
    const pager = (spoil: (call: number) => boolean) =>
      jest.spyOn(client, 'list').mockImplementation(async (resource, opts) => {
        asked.push(opts?.continue ? 'next' : 'first');
        const token = opts?.continue && spoil(asked.length) ? stale(opts.continue) : opts?.continue;
        return Client.prototype.list.call(client, resource, { ...opts, continue: token });
      });
    const once = pager((call) => call === 2);
    try {
      const again = await client.listAll<Pod>('pods', { namespace: 'default', labelSelector: 'app=chunk' }, 2);
      expect(again.items.map((p) => p.metadata.name)).toEqual(['chunk-a', 'chunk-b', 'chunk-c', 'chunk-late']);
      expect(asked).toEqual(['first', 'next', 'first', 'next']);
    } finally {
      once.mockRestore();
    }
    asked.length = 0;
    const always = pager(() => true);
    try {
      await expect(client.listAll('pods', { namespace: 'default', labelSelector: 'app=chunk' }, 2)).rejects.toMatchObject({ code: 410 });
      expect(asked).toEqual(['first', 'next', 'first', 'next']);
    } finally {
      always.mockRestore();
    }
    for (const name of ['chunk-a', 'chunk-b', 'chunk-c', 'chunk-late']) await client.delete('pods', name, { gracePeriodSeconds: 0 });
  });

  it.each(['http', 'websocket'] as const)('watches over %s', async (transport) => {
    const start = await client.list('pods', { namespace: 'default' });
    const events: WatchEvent<KubeObject>[] = [];
    const w = client.watch('pods', { namespace: 'default', resourceVersion: start.metadata.resourceVersion, transport }, (e) => events.push(e));
    await client.create('pods', pod(`watch-${transport}`));
    await client.delete('pods', `watch-${transport}`, { gracePeriodSeconds: 0 });
    await waitFor(() => events.filter((e) => e.type !== 'BOOKMARK').length >= 2);
    w.stop();
    await w.done;
    const seen = events.filter((e) => e.type !== 'BOOKMARK').map((e) => [e.type, e.object.metadata.name]);
    expect(seen[0]).toEqual(['ADDED', `watch-${transport}`]);
    expect(seen[seen.length - 1]).toEqual(['DELETED', `watch-${transport}`]);
  });

  it('writes a kubeconfig the real kubectl uses against the server', () => {
    const file = path.join(dataDir, 'kubeconfig');
    writeKubeconfig(file, { server: client.server });
    const out = execFileSync('/usr/bin/kubectl', ['--kubeconfig', file, 'get', 'namespaces', '-o', 'name'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: dataDir },
    });
    expect(out.split('\n')).toContain('namespace/default');
  });
});

describe('informer across an API server crash', () => {
  it('converges with the server after it is killed and restarted on the same data dir', async () => {
    const current = server as RunningApiServer;
    for (const n of ['keep', 'change', 'gone']) await client.create('pods', pod(`crash-${n}`));

    const lines: string[] = [];
    // A slow first retry leaves time to change things while the informer is not watching.
    const informer = new Informer<Pod>(client, 'pods', {
      namespace: 'default',
      backoff: { initialMs: 1000, maxMs: 2000 },
      logger: createLogger('informer-test', { level: 'debug', write: (l) => lines.push(l) }),
    });
    const deleted: string[] = [];
    informer.on('delete', (p) => deleted.push(p.metadata.name ?? ''));
    informer.start();
    try {
      await informer.waitForSync();
      expect(informer.list().map((p) => p.metadata.name).sort()).toEqual(['crash-change', 'crash-gone', 'crash-keep']);

      await current.kill('SIGKILL');
      await expect(client.list('pods')).rejects.toBeInstanceOf(ConnectionError);
      await waitFor(() => lines.some((l) => l.includes('watch failed')));
      server = await startApiServer({ dataDir, port: current.port });

      const change = await client.get<Pod>('pods', 'crash-change');
      await client.update('pods', { ...change, metadata: { ...change.metadata, labels: { v: '2' } } });
      await client.delete('pods', 'crash-gone', { gracePeriodSeconds: 0 });
      await client.create('pods', pod('crash-new'));

      const serverState = async (): Promise<string[]> =>
        (await client.list<Pod>('pods', { namespace: 'default' })).items.map((p) => `${objectKey(p)}@${p.metadata.resourceVersion}`).sort();
      const cacheState = (): string[] => informer.list().map((p) => `${objectKey(p)}@${p.metadata.resourceVersion}`).sort();
      await waitFor(async () => JSON.stringify(cacheState()) === JSON.stringify(await serverState()));

      expect(informer.get('default/crash-change')?.metadata.labels).toEqual({ v: '2' });
      expect(informer.get('default/crash-gone')).toBeUndefined();
      expect(informer.get('default/crash-new')).toBeDefined();
      expect(deleted).toContain('crash-gone');
    } finally {
      informer.stop();
    }
  });
});
