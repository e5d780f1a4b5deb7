import fs from 'fs';
import path from 'path';
import { rfc3339 } from '@peapod/api';
import { removeDir, startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { call } from './testing/http';
import { hasKubectl, kubectlFor } from './testing/kubectl';

jest.setTimeout(120_000);

test('kubectl is installed', () => {
  expect(hasKubectl()).toBe(true);
});

describe('the real kubectl against peapod-apiserver', () => {
  let server: RunningApiServer;
  let kubectl: ReturnType<typeof kubectlFor>;
  let manifest: string;

  beforeAll(async () => {
    server = await startApiServer();
    kubectl = kubectlFor(server.url);
    manifest = path.join(kubectl.home, 'pod.yaml');
    fs.writeFileSync(
      manifest,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        '  name: web',
        '  labels: {app: web}',
        'spec:',
        '  terminationGracePeriodSeconds: 20',
        '  containers:',
        '  - name: main',
        '    image: peapod/busybox:latest',
        '    command: ["sleep", "3600"]',
        '    ports: [{containerPort: 80}]',
        '',
      ].join('\n'),
    );
    await call(server.url, 'POST', '/api/v1/nodes', {
      metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } },
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'AgentReady', message: 'ready', lastHeartbeatTime: new Date().toISOString() }],
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        capacity: { cpu: '2', memory: '4Gi', pods: '110' },
        allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
        nodeInfo: { kubeletVersion: 'v1.32.0-peapod', containerRuntimeVersion: 'docker://28.2.2', osImage: 'Debian', kernelVersion: '6.1', operatingSystem: 'linux', architecture: 'amd64', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '' },
      },
    });
  });

  afterAll(async () => {
    await server.kill();
    removeDir(server.dataDir);
    kubectl.cleanup();
  });

  test('create -f with strict validation, and an unknown field refused', () => {
    const r = kubectl.run(['create', '-f', manifest]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('pod/web created');
    const bad = manifest.replace('pod.yaml', 'bad.yaml');
    fs.writeFileSync(bad, fs.readFileSync(manifest, 'utf8').replace('name: web', 'name: bad').replace('    command:', '    imagePullPolice: Always\n    command:'));
    const refused = kubectl.run(['create', '-f', bad]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('unknown field "spec.containers[0].imagePullPolice"');
  });

  test('get pods, -o wide, -o yaml, get nodes', () => {
    const list = kubectl.run(['get', 'pods']);
    expect(list.code).toBe(0);
    const [header, row] = list.stdout.trim().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(row.split(/\s{2,}/).slice(0, 4)).toEqual(['web', '0/1', 'Pending', '0']);
    const wide = kubectl.run(['get', 'pods', '-o', 'wide']);
    expect(wide.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    const yaml = kubectl.run(['get', 'pod', 'web', '-o', 'yaml']);
    expect(yaml.stdout).toContain('name: web');
    expect(yaml.stdout).toContain('terminationGracePeriodSeconds: 20');
    expect(yaml.stdout).toMatch(/uid: [0-9a-f-]{36}/);
    const nodes = kubectl.run(['get', 'nodes']);
    expect(nodes.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    expect(nodes.stdout.split('\n')[1].split(/\s{2,}/).slice(0, 3)).toEqual(['n1', 'Ready', '<none>']);
  });

  test('get --raw of the health endpoints', () => {
    const verbose = kubectl.run(['get', '--raw', '/readyz?verbose']);
    expect(verbose).toMatchObject({ code: 0, stdout: `[+]ping ok\n[+]${process.env.PEAPOD_TEST_STORAGE === 'etcd' ? 'etcd' : 'sqlite'} ok\n[+]shutdown ok\nreadyz check passed\n` });
    expect(kubectl.run(['get', '--raw', '/livez/ping']).stdout).toBe('ok');
    const unknown = kubectl.run(['get', '--raw', '/readyz?exclude=nope&verbose']);
    expect(unknown.stdout).toContain('warn: some health checks cannot be excluded: no matches for "nope"');
  });

  test('api-resources', () => {
    const r = kubectl.run(['api-resources']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('pods '))).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/);
    expect(lines.find((l) => l.startsWith('nodes '))).toMatch(/^nodes\s+no\s+v1\s+false\s+Node$/);
  });

  test('describe pod shows its events', async () => {
    const pod = (await call(server.url, 'GET', '/api/v1/namespaces/default/pods/web')).body;
    const now = rfc3339(new Date());
    const postEvent = async (name: string, pod: { name: string; uid: string }, reason: string, message: string, component: string): Promise<void> => {
      const res = await call(server.url, 'POST', '/api/v1/namespaces/default/events', {
        metadata: { name, namespace: 'default' },
        involvedObject: { kind: 'Pod', namespace: 'default', apiVersion: 'v1', ...pod },
        reason,
        message,
        type: 'Normal',
        source: { component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
      expect(res.status).toBe(201);
    };
    await postEvent('web.1', { name: 'web', uid: pod.metadata.uid }, 'Scheduled', 'Successfully assigned default/web to n1', 'default-scheduler');
    // Another pod's event, whose message names this pod and its uid: only its involvedObject tells them apart.
    await postEvent('web-2.1', { name: 'web-2', uid: 'b6f0a3c1-5d1e-4c7a-9f3e-2a8d7c6b5e4f' }, 'Killing', `Stopping container beside web (${pod.metadata.uid as string})`, 'kubelet');
    const r = kubectl.run(['describe', 'pod', 'web']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Name:\s+web/);
    expect(r.stdout).toMatch(/Status:\s+Pending/);
    expect(r.stdout).toMatch(/Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned default\/web to n1/);
    expect(r.stdout).not.toMatch(/Killing/);
  });

  test('get pods -w prints changes as they happen', async () => {
    const w = kubectl.start(['get', 'pods', '-w']);
    try {
      await waitFor(() => w.output().includes('web'));
      await call(server.url, 'POST', '/api/v1/namespaces/default/pods', {
        metadata: { name: 'watched' },
        spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }] },
      });
      await waitFor(() => /watched\s+0\/1\s+Pending/.test(w.output()));
    } finally {
      w.stop();
    }
  });

  test('delete --grace-period=5 --wait=false on a bound pod: Terminating with both deletion fields', async () => {
    const b = await call(server.url, 'POST', '/api/v1/namespaces/default/pods/web/binding', { metadata: { name: 'web' }, target: { kind: 'Node', name: 'n1' } });
    expect(b.status).toBe(201);
    const r = kubectl.run(['delete', 'pod', 'web', '--grace-period=5', '--wait=false']);
    expect(r.stdout.trim()).toBe('pod "web" deleted');
    const list = kubectl.run(['get', 'pods']);
    expect(list.stdout).toMatch(/web\s+0\/1\s+Terminating/);
    const pod = JSON.parse(kubectl.run(['get', 'pod', 'web', '-o', 'json']).stdout);
    expect(pod.metadata.deletionGracePeriodSeconds).toBe(5);
    expect(pod.metadata.deletionTimestamp).toMatch(/Z$/);
  });

  test('delete --grace-period=0 --force: gone at once, and the name is free again', () => {
    const r = kubectl.run(['delete', 'pod', 'web', '--grace-period=0', '--force']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Immediate deletion does not wait for confirmation');
    expect(r.stdout).toContain('pod "web" force deleted');
    expect(kubectl.run(['get', 'pod', 'web']).stderr).toContain('Error from server (NotFound): pods "web" not found');
    expect(kubectl.run(['create', '-f', manifest]).stdout.trim()).toBe('pod/web created');
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
