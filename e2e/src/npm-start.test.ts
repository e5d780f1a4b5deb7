// `npm start` (scripts/start.js) as a user runs it, on real Docker: one Ready node, a pod
// from YAML, graceful deletion, exec and port-forward, a service reached by name from a pod (as root, where the
// proxy and the cluster DNS run), and Ctrl-C leaving no process, container or rule behind.
import { spawn, spawnSync } from 'child_process';
import type { ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Client, loadKubeconfig } from '@peapod/client';
import type { Event, Node, Pod, Service } from '@peapod/api';
import {
  assertDocker,
  cleanupPods,
  ensureTestImages,
  freePort,
  kubectl,
  kubectlPath,
  nodeReady,
  peactl,
  peactlRun,
  podContainers,
  podRunning,
  repoRoot,
  runId,
  tableRows,
  testImage,
} from './support/cluster';
import { processAlive, run, runOk } from './support/process';
import { checkStreams } from './support/streams';
import { report, seconds, waitFor, within } from './support/wait';

const id = runId();
/** start.js runs the service proxy and the cluster DNS where it may program nftables: as root. */
const withServices = process.getuid?.() === 0 && spawnSync('nft', ['list', 'tables'], { stdio: 'ignore' }).status === 0;
const nodeName = `e2e-${id}`;
let dataDir = '';
let kubeconfig = '';
let start: ChildProcess | undefined;
let startExited: Promise<number | null> = Promise.resolve(null);
let output = '';
let client: Client | undefined;

/** The pids start.js reports for the components it started ("started NAME (pid N)"). */
function componentPids(): Map<string, number> {
  const pids = new Map<string, number>();
  for (const m of output.matchAll(/started (\S+) \(pid (\d+)\)/g)) pids.set(m[1], Number(m[2]));
  return pids;
}

function podYaml(name: string): string {
  return [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    `  name: ${name}`,
    '  labels:',
    '    app: e2e',
    'spec:',
    '  containers:',
    '    - name: main',
    `      image: ${testImage}`,
    '      imagePullPolicy: Never',
    '      command: ["sleep", "3600"]',
    '',
  ].join('\n');
}

async function createPodFromYaml(name: string): Promise<void> {
  const file = path.join(dataDir, `${name}.yaml`);
  fs.writeFileSync(file, podYaml(name));
  expect(await peactl(kubeconfig, ['create', '-f', file])).toContain(`pod/${name} created`);
}

async function waitRunning(name: string): Promise<Pod> {
  const api = client as Client;
  return waitFor(`pod ${name} Running`, 60_000, async () => {
    const pod = await api.get<Pod>('pods', name, { namespace: 'default' });
    return podRunning(pod) ? pod : undefined;
  });
}

beforeAll(async () => {
  await assertDocker();
  await ensureTestImages();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-e2e-start-'));
  kubeconfig = path.join(dataDir, 'kubeconfig');
  const [apiPort, agentPort] = [await freePort(), await freePort()];
  const startedAt = Date.now();
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'scripts/start.js'), '--data-dir', dataDir, '--port', String(apiPort), '--agent-port', String(agentPort), '--node-name', nodeName],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  start = child;
  startExited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  // "cluster ready" and the lines on how to use the cluster are separate writes: the pipe
  // may hand them over apart, so wait for the last of those lines.
  await waitFor('"cluster ready" from scripts/start.js', 120_000, async () => {
    if (child.exitCode !== null) throw new Error(`start.js exited ${child.exitCode}:\n${output}`);
    return output.includes('cluster ready') && output.includes('Ctrl-C stops the cluster');
  }, 100);
  report(`npm start (scripts/start.js): one Ready node ${seconds(Date.now() - startedAt)} after start`);
  client = new Client(loadKubeconfig({ path: kubeconfig }).clientOptions());
}, 180_000);

afterAll(async () => {
  client?.close();
  // Whatever happened above: stop start.js (SIGINT, then SIGKILL), kill any component it
  // left, and remove the node's containers.
  if (start && start.exitCode === null && start.signalCode === null) {
    start.kill('SIGINT');
    const timer = setTimeout(() => start?.kill('SIGKILL'), 30_000);
    await startExited;
    clearTimeout(timer);
  }
  for (const pid of componentPids().values()) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  await cleanupPods([nodeName]);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}, 90_000);

