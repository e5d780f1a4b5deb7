import fs from 'fs';
import path from 'path';
import { decodeObject, findResource, protobufMediaType } from '@peapod/api';
import { removeDir, startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { captureKubectlBodies, KubectlBodyFixture } from './testing/capture-kubectl-bodies';
import { hasKubectl, kubectlFor } from './testing/kubectl';
import { recordingProxy, RecordingProxy } from './testing/recording-proxy';
import { call } from './testing/http';

jest.setTimeout(180_000);

const fixtureFile = path.resolve(__dirname, '../../api/src/protobuf/testdata/kubectl-bodies.json');

test('kubectl sends the protobuf bodies committed as the codec fixtures (UPDATE_KUBECTL_FIXTURES=1 rewrites them)', async () => {
  expect(hasKubectl()).toBe(true);
  const captured = await captureKubectlBodies();
  if (process.env.UPDATE_KUBECTL_FIXTURES === '1') {
    fs.writeFileSync(fixtureFile, `${JSON.stringify(captured, null, 2)}\n`);
    return;
  }
  const committed = JSON.parse(fs.readFileSync(fixtureFile, 'utf8')) as KubectlBodyFixture[];
  expect(captured.map((f) => [f.name, f.method, f.path, f.body])).toEqual(committed.map((f) => [f.name, f.method, f.path, f.body]));
});

describe('the real kubectl negotiating protobuf', () => {
  let server: RunningApiServer;
  let proxy: RecordingProxy;
  let kubectl: ReturnType<typeof kubectlFor>;

  beforeAll(async () => {
    server = await startApiServer();
    proxy = await recordingProxy(server.port);
    kubectl = kubectlFor(proxy.url);
  });
  afterAll(async () => {
    proxy.close();
    await server.kill();
    removeDir(server.dataDir);
    kubectl.cleanup();
  });

  /** The requests a command made, from where the log stood before it. */
  async function traced(args: string[]) {
    const from = proxy.requests.length;
    const r = await kubectl.runAsync(args);
    return { ...r, requests: proxy.requests.slice(from) };
  }

  test('create namespace: a protobuf body, a protobuf answer; AlreadyExists read from a protobuf Status', async () => {
    const r = await traced(['create', 'namespace', 'team-a']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('namespace/team-a created');
    const post = r.requests.find((q) => q.method === 'POST')!;
    expect(post).toMatchObject({ contentType: protobufMediaType, status: 201, responseType: protobufMediaType });
    expect(post.accept.startsWith(protobufMediaType)).toBe(true);
    expect(decodeObject(post.body)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' }, spec: {}, status: {} });

    const again = await traced(['create', 'namespace', 'team-a']);
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim()).toBe('Error from server (AlreadyExists): namespaces "team-a" already exists');
    expect(again.requests.find((q) => q.method === 'POST')).toMatchObject({ status: 409, responseType: protobufMediaType });
  });

  (findResource('configmaps') ? test : test.skip)('create configmap and secret generic with protobuf bodies', async () => {
    const cm = await traced(['create', 'configmap', 'settings', '-n', 'team-a', '--from-literal=mode=fast']);
    expect(cm.stdout.trim()).toBe('configmap/settings created');
    const secret = await traced(['create', 'secret', 'generic', 'creds', '-n', 'team-a', '--from-literal=password=s3cr3t']);
    expect(secret.stdout.trim()).toBe('secret/creds created');
    for (const r of [cm, secret]) expect(r.requests.find((q) => q.method === 'POST')).toMatchObject({ contentType: protobufMediaType, responseType: protobufMediaType });
    const got = JSON.parse((await kubectl.runAsync(['get', 'secret', 'creds', '-n', 'team-a', '-o', 'json'])).stdout);
    expect(Buffer.from(got.data.password, 'base64').toString()).toBe('s3cr3t');
  });

  test('get -o yaml asks for JSON (kubectl reads it through its unstructured client); describe asks for and gets protobuf', async () => {
    const yaml = await traced(['get', 'namespace', 'team-a', '-o', 'yaml']);
    expect(yaml.stdout).toContain('name: team-a');
    expect(yaml.stdout).toContain('phase: Active');
    const get = yaml.requests.find((q) => q.url.startsWith('/api/v1/namespaces/team-a'))!;
    expect([get.accept, get.responseType]).toEqual(['application/json', 'application/json']);

    const described = await traced(['describe', 'namespace', 'team-a']);
    expect(described.stdout).toMatch(/Name:\s+team-a/);
    expect(described.stdout).toMatch(/Status:\s+Active/);
    const typed = described.requests.filter((q) => q.accept.startsWith(protobufMediaType));
    expect(typed.length).toBeGreaterThan(0);
    for (const q of typed) expect([q.url, q.responseType]).toEqual([q.url, protobufMediaType]);
  });

  test('events --watch: kubectl reads each frame of a protobuf watch as a bare WatchEvent', async () => {
    const watching = kubectl.start(['events', '--watch', '-n', 'team-a']);
    try {
      await until(() => proxy.requests.some((q) => q.url.startsWith('/api/v1/namespaces/team-a/events?') && q.url.includes('watch=true') && q.status === 200));
      const watch = proxy.requests.find((q) => q.url.startsWith('/api/v1/namespaces/team-a/events?') && q.url.includes('watch=true'))!;
      expect(watch.accept.startsWith(protobufMediaType)).toBe(true);
      expect(watch.responseType).toBe(`${protobufMediaType};stream=watch`);
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      for (const [name, message] of [['first', 'one over protobuf'], ['second', 'two over protobuf']]) {
        const event = {
          metadata: { name },
          involvedObject: { kind: 'Namespace', name: 'team-a', apiVersion: 'v1' },
          reason: 'Tested',
          message,
          type: 'Normal',
          source: { component: 'test' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        };
        expect((await call(server.url, 'POST', '/api/v1/namespaces/team-a/events', event)).status).toBe(201);
      }
      // Both through the one watch: a frame kubectl cannot decode ends it with "unable to decode".
      await until(() => watching.output().includes('two over protobuf'));
      expect(watching.output()).toContain('one over protobuf');
      expect(watching.output()).not.toContain('decode');
      expect(proxy.requests.filter((q) => q.url.startsWith('/api/v1/namespaces/team-a/events?') && q.url.includes('watch=true'))).toHaveLength(1);
    } finally {
      watching.stop();
    }
  });

  test('drain: a protobuf list of the node\'s pods, then deletes carrying a protobuf DeleteOptions', async () => {
    expect((await call(server.url, 'POST', '/api/v1/nodes', { metadata: { name: 'n1' } })).status).toBe(201);
    const pod = { metadata: { name: 'done', namespace: 'team-a' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } };
    expect((await call(server.url, 'POST', '/api/v1/namespaces/team-a/pods', pod)).status).toBe(201);
    // A finished pod goes at once when deleted: nothing has to stop its containers.
    const current = (await call(server.url, 'GET', '/api/v1/namespaces/team-a/pods/done')).body;
    current.status = { phase: 'Succeeded' };
    expect((await call(server.url, 'PUT', '/api/v1/namespaces/team-a/pods/done/status', current)).status).toBe(200);

    // --disable-eviction: drain deletes instead of evicting (its evictions go as JSON).
    const r = await traced(['drain', 'n1', '--force', '--disable-eviction', '--grace-period=5', '--timeout=60s']);
    expect(r.stdout).toContain('node/n1 drained');
    const list = r.requests.find((q) => q.method === 'GET' && q.url.startsWith('/api/v1/pods?'))!;
    expect(list.responseType).toBe(protobufMediaType);
    const del = r.requests.find((q) => q.method === 'DELETE')!;
    expect(del).toMatchObject({ url: '/api/v1/namespaces/team-a/pods/done', contentType: protobufMediaType, status: 200, responseType: protobufMediaType });
    expect(decodeObject(del.body)).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 5 });
    expect((await call(server.url, 'GET', '/api/v1/namespaces/team-a/pods/done')).status).toBe(404);
  });
});

async function until(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
