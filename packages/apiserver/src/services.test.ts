// Services through the real kubectl, @kubernetes/client-node and plain HTTP: each type, cluster
// IP and node port allocation (never twice, not even under 50 concurrent creates or across a
// restart), 422 on a taken or out-of-range request, release on delete, dry runs that reserve
// nothing, updates that keep the IP, and the kubernetes service pointing at the server.

import { execFile } from 'child_process';
import path from 'path';
import { promisify } from 'util';
import { removeDir, startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { call } from './testing/http';
import { kubectlFor } from './testing/kubectl';

jest.setTimeout(120_000);

const services = '/api/v1/namespaces/default/services';

function service(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec } };
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

describe('services', () => {
  let server: RunningApiServer;
  let kubectl: ReturnType<typeof kubectlFor>;

  beforeAll(async () => {
    server = await startApiServer();
    kubectl = kubectlFor(server.url);
  });

  afterAll(async () => {
    await server.kill();
    removeDir(server.dataDir);
    kubectl.cleanup();
  });

  test('kubectl create service: ClusterIP, NodePort and headless, with their defaults and table', () => {
    expect(kubectl.run(['create', 'service', 'clusterip', 'web', '--tcp=80:8080'])).toMatchObject({ code: 0, stdout: 'service/web created\n' });
    expect(kubectl.run(['create', 'service', 'nodeport', 'np', '--tcp=80:8080'])).toMatchObject({ code: 0, stdout: 'service/np created\n' });
    expect(kubectl.run(['create', 'service', 'clusterip', 'hl', '--clusterip=None'])).toMatchObject({ code: 0, stdout: 'service/hl created\n' });

    const web = JSON.parse(kubectl.run(['get', 'svc', 'web', '-o', 'json']).stdout);
    expect(web.spec).toMatchObject({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }],
      selector: { app: 'web' },
    });
    expect(web.spec.clusterIPs).toEqual([web.spec.clusterIP]);
    expect(ipNumber(web.spec.clusterIP) >>> 16).toBe(ipNumber('10.96.0.0') >>> 16);
    expect(web.spec.clusterIP).not.toBe('10.96.0.1');
    expect(web.status).toEqual({ loadBalancer: {} });

    const np = JSON.parse(kubectl.run(['get', 'svc', 'np', '-o', 'json']).stdout);
    expect(np.spec.externalTrafficPolicy).toBe('Cluster');
    expect(np.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(np.spec.ports[0].nodePort).toBeLessThanOrEqual(32767);

    const hl = JSON.parse(kubectl.run(['get', 'svc', 'hl', '-o', 'json']).stdout);
    expect(hl.spec).toMatchObject({ clusterIP: 'None', clusterIPs: ['None'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });

    const table = kubectl.run(['get', 'svc', '-o', 'wide']).stdout.split('\n');
    expect(table[0]).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR$/);
    expect(table.find((l) => l.startsWith('web '))).toMatch(new RegExp(`^web\\s+ClusterIP\\s+${web.spec.clusterIP.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP\\s+\\d+s\\s+app=web$`));
    expect(table.find((l) => l.startsWith('np '))).toMatch(new RegExp(`^np\\s+NodePort\\s+\\S+\\s+<none>\\s+80:${np.spec.ports[0].nodePort}/TCP\\s+\\d+s\\s+app=np$`));
    expect(table.find((l) => l.startsWith('hl '))).toMatch(/^hl\s+ClusterIP\s+None\s+<none>\s+<none>\s+\d+s\s+app=hl$/);
    expect(table.find((l) => l.startsWith('kubernetes '))).toMatch(/^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+80\/TCP\s+\d+s\s+<none>$/);
  });

  test('a taken or out-of-range cluster IP or node port is a 422 naming the field', async () => {
    const web = (await call(server.url, 'GET', `${services}/web`)).body;
    const takenIP = kubectl.run(['create', 'service', 'clusterip', 'again', '--tcp=80', `--clusterip=${web.spec.clusterIP}`]);
    expect(takenIP.code).toBe(1);
    expect(takenIP.stderr).toContain(
      `Service "again" is invalid: spec.clusterIPs[0]: Invalid value: "${web.spec.clusterIP}": failed to allocate IP ${web.spec.clusterIP}: provided IP is already allocated`,
    );
    const outside = await call(server.url, 'POST', services, service('outside', { clusterIP: '10.0.0.10' }));
    expect(outside.status).toBe(422);
    expect(outside.body.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.clusterIPs[0]',
        message: 'Invalid value: "10.0.0.10": failed to allocate IP 10.0.0.10: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/16',
      },
    ]);

    const np = (await call(server.url, 'GET', `${services}/np`)).body;
    const nodePort = np.spec.ports[0].nodePort as number;
    const takenPort = kubectl.run(['create', 'service', 'nodeport', 'np2', '--tcp=80:8080', `--node-port=${nodePort}`]);
    expect(takenPort.code).toBe(1);
    expect(takenPort.stderr).toContain(`Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: ${nodePort}: provided port is already allocated`);
    const high = await call(server.url, 'POST', services, service('high', { type: 'NodePort', ports: [{ port: 80, nodePort: 40000 }] }));
    expect(high.status).toBe(422);
    expect(high.body.details.causes[0]).toMatchObject({
      field: 'spec.ports[0].nodePort',
      message: 'Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767',
    });
    // Nothing was left reserved by the refused creates.
    expect((await call(server.url, 'POST', services, service('free', { clusterIP: '10.96.0.77', type: 'NodePort', ports: [{ port: 80, nodePort: 30077 }] }))).status).toBe(201);
  });

  test('other invalid services are 422 with every cause', async () => {
    const bad = await call(server.url, 'POST', services, {
      metadata: { name: 'Bad_Name' },
      spec: { type: 'LoadBalancer', sessionAffinity: 'Sticky', ports: [{ port: 70000, protocol: 'ICMP' }, { port: 80 }] },
    });
    expect(bad.status).toBe(422);
    const fields = bad.body.details.causes.map((c: { field: string }) => c.field);
    expect(fields).toEqual(
      expect.arrayContaining(['metadata.name', 'spec.type', 'spec.sessionAffinity', 'spec.ports[0].port', 'spec.ports[0].protocol', 'spec.ports[0].name', 'spec.ports[1].name']),
    );
    const noPorts = await call(server.url, 'POST', services, { metadata: { name: 'noports' }, spec: { selector: { a: 'b' } } });
    expect(noPorts.body.details.causes).toEqual([{ reason: 'FieldValueRequired', field: 'spec.ports', message: 'Required value' }]);
    const clusterPort = await call(server.url, 'POST', services, service('cp', { ports: [{ port: 80, nodePort: 30001 }] }));
    expect(clusterPort.body.details.causes[0]).toMatchObject({ field: 'spec.ports[0].nodePort', message: "Forbidden: may not be used when `type` is 'ClusterIP'" });
  });

  test('deleting a service frees its cluster IP and node ports', async () => {
    const freed = (await call(server.url, 'GET', `${services}/free`)).body;
    expect(kubectl.run(['delete', 'svc', 'free']).code).toBe(0);
    const reuse = await call(server.url, 'POST', services, service('reuse', { clusterIP: freed.spec.clusterIP, type: 'NodePort', ports: [{ port: 80, nodePort: 30077 }] }));
    expect(reuse.status).toBe(201);
    expect(reuse.body.spec.clusterIP).toBe('10.96.0.77');
  });

  test('50 concurrent creates get 50 different cluster IPs and node ports', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call(server.url, 'POST', services, service(`burst-${i}`, { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, protocol: 'UDP' }] }))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(201));
    const ips = results.map((r) => r.body.spec.clusterIP);
    expect(new Set(ips).size).toBe(50);
    const ports = results.flatMap((r) => r.body.spec.ports.map((p: { nodePort: number }) => p.nodePort));
    expect(new Set(ports).size).toBe(100);
    const all = (await call(server.url, 'GET', services)).body.items as { spec: { clusterIP: string } }[];
    const inUse = all.map((s) => s.spec.clusterIP).filter((ip) => ip !== 'None');
    expect(new Set(inUse).size).toBe(inUse.length);
  });

  test('dry runs allocate nothing', async () => {
    const dry = await call(server.url, 'POST', `${services}?dryRun=All`, service('dry', { clusterIP: '10.96.0.88', type: 'NodePort', ports: [{ port: 80, nodePort: 30088 }] }));
    expect(dry.status).toBe(201);
    expect(dry.body.spec.clusterIP).toBe('10.96.0.88');
    expect((await call(server.url, 'GET', `${services}/dry`)).status).toBe(404);
    const auto = await call(server.url, 'POST', `${services}?dryRun=All`, service('dry-auto'));
    expect(auto.body.spec.clusterIP).toMatch(/^10\.96\./);
    for (const ip of ['10.96.0.88', auto.body.spec.clusterIP]) {
      const real = await call(server.url, 'POST', services, service(`real-${ipNumber(ip)}`, { clusterIP: ip }));
      expect(real.status).toBe(201);
    }
    expect((await call(server.url, 'POST', services, service('real-port', { type: 'NodePort', ports: [{ port: 80, nodePort: 30088 }] }))).status).toBe(201);
  });

  test('updates keep the cluster IP, which may not change; leaving NodePort frees the node ports', async () => {
    const before = (await call(server.url, 'GET', `${services}/np`)).body;
    const replaced = kubectl.run(['replace', '-f', '-'], JSON.stringify(service('np', { type: 'NodePort', ports: [{ name: '80-8080', port: 80, targetPort: 9090 }] })));
    expect(replaced.code).toBe(0);
    const after = (await call(server.url, 'GET', `${services}/np`)).body;
    expect(after.spec.clusterIP).toBe(before.spec.clusterIP);
    expect(after.spec.ports[0]).toMatchObject({ targetPort: 9090, nodePort: before.spec.ports[0].nodePort });

    const moved = await call(server.url, 'PATCH', `${services}/np`, { spec: { clusterIP: '10.96.0.99', clusterIPs: ['10.96.0.99'] } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(moved.status).toBe(422);
    expect(moved.body.message).toContain('spec.clusterIPs[0]: Invalid value: ["10.96.0.99"]: may not change once set');

    const toClusterIP = await call(server.url, 'PATCH', `${services}/np`, { spec: { type: 'ClusterIP', externalTrafficPolicy: null } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(toClusterIP.status).toBe(200);
    expect(toClusterIP.body.spec.ports[0].nodePort).toBeUndefined();
    const port = before.spec.ports[0].nodePort;
    expect((await call(server.url, 'POST', services, service('takes-port', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }))).status).toBe(201);
  });

  test('kubectl expose rc gives a service with the controller selector, and its labels (defaulted from the template)', () => {
    const rc = 'apiVersion: v1\nkind: ReplicationController\nmetadata: {name: front}\nspec:\n  replicas: 0\n  selector: {app: front}\n  template:\n    metadata: {labels: {app: front}}\n    spec: {containers: [{name: c, image: peapod/busybox:latest}]}\n';
    expect(kubectl.run(['create', '-f', '-'], rc).code).toBe(0);
    expect(kubectl.run(['expose', 'rc', 'front', '--port=80', '--target-port=8080'])).toMatchObject({ code: 0, stdout: 'service/front exposed\n' });
    const svc = JSON.parse(kubectl.run(['get', 'svc', 'front', '-o', 'json']).stdout);
    expect(svc.spec).toMatchObject({ selector: { app: 'front' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], type: 'ClusterIP' });
    expect(svc.metadata.labels).toEqual({ app: 'front' });
  });

  test('the kubernetes service points at this API server', async () => {
    const svc = (await call(server.url, 'GET', `${services}/kubernetes`)).body;
    expect(svc.metadata.labels).toEqual({ component: 'apiserver', provider: 'kubernetes' });
    expect(svc.spec).toMatchObject({ clusterIP: '10.96.0.1', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: server.port }] });
    expect(svc.spec.selector).toBeUndefined();
    const ep = (await call(server.url, 'GET', '/api/v1/namespaces/default/endpoints/kubernetes')).body;
    expect(ep.subsets).toEqual([{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port: server.port, protocol: 'TCP' }] }]);
    const slice = (await call(server.url, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes')).body;
    expect(slice).toMatchObject({ addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], ports: [{ port: server.port }] });
    expect(slice.metadata.labels['kubernetes.io/service-name']).toBe('kubernetes');
    expect(kubectl.run(['get', 'ep', 'kubernetes']).stdout).toMatch(new RegExp(`^NAME\\s+ENDPOINTS\\s+AGE\\nkubernetes\\s+127\\.0\\.0\\.1:${server.port}\\s+\\d+s\\n$`));
    expect(kubectl.run(['get', 'endpointslices']).stdout).toMatch(new RegExp(`^NAME\\s+ADDRESSTYPE\\s+PORTS\\s+ENDPOINTS\\s+AGE\\nkubernetes\\s+IPv4\\s+${server.port}\\s+127\\.0\\.0\\.1\\s+\\d+s\\n$`));
  });

  test('@kubernetes/client-node creates, reads and deletes services of each type', async () => {
    const script = path.join(__dirname, 'testing', 'client-node-services.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [script, server.url], { timeout: 30_000 });
    const result = JSON.parse(stdout);
    expect(result.clusterIP).toMatch(/^10\.96\./);
    expect(result.nodePort).toBeGreaterThanOrEqual(30000);
    expect(result.headless).toBe('None');
    expect(result.taken).toMatchObject({ code: 422 });
    expect(result.taken.body).toContain('provided IP is already allocated');
    expect(result.afterDelete).toBe(404);
    expect(result.reused).toBe(result.clusterIP);
  });
});

