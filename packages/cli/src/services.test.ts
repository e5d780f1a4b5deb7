// Services, Endpoints and EndpointSlices with peactl against a real API server and controller
// manager: get and describe, byte for byte beside the real kubectl.

import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';
import { startControllerManager } from '@peapod/client/testing';
import { hasKubectl, kubectlFor, nodeObject, peactlFor, postJson, sendJson, sideBySide } from './testing/process';
import type { Result } from './testing/process';

jest.setTimeout(60_000);

let server: RunningApiServer;
let controllers: RunningProcess;
let run: ReturnType<typeof peactlFor>;
let kubectl: ReturnType<typeof kubectlFor>;

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A pod on node-1, Running at ip, ready or not, as its agent would report it. */
async function runningPod(name: string, ip: string, ready: boolean, port: number): Promise<void> {
  const created = await postJson(server.url, '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web' } },
    spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'peapod/busybox:latest', ports: [{ name: 'http', containerPort: port }] }] },
  });
  expect(created).toBe(201);
  const status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
  expect(await sendJson(server.url, 'PATCH', `/api/v1/namespaces/default/pods/${name}/status`, { status }, 'application/merge-patch+json')).toBe(200);
}

function both(args: string[]): { peactl: Result; kubectl: Result } {
  return sideBySide(run, kubectl, args);
}

beforeAll(async () => {
  server = await startApiServer();
  controllers = startControllerManager(server.url);
  run = peactlFor(server.url);
  kubectl = kubectlFor(server.url);
  expect(await postJson(server.url, '/api/v1/nodes', nodeObject('node-1'))).toBe(201);
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', labels: { app: 'web', tier: 'fe' }, annotations: { team: 'peapod' } },
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'admin', port: 9000, protocol: 'UDP' }] },
  };
  expect(await postJson(server.url, '/api/v1/namespaces/default/services', service)).toBe(201);
  await runningPod('web-1', '10.1.0.1', true, 8080);
  await runningPod('web-2', '10.1.0.2', true, 8081);
  await runningPod('web-3', '10.1.0.3', false, 8080);
  await until('the endpoints', () => /10\.1\.0\.1:8080/.test(run(['get', 'ep', 'web']).stdout) && /10\.1\.0\.2/.test(run(['get', 'endpointslices']).stdout));
}, 30_000);

afterAll(async () => {
  await controllers?.kill('SIGKILL');
  await server?.stop();
  kubectl?.cleanup();
});

const withKubectl = hasKubectl() ? describe : describe.skip;
withKubectl('peactl beside kubectl', () => {
  test.each([
    [['get', 'svc']],
    [['get', 'services', '-o', 'wide']],
    [['get', 'ep']],
    [['get', 'endpoints', 'web', 'kubernetes']],
    [['get', 'endpointslices']],
  ])('%j prints what kubectl prints', (args) => {
    const { peactl, kubectl: real } = both(args);
    expect(real.code).toBe(0);
    expect(peactl).toEqual(real);
  });

  test.each([[['service', 'web']], [['svc', 'kubernetes']], [['endpoints', 'web']], [['ep', 'kubernetes']]])('describe %j matches kubectl byte for byte', (args) => {
    const { peactl, kubectl: real } = both(['describe', ...args]);
    expect(real.code).toBe(0);
    expect(peactl).toEqual(real);
  });

  test('describe endpointslice matches kubectl for each slice', () => {
    const names = run(['get', 'endpointslices', '-o', 'name']).stdout.trim().split('\n');
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const name of names) {
      const { peactl, kubectl: real } = both(['describe', name]);
      expect(real.code).toBe(0);
      expect(peactl).toEqual(real);
    }
  });

  test('describe service shows the ready endpoints of each port and the node ports', () => {
    const out = run(['describe', 'svc', 'web']).stdout;
    expect(out).toMatch(/^Port: +http  80\/TCP\nTargetPort: +http\/TCP\nNodePort: +http  3\d{4}\/TCP\nEndpoints: +10\.1\.0\.[12]:808[01],10\.1\.0\.[12]:808[01]\n/m);
    expect(run(['describe', 'svc', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): services "nope" not found\n' });
  });
});