test('it writes a kubeconfig, says how to use it, and logs each component to DATA/logs', () => {
  expect(fs.existsSync(kubeconfig)).toBe(true);
  expect(output).toContain(`peactl --kubeconfig ${kubeconfig} get nodes`);
  expect(output).toContain(`kubectl --kubeconfig ${kubeconfig} get nodes`);
  const services = withServices ? ['dns', 'proxy'] : [];
  expect([...componentPids().keys()].sort()).toEqual(['agent', 'apiserver', 'controller-manager', ...services, 'scheduler'].sort());
  for (const name of componentPids().keys()) expect(fs.existsSync(path.join(dataDir, 'logs', `${name}.log`))).toBe(true);
});

test('peactl and kubectl get nodes show one Ready node', async () => {
  for (const out of [await peactl(kubeconfig, ['get', 'nodes', '--no-headers']), await kubectl(kubeconfig, ['get', 'nodes', '--no-headers'])]) {
    const rows = tableRows(out);
    expect(rows).toHaveLength(1);
    expect(rows[0].slice(0, 2)).toEqual([nodeName, 'Ready']);
  }
  const node = await (client as Client).get<Node>('nodes', nodeName);
  expect(nodeReady(node)).toBe(true);
});

test('a pod created from YAML runs, and delete --grace-period=5 takes it through Terminating to gone', async () => {
  await createPodFromYaml('sleeper');
  const pod = await waitRunning('sleeper');
  expect(pod.spec.nodeName).toBe(nodeName);
  expect(await podContainers(nodeName)).toHaveLength(2); // infra + main

  const deleting = peactlRun(kubeconfig, ['delete', 'pod', 'sleeper', '--grace-period=5']);
  await waitFor('pod sleeper shown as Terminating', 10_000, async () => {
    const rows = tableRows(await peactl(kubeconfig, ['get', 'pod', 'sleeper', '--no-headers']));
    return rows[0]?.[2] === 'Terminating';
  }, 200);
  const deleted = await deleting;
  expect(deleted.code).toBe(0);
  expect(deleted.stdout).toContain('pod "sleeper" deleted');
  const gone = await peactlRun(kubeconfig, ['get', 'pod', 'sleeper']);
  expect(gone.code).not.toBe(0);
  expect(gone.stderr).toMatch(/not found/i);
  await waitFor('the pod containers removed', 15_000, async () => (await podContainers(nodeName)).length === 0);
}, 120_000);

test('peactl run: the scheduler picks the node and the pod runs there', async () => {
  const r = await peactlRun(kubeconfig, ['run', 'runner', '--image=peapod/busybox:latest', '--restart=Never', '--', 'sleep', '3600']);
  expect(r.stdout.trim()).toBe('pod/runner created');
  const pod = await waitRunning('runner');
  expect(pod.spec.nodeName).toBe(nodeName);
  await waitFor('a Scheduled event for runner', 10_000, async () => {
    const events = await (client as Client).list<Event>('events', { namespace: 'default', fieldSelector: 'involvedObject.name=runner' });
    return events.items.some((e) => e.reason === 'Scheduled' && e.message === `Successfully assigned default/runner to ${nodeName}`);
  });
  expect((await peactlRun(kubeconfig, ['delete', 'pod', 'runner', '--grace-period=1'])).code).toBe(0);
}, 60_000);

test('kubectl and peactl exec into a pod, and kubectl port-forward reaches its server', async () => {
  const file = path.join(dataDir, 'web.yaml');
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: web',
      'spec:',
      '  terminationGracePeriodSeconds: 1',
      '  containers:',
      '    - name: main',
      `      image: ${testImage}`,
      '      imagePullPolicy: Never',
      // Bound to 127.0.0.1 inside the pod: only port-forward (in the pod's network) reaches it.
      '      command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www"]',
      '',
    ].join('\n'),
  );
  await peactl(kubeconfig, ['create', '-f', file]);
  await waitRunning('web');
  const streams = await checkStreams(kubeconfig, 'web', '/www/index.html', 8080, '/index.html');
  expect(streams).toEqual({ catOutput: 'hello\n', kubectlExitCode: 3, peactlExitCode: 3, forwarded: 'hello\n' });
  expect((await peactlRun(kubeconfig, ['delete', 'pod', 'web', '--grace-period=1'])).code).toBe(0);
}, 120_000);

