// peactl get against a real apiserver, and beside the real kubectl on the same pods.

import { closedPort, startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { bindPod, hasKubectl, kubectlFor, nodeObject, peactlFor, postJson } from './testing/process';

// Each test starts peactl (and kubectl) several times, up to ten: on a busy machine that is
// more than jest's default 5 s (the chunk-size test once took longer in CI).
jest.setTimeout(60_000);

let server: RunningApiServer;
let run: ReturnType<typeof peactlFor>;

const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, tier: fe}
spec:
  terminationGracePeriodSeconds: 20
  containers:
  - name: web
    image: busybox
    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 2}
    livenessProbe: {exec: {command: [test, -f, /tmp/alive]}, initialDelaySeconds: 5}
    startupProbe: {tcpSocket: {port: http}, failureThreshold: 30}
    ports: [{name: http, containerPort: 8080}]
  initContainers:
  - name: setup
    image: busybox
    command: [sh, -c, 'echo ready']
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  labels: {app: db}
spec:
  containers:
  - name: db
    image: busybox
`;

beforeAll(async () => {
  server = await startApiServer();
  run = peactlFor(server.url);
  expect(await postJson(server.url, '/api/v1/nodes', nodeObject('n1'))).toBe(201);
  expect(run(['create', '-f', '-'], { input: manifest }).stdout).toBe('pod/web created\npod/db created\n');
  expect(await bindPod(server.url, 'default', 'web', 'n1')).toBeLessThan(300);
  expect(run(['create', 'namespace', '-f', '-'], { input: '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}' }).code).toBe(1);
  expect(run(['create', '-f', '-'], { input: '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}' }).stdout).toBe('namespace/team created\n');
  expect(run(['run', 'other', '--image=busybox', '-n', 'team']).stdout).toBe('pod/other created\n');
}, 30_000);

afterAll(async () => {
  await server?.stop();
});

describe('get', () => {
  it('prints the pod table with kubectl columns, and wide adds IP and NODE', () => {
    const r = run(['get', 'pods']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME   READY   STATUS    RESTARTS   AGE$/);
    expect(lines[1]).toMatch(/^db     0\/1     Pending   0          \d+s$/);
    expect(lines[2]).toMatch(/^web    0\/1     Pending   0          \d+s$/);
    const wide = run(['get', 'pods', 'web', '-o', 'wide']).stdout.split('\n');
    expect(wide[0]).toMatch(/^NAME   READY   STATUS    RESTARTS   AGE\s+IP       NODE   NOMINATED NODE   READINESS GATES$/);
    expect(wide[1]).toMatch(/^web    0\/1     Pending   0          \d+s\s+<none>   n1     <none>           <none>$/);
  });

  it('filters by label and field selectors, across namespaces, with labels shown', () => {
    expect(run(['get', 'pods', '-l', 'app=db', '-o', 'name']).stdout).toBe('pod/db\n');
    expect(run(['get', 'pods', '--field-selector', 'spec.nodeName=n1', '-o', 'name']).stdout).toBe('pod/web\n');
    const all = run(['get', 'pods', '-A', '--show-labels']).stdout.split('\n');
    expect(all[0]).toMatch(/^NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE\s+LABELS$/);
    expect(all.slice(1, 4).map((l) => l.split(/\s+/).slice(0, 2).concat(l.split(/\s+/).slice(-1)))).toEqual([
      ['default', 'db', 'app=db'],
      ['default', 'web', 'app=web,tier=fe'],
      ['team', 'other', 'run=other'],
    ]);
    expect(run(['get', 'pods', '-n', 'team', '--no-headers']).stdout).toMatch(/^other   0\/1   Pending   0     \d+s\n$/);
  });

  it('lists in chunks of --chunk-size (500 by default, 0: one request), printing what one request prints', async () => {
    const lists = async (): Promise<number> => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return Number(/^apiserver_request_total\{verb="list",resource="pods",subresource="",code="200"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const counted = async (args: string[]): Promise<{ stdout: string; requests: number }> => {
      const before = await lists();
      const r = run(args);
      expect(r.code).toBe(0);
      return { stdout: r.stdout, requests: (await lists()) - before };
    };
    for (const output of [[], ['-o', 'name'], ['-o', 'wide', '--show-labels']]) {
      const whole = await counted(['get', 'pods', '-A', ...output, '--chunk-size', '0']);
      const paged = await counted(['get', 'pods', '-A', ...output, '--chunk-size', '1']);
      expect(whole.requests).toBe(1);
      expect(paged.requests).toBe(3);
      // Ages are to the second: the two runs may straddle one, and 9s to 10s widens the column.
      const ageless = (text: string) => text.replace(/\b\d+s\b/g, 'AGE').replace(/ {2,}/g, '   ');
      expect(ageless(paged.stdout)).toBe(ageless(whole.stdout));
      expect(await counted(['get', 'pods', '-A', ...output])).toMatchObject({ requests: 1 });
    }
    expect(run(['get', 'pods', '--chunk-size', 'x']).stderr).toBe('error: invalid argument "x" for "chunk-size" flag: strconv.ParseInt: parsing "x": invalid syntax\n');
  });

  it('prints nodes, namespaces and events tables', () => {
    expect(run(['get', 'nodes']).stdout).toMatch(/^NAME   STATUS   ROLES    AGE\s+VERSION\nn1     Ready    <none>   \d+s\s+\n$/);
    expect(run(['get', 'namespaces', '-o', 'name']).stdout).toContain('namespace/team\n');
    expect(run(['get', 'ns', 'team']).stdout).toMatch(/^NAME   STATUS   AGE\nteam   Active   \d+s\n$/);
    const events = run(['get', 'events', '-A']);
    expect(events.code).toBe(0);
  });

  it('prints objects as json, yaml, jsonpath; several as a List', () => {
    const one = JSON.parse(run(['get', 'pod', 'web', '-o', 'json']).stdout) as { kind: string; metadata: { name: string } };
    expect(one.kind).toBe('Pod');
    expect(one.metadata.name).toBe('web');
    const list = JSON.parse(run(['get', 'pods', '-o', 'json']).stdout) as { kind: string; apiVersion: string; items: { kind: string }[] };
    expect(list).toMatchObject({ kind: 'List', apiVersion: 'v1' });
    expect(list.items.map((i) => i.kind)).toEqual(['Pod', 'Pod']);
    expect(run(['get', 'pod/web', '-o', 'yaml']).stdout).toMatch(/^apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: "/);
    expect(run(['get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}']).stdout).toBe('db web');
    expect(run(['get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}{"\\n"}{end}']).stdout).toBe('db=\nweb=n1\n');
    expect(run(['get', 'pods', 'web', '-o', 'jsonpath={.spec.terminationGracePeriodSeconds}']).stdout).toBe('20');
  });

  it('reports what is missing the way kubectl does, exit code 1', () => {
    const r = run(['get', 'pod', 'web', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^NAME   READY   STATUS    RESTARTS   AGE\nweb /);
    expect(r.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
    expect(run(['get', 'pods', '-l', 'app=none'])).toEqual({ code: 0, stdout: '', stderr: 'No resources found in default namespace.\n' });
    expect(run(['get', 'widgets'])).toEqual({ code: 1, stdout: '', stderr: 'error: the server doesn\'t have a resource type "widgets"\n' });
    expect(run(['get', 'pods', '-o', 'xml']).stderr).toMatch(/^error: unable to match a printer suitable for the output format "xml"/);
    const badFlag = run(['get', 'pods', '--bogus']);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toBe("error: unknown option '--bogus'\n");
  });

  it('says in one line that a server cannot be reached', () => {
    const r = peactlFor('http://127.0.0.1:1')(['get', 'pods']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n' });
  });

  it('goes on through the next of several servers when the first cannot be reached', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const r = peactlFor(`${dead},${server.url}`)(['get', 'pods', '-o', 'name']);
    expect(r).toEqual({ code: 0, stdout: 'pod/db\npod/web\n', stderr: '' });
  });

  it('reads the server from a kubeconfig when no --server is given', () => {
    const fs = require('fs') as typeof import('fs');
    const os = require('os') as typeof import('os');
    const path = require('path') as typeof import('path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peactl-kc-'));
    const file = path.join(dir, 'config');
    fs.writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server.url}"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: team}}]\ncurrent-context: x\n`);
    const { peactl } = require('./testing/process') as typeof import('./testing/process');
    expect(peactl(['--kubeconfig', file, 'get', 'pods', '-o', 'name']).stdout).toBe('pod/other\n');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

