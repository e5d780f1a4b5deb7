// Replication controllers with peactl against a real apiserver and controller manager:
// get, scale, describe (byte for byte beside the real kubectl) and delete --cascade.

import fs from 'fs';
import os from 'os';
import path from 'path';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';
import { startControllerManager } from '@peapod/client/testing';
import { hasKubectl, kubectlFor, peactlFor, sendJson, sideBySide } from './testing/process';
import type { Result } from './testing/process';

let server: RunningApiServer;
let controllers: RunningProcess;
let run: ReturnType<typeof peactlFor>;
let kubectl: ReturnType<typeof kubectlFor>;
let dir: string;

function rcManifest(name: string, replicas: number): string {
  return `apiVersion: v1
kind: ReplicationController
metadata:
  name: ${name}
  labels: {app: ${name}}
  annotations: {team: peapod}
spec:
  replicas: ${replicas}
  selector: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}, tier: fe}
    spec:
      volumes:
      - {name: data, emptyDir: {}}
      - {name: host, hostPath: {path: /tmp}}
      nodeSelector: {disk: ssd}
      tolerations: [{key: k, operator: Exists, effect: NoSchedule}, {operator: Exists}]
      containers:
      - name: web
        image: peapod/busybox:latest
        command: [sh, -c, "sleep 1000"]
        ports: [{containerPort: 80}, {containerPort: 443, hostPort: 8443}]
        env: [{name: A, value: "1"}, {name: B, value: "two\\nlines"}]
        resources: {limits: {cpu: 100m, memory: 64Mi}}
        volumeMounts: [{name: host, mountPath: /z, readOnly: true}, {name: data, mountPath: /a, subPath: sub}]
      - name: side
        image: peapod/busybox:latest
`;
}

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

interface PodJson {
  metadata: { name: string; ownerReferences?: unknown[] };
}

function pods(selector: string): PodJson[] {
  const r = run(['get', 'pods', '-l', selector, '-o', 'json']);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { items: PodJson[] }).items;
}

function podCount(selector: string, n: number): Promise<PodJson[]> {
  return until(`${n} pods with ${selector}`, () => {
    const items = pods(selector);
    return items.length === n ? items : undefined;
  });
}

/** peactl's and kubectl's describe of the same object. */
function describeBoth(args: string[]): { peactl: Result; kubectl: Result } {
  return sideBySide(run, kubectl, ['describe', ...args]);
}

beforeAll(async () => {
  server = await startApiServer();
  controllers = startControllerManager(server.url);
  run = peactlFor(server.url);
  kubectl = kubectlFor(server.url);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peactl-rc-'));
}, 30_000);

afterAll(async () => {
  await controllers?.kill('SIGKILL');
  await server?.stop();
  kubectl?.cleanup();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('get rc', () => {
  it('lists controllers with kubectl columns; wide adds containers, images and selector', async () => {
    expect(run(['create', '-f', '-'], { input: rcManifest('web', 2) }).stdout).toBe('replicationcontroller/web created\n');
    await podCount('app=web', 2);
    await until('status.replicas 2', () => (/^web {4}2 {9}2 /m.test(run(['get', 'rc']).stdout) ? true : undefined));
    expect(run(['get', 'rc'])).toEqual({ code: 0, stdout: expect.stringMatching(/^NAME   DESIRED   CURRENT   READY   AGE\nweb    2         2         0       \d+s\n$/), stderr: '' });
    const wide = run(['get', 'replicationcontrollers', 'web', '-o', 'wide']).stdout;
    expect(wide).toMatch(/^NAME   DESIRED   CURRENT   READY   AGE\s+CONTAINERS   IMAGES\s+SELECTOR\nweb    2         2         0       \d+s\s+web,side     peapod\/busybox:latest,peapod\/busybox:latest   app=web\n$/);
  }, 30_000);
});

describe('scale', () => {
  it('scales through the scale subresource, by name, TYPE/NAME and file', async () => {
    expect(run(['scale', 'rc', 'web', '--replicas=3'])).toEqual({ code: 0, stdout: 'replicationcontroller/web scaled\n', stderr: '' });
    await podCount('app=web', 3);
    const file = path.join(dir, 'web.yaml');
    fs.writeFileSync(file, rcManifest('web', 7));
    expect(run(['scale', '-f', file, '--replicas=2']).stdout).toBe('replicationcontroller/web scaled\n');
    await podCount('app=web', 2);
    expect(kubectl.run(['get', 'rc', 'web', '-o', 'jsonpath={.spec.replicas}']).stdout).toBe('2');
  }, 30_000);

  it('checks --current-replicas and --resource-version before writing', () => {
    expect(run(['scale', 'replicationcontroller/web', '--replicas=4', '--current-replicas=3'])).toEqual({ code: 1, stdout: '', stderr: 'error: Expected replicas to be 3, was 2\n' });
    expect(run(['scale', 'replicationcontroller/web', '--replicas=4', '--resource-version=1'])).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(/^error: Expected resource version to be 1, was \d+\n$/) });
    expect(run(['scale', 'replicationcontroller/web', '--replicas=3', '--current-replicas=2'])).toEqual({ code: 0, stdout: 'replicationcontroller/web scaled\n', stderr: '' });
    expect(run(['get', 'rc', 'web', '-o', 'jsonpath={.spec.replicas}']).stdout).toBe('3');
  });

  it("words failures as kubectl does", () => {
    expect(run(['scale', 'rc', 'web']).stderr).toBe('error: required flag(s) "replicas" not set\n');
    expect(run(['scale', 'rc', 'web', '--replicas=-1']).stderr).toBe('error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n');
    expect(run(['scale', 'rc/nope', '--replicas=1'])).toEqual({ code: 1, stdout: '', stderr: 'error: no objects passed to scale replicationcontrollers "nope" not found\n' });
    expect(run(['scale', 'rc', '-l', 'app=none', '--replicas=1']).stderr).toBe('error: no objects passed to scale\n');
    expect(run(['scale', 'rc/web', 'rc/nope', '--replicas=3'])).toEqual({ code: 1, stdout: 'replicationcontroller/web scaled\n', stderr: 'Error from server (NotFound): replicationcontrollers "nope" not found\n' });
  });
});