(withServices ? test : test.skip)('a pod reaches a service by its name and its cluster IP (the proxy and the cluster DNS)', async () => {
  const file = path.join(dataDir, 'greeter.yaml');
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: greeter',
      '  labels:',
      '    app: greeter',
      'spec:',
      '  containers:',
      '    - name: main',
      `      image: ${testImage}`,
      '      imagePullPolicy: Never',
      '      command: ["sh", "-c", "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 8080 -h /www"]',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: greeter',
      'spec:',
      '  selector:',
      '    app: greeter',
      '  ports:',
      '    - port: 80',
      '      targetPort: 8080',
      '',
    ].join('\n'),
  );
  await peactl(kubeconfig, ['create', '-f', file]);
  await waitRunning('greeter');
  const clusterIP = (await (client as Client).get<Service>('services', 'greeter', { namespace: 'default' })).spec?.clusterIP;
  await createPodFromYaml('asker');
  await waitRunning('asker');
  const [container] = (await run('docker', ['ps', '-q', '--filter', `label=peapod.node=${nodeName}`, '--filter', 'label=peapod.pod.name=asker', '--filter', 'label=peapod.container=main'])).stdout.split('\n');
  const answer = await waitFor('the service answering from the pod', 30_000, async () => {
    const r = await run('docker', ['exec', container, 'sh', '-c', `timeout 3 wget -qO- http://greeter/ && timeout 3 wget -qO- http://${clusterIP}/`]);
    return r.code === 0 ? r.stdout : undefined;
  }, 1000);
  expect(answer.match(/hello from greeter/g)).toHaveLength(2);
  expect(await peactl(kubeconfig, ['get', 'endpoints', 'kube-dns', '-n', 'kube-system', '--no-headers'])).toMatch(/kube-dns\s+\S+:53/);
  expect((await peactlRun(kubeconfig, ['delete', 'pod', 'greeter', 'asker', '--grace-period=1'])).code).toBe(0);
}, 120_000);

test('peactl and kubectl verify the server: with another cluster\'s CA they are refused', async () => {
  const other = path.join(dataDir, 'other-ca');
  await runOk(process.execPath, [path.join(repoRoot, 'packages/apiserver/dist/main.js'), 'bootstrap', '--dir', other, '--server', loadKubeconfig({ path: kubeconfig }).clientOptions().server]);
  const wrongCa = path.join(other, 'admin.kubeconfig');
  for (const r of [await peactlRun(wrongCa, ['get', 'nodes']), await run(kubectlPath, ['--kubeconfig', wrongCa, 'get', 'nodes'])]) {
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/certificate|x509/i);
  }
});

test('no secret (token or key) appears in any log', () => {
  const pki = path.join(dataDir, 'pki');
  const secrets = fs
    .readFileSync(path.join(pki, 'tokens.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(',')[0]);
  const key = fs.readFileSync(path.join(pki, 'apiserver.key'), 'utf8').split('\n')[1];
  for (const name of componentPids().keys()) {
    const log = fs.readFileSync(path.join(dataDir, 'logs', `${name}.log`), 'utf8');
    for (const secret of [...secrets, key]) expect(log.includes(secret)).toBe(false);
  }
  expect(output.includes(secrets[0])).toBe(false);
});

test('SIGINT stops every component and removes the pod containers', async () => {
  await createPodFromYaml('left-running');
  await waitRunning('left-running');
  expect((await podContainers(nodeName)).length).toBeGreaterThan(0);
  const pids = [...componentPids().values()];
  start?.kill('SIGINT');
  const code = await within(startExited, 40_000, 'still running after 40 s');
  expect(code).toBe(0);
  expect(output).toContain('cluster stopped');
  expect(pids.filter(processAlive)).toEqual([]);
  expect(await podContainers(nodeName)).toEqual([]);
  // The proxy took its nftables table with it.
  expect(spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout).not.toContain(`peapod-proxy-${nodeName}`);
}, 90_000);
