// Services end to end on real Docker: two nodes, each with its agent and proxy, backends on
// both, a client pod on node A. Cluster IP and name reach every ready backend, node ports
// answer on the node's address, ClientIP affinity sticks, a pod reaches itself through its
// service, and what has no endpoint (or no service) is refused rather than routed anywhere.

import http from 'http';
import type { Service } from '@peapod/api';
import { freePort, ServiceCluster, canRunServices, shContainer, webContainer, waitFor } from '@peapod/client/testing';

jest.setTimeout(240_000);
const suite = canRunServices() ? describe : describe.skip;

suite('services through the proxy', () => {
  const cluster = new ServiceCluster('svc');
  const nodeA = cluster.node('a');
  const nodeB = cluster.node('b');
  let web: Service;
  let webNp: Service;

  async function service(name: string, spec: Service['spec']): Promise<Service> {
    return cluster.api.create<Service>('services', { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec });
  }

  /** Runs `count` requests from the client pod, one wget each; the bodies, in order. */
  async function requests(url: string, count: number, pod = 'client', container = 'client'): Promise<string[]> {
    const r = await cluster.exec(pod, container, `for i in $(seq ${count}); do timeout 5 wget -q -O - ${url} || echo FAILED; done`);
    return r.out.trim().split('\n');
  }

  /** Waits until the service's slices list `n` ready endpoints and the proxies have had a moment to write them. */
  async function readyEndpoints(name: string, n: number): Promise<void> {
    await waitFor(`${n} ready endpoints of ${name}`, async () => {
      const slices = await cluster.api.list('endpointslices', { namespace: 'default', labelSelector: `kubernetes.io/service-name=${name}` });
      const ready = slices.items.flatMap((s) => (s as unknown as { endpoints: { conditions?: { ready?: boolean } }[] }).endpoints ?? []).filter((e) => e.conditions?.ready);
      return ready.length === n;
    });
  }

  beforeAll(async () => {
    await cluster.start();
    await cluster.addNode(nodeA);
    await cluster.addNode(nodeB);
    // Only cluster names are asked here: the upstream is a loopback port where nothing listens.
    await cluster.startDns(`127.0.0.1:${await freePort()}`);
    const labels = { app: 'web' };
    await Promise.all([
      cluster.runPod('web-a', nodeA, [webContainer()], {}, labels),
      cluster.runPod('web-b', nodeB, [webContainer()], {}, labels),
      cluster.runPod('web-c', nodeB, [webContainer()], {}, labels),
      cluster.runPod('client', nodeA, [shContainer('client', 'sleep 100000')]),
    ]);
    // The target port by name: the slices resolve it per pod.
    web = await service('web', { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
    webNp = await service('web-np', { type: 'NodePort', selector: labels, ports: [{ port: 8080, targetPort: 80 }] });
    await readyEndpoints('web', 3);
    await readyEndpoints('web-np', 3);
  });

  afterAll(async () => {
    const { tablesLeft } = await cluster.cleanup();
    expect(tablesLeft).toEqual([]);
  });

  it('reaches backends on both nodes by cluster IP and by name; over many requests every ready backend answers', async () => {
    const byIP = await requests(`http://${web.spec!.clusterIP}/`, 60);
    expect(byIP.filter((b) => b === 'FAILED')).toEqual([]);
    expect(new Set(byIP)).toEqual(new Set(['web-a', 'web-b', 'web-c']));
    const byName = await requests('http://web.default.svc.cluster.local/', 60);
    expect(byName.filter((b) => b === 'FAILED')).toEqual([]);
    expect(new Set(byName)).toEqual(new Set(['web-a', 'web-b', 'web-c']));
    // The short name, through the pod's search domains.
    expect(new Set(await requests('http://web/', 10)).size).toBeGreaterThan(0);
    process.stdout.write(
      `cluster IP ${web.spec!.clusterIP}: ${['web-a', 'web-b', 'web-c'].map((b) => `${b} ${byIP.filter((x) => x === b).length}`).join(', ')} of 60 requests\n`,
    );
  });

  it('answers the node port on the node\'s address, from a pod and from the host', async () => {
    const nodePort = webNp.spec!.ports![0].nodePort!;
    const fromPod = await requests(`http://${cluster.gateway}:${nodePort}/`, 30);
    expect(fromPod.filter((b) => b === 'FAILED')).toEqual([]);
    expect(new Set(fromPod)).toEqual(new Set(['web-a', 'web-b', 'web-c']));
    const fromHost = await new Promise<string>((resolve, reject) => {
      http.get(`http://${cluster.gateway}:${nodePort}/`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve(body.trim()));
      }).on('error', reject);
    });
    expect(['web-a', 'web-b', 'web-c']).toContain(fromHost);
  });

  it('keeps a client on one backend with sessionAffinity ClientIP', async () => {
    const sticky = await service('sticky', { selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80 }] });
    await readyEndpoints('sticky', 3);
    await waitFor('the sticky service answers', async () => (await requests(`http://${sticky.spec!.clusterIP}/`, 1))[0] !== 'FAILED');
    const answers = await requests(`http://${sticky.spec!.clusterIP}/`, 20);
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).not.toBe('FAILED');
  });

  it('lets a pod reach itself through its own service (hairpin)', async () => {
    const answers = await requests(`http://${web.spec!.clusterIP}/`, 30, 'web-a', 'web');
    expect(answers.filter((b) => b === 'FAILED')).toEqual([]);
    expect(answers).toContain('web-a');
  });

  it('refuses a service without endpoints and an address of the range that no service holds, at once', async () => {
    const empty = await service('empty', { selector: { app: 'nothing' }, ports: [{ port: 80 }] });
    const started = Date.now();
    const r = await cluster.exec('client', 'client', `wget -q -O - http://${empty.spec!.clusterIP}/; echo "exit $?"; wget -q -O - http://10.96.7.7/; echo "exit $?"`);
    expect(r.out).toContain(`can't connect to remote host (${empty.spec!.clusterIP}): Connection refused`);
    expect(r.out).toContain("can't connect to remote host (10.96.7.7): Connection refused");
    expect(r.out.match(/exit 1/g)).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