const kubectlIt = hasKubectl() ? it : it.skip;

describe('beside kubectl', () => {
  const columns = (text: string): string[][] =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s{3,}|\s+(?=\S)/));

  kubectlIt('shows the same columns and values for get pods, -o wide, -A, in chunks, and nodes', () => {
    const kubectl = kubectlFor(server.url);
    try {
      for (const args of [['get', 'pods'], ['get', 'pods', '-o', 'wide'], ['get', 'pods', '-A', '--show-labels'], ['get', 'pods', '-A', '--chunk-size=1'], ['get', 'nodes', '-o', 'wide']]) {
        const theirs = kubectl.run(args);
        const ours = run(args);
        expect(theirs.code).toBe(0);
        expect(ours.code).toBe(0);
        const a = columns(ours.stdout);
        const b = columns(theirs.stdout);
        expect(a[0]).toEqual(b[0]);
        // AGE may differ by a second between the two runs; everything else must match.
        const ageAt = a[0].indexOf('AGE');
        const withoutAge = (rows: string[][]): string[][] => rows.map((r) => r.filter((_, i) => i !== ageAt));
        expect(withoutAge(a)).toEqual(withoutAge(b));
      }
    } finally {
      kubectl.cleanup();
    }
  });

  kubectlIt('prints the same JSON and YAML lists as kubectl, byte for byte, whole or in chunks', () => {
    const kubectl = kubectlFor(server.url);
    try {
      for (const args of [['get', 'pods', '-A', '-o', 'json'], ['get', 'pods', '-o', 'yaml', '--chunk-size=1'], ['get', 'namespaces', '-o', 'json']]) {
        const ours = run(args);
        expect(ours.code).toBe(0);
        expect(ours.stdout).toBe(kubectl.run(args).stdout);
      }
    } finally {
      kubectl.cleanup();
    }
  });

  kubectlIt('prints the same table as kubectl api-resources and the same describe pod', () => {
    const kubectl = kubectlFor(server.url);
    try {
      expect(run(['api-resources']).stdout).toBe(kubectl.run(['api-resources']).stdout);
      expect(run(['describe', 'pod', 'web']).stdout).toBe(kubectl.run(['describe', 'pod', 'web']).stdout);
    } finally {
      kubectl.cleanup();
    }
  });
  kubectlIt('describes a node as kubectl does: its Lease, or the error reading it', async () => {
    const kubectl = kubectlFor(server.url);
    // Ages are printed to the second: a pair taken across a second boundary is taken again.
    const both = () => {
      let pair = [run(['describe', 'node', 'n1']).stdout, kubectl.run(['describe', 'node', 'n1']).stdout];
      for (let i = 0; i < 3 && pair[0] !== pair[1]; i++) pair = [run(['describe', 'node', 'n1']).stdout, kubectl.run(['describe', 'node', 'n1']).stdout];
      return pair;
    };
    try {
      const [before, kubectlBefore] = both();
      expect(before).toBe(kubectlBefore);
      expect(before).toMatch(/\nLease:              Failed to get lease: .*"n1" not found\n/);
      const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '123Z') } };
      expect(await postJson(server.url, '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease)).toBe(201);
      const [after, kubectlAfter] = both();
      expect(after).toBe(kubectlAfter);
      expect(after).toMatch(/\nUnschedulable:      false\nLease:\n  HolderIdentity:  n1\n  AcquireTime:     <unset>\n  RenewTime:       \w{3}, \d{2} \w{3} \d{4} [\d:]{8} [+-]\d{4}\nConditions:\n/);
      expect(after).not.toContain('Failed to get lease');
    } finally {
      kubectl.cleanup();
    }
  });
});

describe('benchGetPods', () => {
  kubectlIt('measures both binaries on the same server, and both list every pod', async () => {
    // The built module: it runs the built peactl and its preload beside it.
    const { benchGetPods } = require('../dist/bench') as typeof import('./bench');
    const r = await benchGetPods(server.url, { runs: 1 });
    expect(r.lines.peactl).toBe(r.lines.kubectl);
    expect(r.lines.peactl).toBe(3);
    for (const figures of [r.peactl, r.kubectl]) {
      expect(figures.seconds).toBeGreaterThan(0);
      expect(figures.peakRssMiB).toBeGreaterThan(5);
    }
  }, 30_000);
});