describe('allocations across restarts, and the flags', () => {
  test('a restarted server hands out no address twice and moves the kubernetes endpoints to its new port', async () => {
    let server = await startApiServer({ args: ['--service-cluster-ip-range', '10.200.0.0/24', '--service-node-port-range', '31000-31009', '--advertise-address', '10.9.8.7'] });
    const dataDir = server.dataDir;
    try {
      const first = await call(server.url, 'POST', services, service('keep', { type: 'NodePort' }));
      expect(first.body.spec.clusterIP).toMatch(/^10\.200\.0\./);
      const nodePort = first.body.spec.ports[0].nodePort;
      expect(nodePort).toBeGreaterThanOrEqual(31000);
      expect(nodePort).toBeLessThanOrEqual(31009);
      expect((await call(server.url, 'GET', `${services}/kubernetes`)).body.spec.clusterIP).toBe('10.200.0.1');
      let ep = (await call(server.url, 'GET', '/api/v1/namespaces/default/endpoints/kubernetes')).body;
      expect(ep.subsets[0].addresses).toEqual([{ ip: '10.9.8.7' }]);

      await server.kill('SIGKILL');
      server = await startApiServer({ dataDir, args: ['--service-cluster-ip-range', '10.200.0.0/24', '--service-node-port-range', '31000-31009'] });
      const again = await call(server.url, 'POST', services, service('again', { clusterIP: first.body.spec.clusterIP }));
      expect(again.status).toBe(422);
      const port = await call(server.url, 'POST', services, service('port', { type: 'NodePort', ports: [{ port: 80, nodePort }] }));
      expect(port.status).toBe(422);
      // The other nine ports are all free and handed out; the tenth request finds the range full.
      const rest = await Promise.all(Array.from({ length: 10 }, (_, i) => call(server.url, 'POST', services, service(`fill-${i}`, { type: 'NodePort' }))));
      expect(rest.filter((r) => r.status === 201)).toHaveLength(9);
      expect(rest.find((r) => r.status !== 201)?.body.message).toBe('Internal error occurred: failed to allocate a nodePort: range is full');
      ep = (await call(server.url, 'GET', '/api/v1/namespaces/default/endpoints/kubernetes')).body;
      const restarted = { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port: server.port, protocol: 'TCP' }] };
      // SQLite is this server's alone: the killed server's lease goes at once. On etcd another
      // server may share the store, so its address stays until its lease runs out.
      if (process.env.PEAPOD_TEST_STORAGE === 'etcd') expect(ep.subsets).toContainEqual(restarted);
      else expect(ep.subsets).toEqual([restarted]);
    } finally {
      await server.kill('SIGKILL');
      removeDir(dataDir);
    }
  });

  test('a bad range is refused at start', async () => {
    await expect(startApiServer({ args: ['--service-cluster-ip-range', '10.96.0.0/40'], timeoutMs: 5000 })).rejects.toThrow(/invalid service cluster IP range/);
  });
});