const withKubectl = hasKubectl() ? describe : describe.skip;
withKubectl('describe rc', () => {
  it('matches kubectl byte for byte: template, pod phases, SuccessfulCreate/SuccessfulDelete events', async () => {
    await podCount('app=web', 3);
    const [first] = pods('app=web');
    // One of the pods running, as an agent would report it: it counts under Running.
    expect(await sendJson(server.url, 'PATCH', `/api/v1/namespaces/default/pods/${first.metadata.name}/status`, { status: { phase: 'Running' } }, 'application/merge-patch+json')).toBe(200);
    expect(run(['scale', 'rc', 'web', '--replicas=2']).code).toBe(0);
    await podCount('app=web', 2);
    await until('status.replicas 2', () => (/^Replicas: +2 current \/ 2 desired$/m.test(run(['describe', 'rc', 'web']).stdout) ? true : undefined));
    const { peactl, kubectl: real } = describeBoth(['rc', 'web']);
    expect(real.code).toBe(0);
    expect(peactl).toEqual(real);
    expect(peactl.stdout).toMatch(/\nPods Status: +\d Running \/ \d Waiting \/ 0 Succeeded \/ 0 Failed\n/);
    expect(peactl.stdout).toContain('  Normal  SuccessfulCreate  ');
    expect(peactl.stdout).toContain('  Normal  SuccessfulDelete  ');
  }, 30_000);

  it('matches kubectl for a controller with no pods and no events, and for a missing one', () => {
    expect(run(['create', '-f', '-'], { input: rcManifest('idle', 0) }).code).toBe(0);
    const { peactl, kubectl: real } = describeBoth(['rc', 'idle']);
    expect(peactl).toEqual(real);
    expect(peactl.stdout).toMatch(/\nEvents: +<none>\n$/);
    expect(run(['describe', 'rc', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): replicationcontrollers "nope" not found\n' });
  });
});

describe('delete --cascade', () => {
  it('orphan leaves the pods, without their owner reference', async () => {
    expect(run(['delete', 'rc', 'web', '--cascade=orphan'])).toEqual({ code: 0, stdout: 'replicationcontroller "web" deleted\n', stderr: '' });
    const left = await podCount('app=web', 2);
    for (const p of left) expect(p.metadata.ownerReferences).toBeUndefined();
    expect(run(['delete', 'pods', '-l', 'app=web', '--cascade=orphan']).stdout).toMatch(/^pod "web-\w+" deleted\npod "web-\w+" deleted\n$/);
  }, 30_000);

  it("background (the default) lets the garbage collector remove the pods", async () => {
    expect(run(['create', '-f', '-'], { input: rcManifest('gc', 2) }).code).toBe(0);
    await podCount('app=gc', 2);
    expect(run(['delete', 'rc', 'gc'])).toEqual({ code: 0, stdout: 'replicationcontroller "gc" deleted\n', stderr: '' });
    await podCount('app=gc', 0);
  }, 30_000);

  it('accepts the deprecated booleans with a warning, and rejects other values', () => {
    expect(run(['delete', 'rc', 'idle', '--cascade=false'])).toEqual({
      code: 0,
      stdout: 'replicationcontroller "idle" deleted\n',
      stderr: 'warning: --cascade=false is deprecated (boolean value) and can be replaced with --cascade=orphan.\n',
    });
    expect(run(['delete', 'rc', 'x', '--cascade=sideways'])).toEqual({ code: 1, stdout: '', stderr: 'error: invalid cascade value (sideways). Must be "background", "foreground", or "orphan"\n' });
  });
});
