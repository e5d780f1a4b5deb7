// Every peactl command against a real apiserver process, asserting output and exit codes.

import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { microTime, rfc3339 } from '@peapod/api';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { bindPod, hasScript, nodeObject, peactlFor, peactlOnTerminal, postJson, sendJson, startPeactl } from './testing/process';
import type { Running } from './testing/process';

// Each test starts peactl several times: up to 3 s a test on an idle machine, over jest's
// default 5 s on a busy one.
jest.setTimeout(60_000);

let server: RunningApiServer;
let run: ReturnType<typeof peactlFor>;
let dir: string;
const running: Running[] = [];

function pod(name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra } });
}

async function boundPod(name: string, node: string, grace = 30): Promise<void> {
  expect(run(['create', '-f', '-'], { input: pod(name, { terminationGracePeriodSeconds: grace }) }).code).toBe(0);
  expect(await bindPod(server.url, 'default', name, node)).toBeLessThan(300);
}

beforeAll(async () => {
  server = await startApiServer();
  run = peactlFor(server.url);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peactl-manifests-'));
  for (const n of ['n1', 'n2']) expect(await postJson(server.url, '/api/v1/nodes', nodeObject(n))).toBe(201);
}, 30_000);

afterEach(() => {
  for (const r of running.splice(0)) r.kill();
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('create and apply', () => {
  it('creates from files, directories, multi-document YAML and JSON Lists', () => {
    fs.writeFileSync(path.join(dir, 'a.yaml'), `apiVersion: v1\nkind: Pod\nmetadata: {name: m1}\nspec: {containers: [{name: c, image: busybox}]}\n---\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: m2}\nspec: {containers: [{name: c, image: busybox}]}\n`);
    fs.writeFileSync(path.join(dir, 'b.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [JSON.parse(pod('m3'))] }));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a manifest');
    expect(run(['create', '-f', dir])).toEqual({ code: 0, stdout: 'pod/m1 created\npod/m2 created\npod/m3 created\n', stderr: '' });
    const again = run(['create', '-f', path.join(dir, 'a.yaml')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`Error from server (AlreadyExists): error when creating "${path.join(dir, 'a.yaml')}": pods "m1" already exists\nError from server (AlreadyExists): error when creating "${path.join(dir, 'a.yaml')}": pods "m2" already exists\n`);
    expect(run(['create', '-f', '-'], { input: '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad"},"spec":{"containers":[]}}' })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'The Pod "bad" is invalid: spec.containers: Required value\n',
    });
    expect(run(['create', '-f', '/nonexistent.yaml']).stderr).toBe('error: the path "/nonexistent.yaml" does not exist\n');
    expect(run(['create', '-f', '-'], { input: 'metadata: {name: x}\n' }).stderr).toBe('error: error validating "STDIN": error validating data: [apiVersion not set, kind not set]\n');
  });

  it('applies: created, unchanged, configured (three-way), keeping the last-applied annotation', () => {
    const file = path.join(dir, 'apply.yaml');
    const write = (labels: string, image: string): void =>
      fs.writeFileSync(file, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ap\n  labels: {${labels}}\nspec:\n  containers:\n  - name: c\n    image: ${image}\n`);
    write('a: "1", b: "2"', 'busybox');
    expect(run(['apply', '-f', file]).stdout).toBe('pod/ap created\n');
    expect(run(['apply', '-f', file]).stdout).toBe('pod/ap unchanged\n');
    write('a: "1", c: "3"', 'busybox:2');
    expect(run(['apply', '-f', file]).stdout).toBe('pod/ap configured\n');
    const live = JSON.parse(run(['get', 'pod', 'ap', '-o', 'json']).stdout) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { containers: { image: string; imagePullPolicy: string }[] } };
    expect(live.metadata.labels).toEqual({ a: '1', c: '3' });
    expect(live.spec.containers[0].image).toBe('busybox:2');
    // Server defaults inside the container survive: the patch merges containers by name.
    expect(live.spec.containers[0].imagePullPolicy).toBeDefined();
    expect(JSON.parse(live.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])).toMatchObject({ metadata: { labels: { a: '1', c: '3' } } });
    expect(run(['apply', '-f', file]).stdout).toBe('pod/ap unchanged\n');
  });

  it('applies server-side: ownership by field manager, kubectl\'s conflict message, --force-conflicts, a field removed; -o yaml hides managedFields', () => {
    const file = path.join(dir, 'ssa.yaml');
    const write = (labels: string): void => fs.writeFileSync(file, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ssa\n  labels: {${labels}}\nspec:\n  containers:\n  - name: c\n    image: busybox\n`);
    write('team: "a", tier: "web"');
    expect(run(['apply', '--server-side', '-f', file])).toEqual({ code: 0, stdout: 'pod/ssa serverside-applied\n', stderr: '' });
    write('team: "b"');
    const conflict = run(['apply', '--server-side', '--field-manager=other', '-f', file]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr.split('\n')[0]).toBe('error: Apply failed with 1 conflict: conflict with "peactl": .metadata.labels.team');
    expect(conflict.stderr).toContain('--force-conflicts');
    expect(run(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', file]).stdout).toBe('pod/ssa serverside-applied\n');
    // peactl no longer configures tier (its own alone: removed) nor team (taken by other: kept)
    write('');
    expect(run(['apply', '--server-side', '-f', file]).code).toBe(0);
    const live = JSON.parse(run(['get', 'pod', 'ssa', '-o', 'json', '--show-managed-fields']).stdout) as { metadata: { labels: Record<string, string>; managedFields: { manager: string; operation: string }[] } };
    expect(live.metadata.labels).toEqual({ team: 'b' });
    expect(live.metadata.managedFields.map((e) => `${e.manager}/${e.operation}`)).toEqual(['other/Apply', 'peactl/Apply']);
    expect(run(['get', 'pod', 'ssa', '-o', 'yaml']).stdout).not.toContain('managedFields');
  });
});

describe('run, describe, wait', () => {
  it('runs a pod with a command, and describes it with its events', async () => {
    expect(run(['run', 'sleeper', '--image=busybox', '--restart=Never', '--', 'sleep', '100'])).toEqual({ code: 0, stdout: 'pod/sleeper created\n', stderr: '' });
    const obj = JSON.parse(run(['get', 'pod', 'sleeper', '-o', 'json']).stdout) as { metadata: { labels: Record<string, string>; uid: string }; spec: { restartPolicy: string; containers: { name: string; image: string; args: string[] }[] } };
    expect(obj.metadata.labels).toEqual({ run: 'sleeper' });
    expect(obj.spec.restartPolicy).toBe('Never');
    expect(obj.spec.containers[0]).toMatchObject({ name: 'sleeper', image: 'busybox', args: ['sleep', '100'] });
    expect(
      await postJson(server.url, '/api/v1/namespaces/default/events', {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'sleeper.1' },
        involvedObject: { kind: 'Pod', name: 'sleeper', namespace: 'default', uid: obj.metadata.uid },
        type: 'Warning',
        reason: 'FailedScheduling',
        message: '0/2 nodes are available: 2 Insufficient cpu.',
        source: { component: 'default-scheduler' },
        firstTimestamp: new Date().toISOString(),
        lastTimestamp: new Date().toISOString(),
        count: 1,
      }),
    ).toBe(201);
    const d = run(['describe', 'pod', 'sleeper']).stdout;
    // The ServiceAccount admission runs the pod as `default`, which kubectl shows as its Service Account.
    expect(d).toMatch(/^Name:             sleeper\nNamespace:        default\nPriority:         0\nService Account:  default\nNode:             <none>\nLabels:           run=sleeper\n/);
    expect(d).toContain('Containers:\n  sleeper:\n    Image:      busybox\n');
    expect(d).toContain('    Args:\n      sleep\n      100\n');
    expect(d).toMatch(/Events:\n  Type     Reason            Age\s+From               Message\n  ----     ------            ----\s+----               -------\n  Warning  FailedScheduling  \d+s\s+default-scheduler  0\/2 nodes are available: 2 Insufficient cpu.\n$/);
    expect(run(['describe', 'node', 'n1']).stdout).toMatch(/^Name:               n1\nRoles:              <none>\n/);
    expect(run(['describe', 'pod', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "nope" not found\n' });
  });

  it('waits for a condition, and times out with kubectl\'s message', async () => {
    expect(run(['run', 'ready', '--image=busybox']).code).toBe(0);
    const waiting = startPeactl(server.url, ['wait', '--for=condition=Ready', 'pod/ready', '--timeout=20s']);
    running.push(waiting);
    await new Promise((r) => setTimeout(r, 500));
    const status = { status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    expect(await sendJson(server.url, 'PATCH', '/api/v1/namespaces/default/pods/ready/status', status, 'application/merge-patch+json')).toBe(200);
    expect(await waiting.exited).toBe(0);
    expect(waiting.stdout()).toBe('pod/ready condition met\n');
    expect(run(['wait', '--for=condition=Ready', 'pod/m1', '--timeout=1s'])).toEqual({ code: 1, stdout: '', stderr: 'error: timed out waiting for the condition on pods/m1\n' });
    expect(run(['wait', '--for=delete', 'pod/never-existed', '--timeout=1s'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('delete', () => {
  it('removes unbound pods at once, by name, file, selector and --all', () => {
    expect(run(['delete', 'pod', 'm1'])).toEqual({ code: 0, stdout: 'pod "m1" deleted\n', stderr: '' });
    expect(run(['delete', '-f', path.join(dir, 'b.json')]).stdout).toBe('pod "m3" deleted\n');
    expect(run(['delete', 'pods', '-l', 'app=nothing'])).toEqual({ code: 0, stdout: '', stderr: 'No resources found\n' });
    expect(run(['delete', 'pod', 'm1'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "m1" not found\n' });
    expect(run(['delete', 'pod', 'm1', '--ignore-not-found']).code).toBe(0);
    expect(run(['delete', 'pod']).stderr).toBe('error: resource(s) were provided, but no name was specified\n');
    expect(run(['delete', 'pod', 'm2', '--grace-period=x']).stderr).toMatch(/^error: invalid argument "x" for "grace-period" flag/);
  });

  it('force-deletes a bound pod at once with kubectl\'s warning', async () => {
    await boundPod('forced', 'n1');
    expect(run(['delete', 'pod', 'forced', '--force', '--grace-period=0'])).toEqual({
      code: 0,
      stdout: 'pod "forced" force deleted\n',
      stderr: 'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n',
    });
    expect(run(['get', 'pod', 'forced']).code).toBe(1);
  });

  it('shows a bound pod Terminating and, with --timeout, ends with a clear message', async () => {
    await boundPod('slow', 'n1', 30);
    const r = run(['delete', 'pod', 'slow', '--grace-period=3', '--timeout=2s']);
    expect(r).toEqual({ code: 1, stdout: 'pod "slow" deleted\n', stderr: 'error: timed out waiting for the condition on pods/slow\n' });
    expect(run(['get', 'pod', 'slow']).stdout).toMatch(/^NAME   READY   STATUS        RESTARTS   AGE\nslow   0\/1     Terminating   0          \d+s\n$/);
    const d = run(['describe', 'pod', 'slow']).stdout;
    expect(d).toMatch(/\nStatus:\s+Terminating \(lasts \d+s\)\nTermination Grace Period:\s+3s\n/);
    expect(d).toContain('Node:                      n1/');
  });

  const onTerminal = hasScript() ? it : it.skip;
  onTerminal('on a terminal, shows the time left of the grace period while waiting', async () => {
    await boundPod('slow2', 'n1', 30);
    const r = peactlOnTerminal(server.url, ['delete', 'pod', 'slow2', '--grace-period=5', '--timeout=2s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('pod "slow2" deleted');
    expect(r.stdout).toMatch(/waiting for pod\/slow2 to be deleted \(grace period: [345]s left\)/);
    expect(r.stdout).toMatch(/error: timed out waiting for the condition on pods\/slow2\r?\n$/);
  });

  it('waits until the node finishes the pod, then returns', async () => {
    await boundPod('finishing', 'n2', 30);
    const deleting = startPeactl(server.url, ['delete', 'pod', 'finishing', '--now']);
    running.push(deleting);
    await deleting.waitForOutput(/pod "finishing" deleted\n/);
    // The agent's part: remove the pod once its containers are gone.
    const res = await fetch(`${server.url}/api/v1/namespaces/default/pods/finishing`, { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body: '{"gracePeriodSeconds":0}' });
    expect(res.status).toBeLessThan(300);
    expect(await deleting.exited).toBe(0);
  });

  it('prints the pod\'s events as they arrive while waiting, in order, the last ones even when written just before the pod went', async () => {
    await boundPod('timeline', 'n2', 30);
    const old = { reason: 'Scheduled', message: 'before the delete', at: new Date(Date.now() - 5000) };
    const uid = JSON.parse(run(['get', 'pod', 'timeline', '-o', 'json']).stdout).metadata.uid as string;
    const event = (reason: string, message: string, at: Date) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: 'timeline.' },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'timeline', namespace: 'default', uid },
      reason,
      message,
      type: 'Normal',
      source: { component: 'peapod-agent', host: 'n2' },
      firstTimestamp: rfc3339(at),
      lastTimestamp: rfc3339(at),
      eventTime: microTime(at),
      action: reason,
      reportingComponent: 'peapod-agent',
      reportingInstance: 'n2',
      count: 1,
    });
    expect(await postJson(server.url, '/api/v1/namespaces/default/events', event(old.reason, old.message, old.at))).toBe(201);
    const deleting = startPeactl(server.url, ['delete', 'pod', 'timeline']);
    running.push(deleting);
    await deleting.waitForOutput(/pod "timeline" deleted\n/);
    expect(await postJson(server.url, '/api/v1/namespaces/default/events', event('Killing', 'Stopping container c', new Date()))).toBe(201);
    await deleting.waitForOutput(/Killing  Stopping container c\n/);
    expect(await postJson(server.url, '/api/v1/namespaces/default/events', event('SentStopSignal', 'Sent SIGTERM to container c', new Date()))).toBe(201);
    // The node's last event, then at once the pod's removal.
    expect(await postJson(server.url, '/api/v1/namespaces/default/events', event('ContainersGone', 'All containers of the pod are gone', new Date()))).toBe(201);
    await sendJson(server.url, 'DELETE', '/api/v1/namespaces/default/pods/timeline', { gracePeriodSeconds: 0 });
    expect(await deleting.exited).toBe(0);
    const lines = deleting.stdout().split('\n').filter(Boolean);
    expect(lines[0]).toBe('pod "timeline" deleted');
    expect(lines.slice(1).map((l) => l.replace(/  \d\d:\d\d:\d\d\.\d{3}  /, ' TIME '))).toEqual([
      'pod/timeline TIME Killing  Stopping container c',
      'pod/timeline TIME SentStopSignal  Sent SIGTERM to container c',
      'pod/timeline TIME ContainersGone  All containers of the pod are gone',
    ]);
  });
});

describe('nodes', () => {
  it('cordons and uncordons', () => {
    expect(run(['cordon', 'n2']).stdout).toBe('node/n2 cordoned\n');
    expect(run(['cordon', 'n2']).stdout).toBe('node/n2 already cordoned\n');
    expect(run(['get', 'node', 'n2']).stdout).toMatch(/\nn2     Ready,SchedulingDisabled   /);
    expect(run(['uncordon', 'n2']).stdout).toBe('node/n2 uncordoned\n');
    expect(run(['cordon', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): nodes "nope" not found\n' });
  });

  it('drains: cordons, deletes the pods gracefully, waits until they are gone', async () => {
    await boundPod('d1', 'n2', 30);
    await boundPod('d2', 'n2', 30);
    const draining = startPeactl(server.url, ['drain', 'n2', '--timeout=20s']);
    running.push(draining);
    await draining.waitForOutput(/evicting pod default\/d2\n/);
    for (const name of ['d1', 'd2']) {
      const pod = (await (await fetch(`${server.url}/api/v1/namespaces/default/pods/${name}`)).json()) as { metadata: { deletionGracePeriodSeconds?: number } };
      expect(pod.metadata.deletionGracePeriodSeconds).toBe(30);
      await fetch(`${server.url}/api/v1/namespaces/default/pods/${name}`, { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body: '{"gracePeriodSeconds":0}' });
    }
    expect(await draining.exited).toBe(0);
    expect(draining.stdout()).toBe('node/n2 cordoned\nevicting pod default/d1\nevicting pod default/d2\npod/d1 evicted\npod/d2 evicted\nnode/n2 drained\n');
  });
});

describe('get -w', () => {
  it('prints the table, then a row for each change', async () => {
    const watching = startPeactl(server.url, ['get', 'pods', '-l', 'app=watched', '-w']);
    running.push(watching);
    await new Promise((r) => setTimeout(r, 700));
    expect(run(['create', '-f', '-'], { input: pod('watched') }).code).toBe(0);
    await watching.waitForOutput(/watched /);
    expect(run(['delete', 'pod', 'watched']).code).toBe(0);
    await watching.waitForOutput(/watched [^\n]*\n[^\n]*watched /);
    expect(watching.stdout()).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nwatched   0\/1     Pending   0          \d+s\n/);
  });
});

describe('logs', () => {
  it('explains when a pod has no node to read logs from', () => {
    const r = run(['logs', 'sleeper']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error from server \(BadRequest\): .*sleeper.*\n$/);
    expect(run(['logs', 'nope']).stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
  });
});

describe('version, cluster-info, api-resources, completion', () => {
  it('prints versions and where the control plane runs', () => {
    expect(run(['version']).stdout).toMatch(/^Client Version: v\d+\.\d+\.\d+\nServer Version: v1\.32\.\d+\S*\n$/);
    expect(run(['version', '--client']).stdout).toMatch(/^Client Version: v\d+\.\d+\.\d+\n$/);
    expect(run(['cluster-info']).stdout).toBe(`Kubernetes control plane is running at ${server.url}\n`);
    expect(run(['api-resources']).stdout).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\n(.*\n)*pods\s+po\s+v1\s+true\s+Pod\n/);
  });

  // The flag grammars (@peapod/client/flag-values) load nothing else: they may come.
  it('loads no client library, ws, yaml or ajv for commands that do not connect', () => {
    const { isolatedEnv, peactlMain } = require('./testing/process') as typeof import('./testing/process');
    const probe = (args: string[]): string[] => {
      const script = [
        `process.argv = [process.argv[0], ${JSON.stringify(peactlMain)}, ...${JSON.stringify(args)}];`,
        `process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(Object.keys(require.cache).filter((f) => /node_modules[\\/](ws|yaml|ajv)[\\/]|[\\/]client[\\/]dist[\\/](?!flag-values)|[\\/]api[\\/]dist[\\/]index/.test(f)))));`,
        `require(${JSON.stringify(peactlMain)});`,
      ].join('\n');
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: isolatedEnv(dir) });
      return JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('\nLOADED ') + 8)) as string[];
    };
    expect(probe(['version', '--client'])).toEqual([]);
    expect(probe(['completion', 'bash'])).toEqual([]);
    expect(probe(['--server', server.url, 'get', 'pods']).length).toBeGreaterThan(0);
  });

  it('prints completion scripts, and completes names from the server', () => {
    expect(run(['completion', 'bash']).stdout).toContain('complete -o default -F _peactl peactl');
    expect(run(['completion', 'zsh']).stdout).toMatch(/^#compdef peactl\n/);
    expect(run(['completion', 'fish']).stderr).toBe('error: Unsupported shell type "fish".\n');
    const { peactl } = require('./testing/process') as typeof import('./testing/process');
    expect(peactl(['__complete', '--server', server.url, 'get', 'pods', 'sl']).stdout).toBe('sleeper\nslow\nslow2\n');
    expect(peactl(['__complete', '--server', server.url, 'cordon', '']).stdout).toBe('n1\nn2\n');
  });
});
