// Three API servers on one etcd (two in this process, one a process of its own, on different
// loopback ports): the `kubernetes` service's endpoints list every one of them; a clean close
// takes one out at once, a SIGKILLed one drops out when its lease runs out.
import crypto from 'crypto';
import { EtcdCluster, hasEtcd, startApiServer, startEtcdCluster } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { createApiServer, ApiServer } from './server';
import { call } from './testing/http';
import { hasKubectl, kubectlFor, Kubectl } from './testing/kubectl';
import { identityLabel, recordTtlSeconds, renewIntervalMs } from './registry/apiserver-leases';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const maybe = hasEtcd() && hasKubectl() ? describe : describe.skip;
const endpointsPath = '/api/v1/namespaces/default/endpoints/kubernetes';
const slicesPath = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
const leasesPath = `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?labelSelector=${encodeURIComponent(`${identityLabel}=kube-apiserver`)}`;

interface Subset {
  addresses: { ip: string }[];
  ports: { name: string; port: number; protocol: string }[];
}

maybe('the kubernetes service with several API servers', () => {
  let cluster: EtcdCluster;
  const inProcess: { api: ApiServer; port: number; base: string }[] = [];
  let child: RunningApiServer | undefined;
  let kubectl: Kubectl;
  jest.setTimeout(180_000);

  beforeAll(async () => {
    cluster = await startEtcdCluster(1);
    const prefix = `/registry-leases-${crypto.randomUUID()}`;
    for (let i = 0; i < 2; i++) {
      const api = createApiServer({ dataDir: ':memory:', allowPrivileged: true, logger: quiet, etcd: { servers: cluster.endpoints, prefix } });
      const port = await api.listen(0, '127.0.0.1');
      inProcess.push({ api, port, base: `http://127.0.0.1:${port}` });
    }
    child = await startApiServer({ args: ['--storage-backend', 'etcd3', '--etcd-servers', cluster.endpoints.join(','), '--etcd-prefix', prefix] });
    kubectl = kubectlFor(inProcess[0].base);
  });

  afterAll(async () => {
    for (const s of inProcess) await s.api.close();
    await child?.stop('SIGKILL');
    kubectl?.cleanup();
    await cluster?.stop();
  });

  /** The subsets the endpoints should have for API servers on these ports of 127.0.0.1 (sorted by port, one subset each). */
  const subsetsFor = (ports: number[]): Subset[] =>
    [...ports].sort((a, b) => a - b).map((port) => ({ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port, protocol: 'TCP' }] }));

  /** Waits until the endpoints read through the first server are `want`; returns the milliseconds it took. */
  async function endpointsBecome(want: Subset[], timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const ep = (await call(inProcess[0].base, 'GET', endpointsPath)).body;
      if (JSON.stringify(ep.subsets) === JSON.stringify(want)) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`endpoints are ${JSON.stringify(ep.subsets)}, not ${JSON.stringify(want)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  const leaseHolders = async () => (await call(inProcess[0].base, 'GET', leasesPath)).body.items.map((l: { spec: { holderIdentity: string } }) => l.spec.holderIdentity).sort();

  test('the endpoints, the EndpointSlices, kubectl get endpoints and kubectl get lease show every API server', async () => {
    const ports = [...inProcess.map((s) => s.port), child!.port].sort((a, b) => a - b);
    await endpointsBecome(subsetsFor(ports), 5_000);
    const slices = (await call(inProcess[1].base, 'GET', slicesPath)).body.items
      .map((s: { metadata: { name: string }; ports: { port: number }[]; endpoints: unknown[] }) => ({ name: s.metadata.name, port: s.ports[0].port, endpoints: s.endpoints }))
      .sort((a: { port: number }, b: { port: number }) => a.port - b.port);
    const ready = [{ addresses: ['127.0.0.1'], conditions: { ready: true } }];
    expect(slices).toEqual(ports.map((port, i) => ({ name: i === 0 ? 'kubernetes' : `kubernetes-${port}`, port, endpoints: ready })));
    expect((await call(inProcess[1].base, 'GET', '/api/v1/namespaces/default/services/kubernetes')).body.spec.ports[0].targetPort).toBe(ports[0]);

    const ep = await kubectl.runAsync(['get', 'endpoints', 'kubernetes']);
    expect(ep.code).toBe(0);
    const list = ports.map((p) => `127\\.0\\.0\\.1:${p}`).join(',');
    expect(ep.stdout).toMatch(new RegExp(`^NAME\\s+ENDPOINTS\\s+AGE\\nkubernetes\\s+${list}\\s+\\d+s\\n$`));

    const leases = await kubectl.runAsync(['get', 'lease', '-n', 'kube-system', '-l', `${identityLabel}=kube-apiserver`]);
    expect(leases.code).toBe(0);
    const rows = leases.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+HOLDER\s+AGE$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0]).sort()).toEqual(await leaseHolders());
    for (const r of rows.slice(1)) expect(r).toMatch(/^(apiserver-[0-9a-f-]{36})\s+\1\s+\d+s$/);
    expect(await leaseHolders()).toHaveLength(3);
  });

  test('a cleanly closed server leaves the endpoints at once', async () => {
    const closing = inProcess.pop()!;
    await closing.api.close();
    // Written before close() returned: no waiting.
    await endpointsBecome(subsetsFor([inProcess[0].port, child!.port]), 0);
    expect(await leaseHolders()).toHaveLength(2);
  });

  test('a SIGKILLed server drops out once its lease has run out', async () => {
    await child!.kill('SIGKILL');
    const took = await endpointsBecome(subsetsFor([inProcess[0].port]), (recordTtlSeconds * 1000 + renewIntervalMs) * 3);
    expect(took).toBeLessThan((recordTtlSeconds * 1000 + renewIntervalMs) * 3);
    // Its expired lease is collected too.
    expect(await leaseHolders()).toHaveLength(1);
    process.stdout.write(`killed API server dropped from the endpoints after ${took} ms\n`);
  });
});
