// The cluster DNS seen from inside pods, on real Docker: pods get the cluster DNS as their
// nameserver (the kube-dns cluster IP, which the node's proxy sends to peapod-dns) with
// their namespace's search path; busybox nslookup and wget resolve services, SRV records,
// headless services, pods, short names; other names reach the (local, stub) upstream.

import type { Endpoints, Pod, Service } from '@peapod/api';
import { ServiceCluster, canRunServices, clusterDnsIP, shContainer, webContainer, waitFor } from '@peapod/client/testing';
import { startStubResolver, type StubResolver } from '../testing/stub-resolver';

jest.setTimeout(240_000);
const suite = canRunServices() ? describe : describe.skip;

suite('cluster DNS from pods', () => {
  const cluster = new ServiceCluster('dns');
  const node = cluster.node('a');
  let stub: StubResolver;
  let web: Service;
  let dbPods: Pod[];

  /** busybox nslookup in the client pod; its output. */
  async function nslookup(args: string): Promise<string> {
    return (await cluster.exec('client', 'client', `nslookup ${args}`)).out;
  }

  beforeAll(async () => {
    await cluster.start();
    await cluster.addNode(node);
    stub = await startStubResolver('127.0.0.1', { 'example.com': '192.0.2.1' });
    await cluster.startDns(`127.0.0.1:${stub.port}`);
    web = await cluster.api.create<Service>('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 80 }] },
    });
    await cluster.api.create<Service>('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db', namespace: 'default' },
      spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432, targetPort: 80 }] },
    });
    const [, db0, db1] = await Promise.all([
      cluster.runPod('web-a', node, [webContainer()], {}, { app: 'web' }),
      cluster.runPod('db-0', node, [webContainer()], { hostname: 'db-0', subdomain: 'db' }, { app: 'db' }),
      cluster.runPod('db-1', node, [webContainer()], {}, { app: 'db' }),
      cluster.runPod('client', node, [shContainer('client', 'sleep 100000')]),
    ]);
    dbPods = [db0, db1];
    // The headless service's endpoints, then the name answers (the DNS follows the slices).
    await waitFor('db resolves to both pods', async () => {
      const out = await nslookup('db.default.svc.cluster.local');
      return dbPods.every((p) => out.includes(p.status!.podIP!));
    }, 60_000, 500);
  });

  afterAll(async () => {
    const { tablesLeft } = await cluster.cleanup();
    await stub?.close();
    expect(tablesLeft).toEqual([]);
  });

  it('gives pods the cluster DNS, their search path and ndots:5, and a hosts file naming them', async () => {
    const conf = (await cluster.exec('client', 'client', 'cat /etc/resolv.conf')).out;
    expect(conf).toBe(`nameserver ${clusterDnsIP}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`);
    const hosts = (await cluster.exec('db-0', 'web', 'cat /etc/hosts')).out;
    expect(hosts).toContain(`${dbPods[0].status!.podIP}\tdb-0.db.default.svc.cluster.local\tdb-0\n`);
  });

  it('keeps the kube-dns service and its endpoints: the DNS server behind the cluster DNS IP', async () => {
    const svc = await cluster.api.get<Service>('services', 'kube-dns', { namespace: 'kube-system' });
    expect(svc.spec?.clusterIP).toBe(clusterDnsIP);
    const ep = await cluster.api.get<Endpoints>('endpoints', 'kube-dns', { namespace: 'kube-system' });
    expect(ep.subsets?.[0].addresses?.map((a) => a.ip)).toEqual([cluster.gateway]);
  });

  it('answers A for a service by full and short names', async () => {
    const ip = web.spec!.clusterIP!;
    for (const name of ['web.default.svc.cluster.local', 'web']) {
      expect(await nslookup(name)).toMatch(new RegExp(`Address:\\s+${ip.replace(/\./g, '\\.')}`));
    }
    // busybox nslookup tries the search path only for names without a dot; the C library's
    // resolver (wget's) goes through it for any name with fewer than ndots (5) dots.
    for (const name of ['web', 'web.default', 'web.default.svc']) {
      expect((await cluster.exec('client', 'client', `timeout 5 wget -q -O - http://${name}/`)).out.trim()).toBe('web-a');
    }
  });

  it('answers SRV for a named port, and a headless service with each ready pod', async () => {
    expect(await nslookup('-type=srv _http._tcp.web.default.svc.cluster.local')).toContain('service = 0 100 80 web.default.svc.cluster.local');
    const srv = await nslookup('-type=srv _pg._tcp.db.default.svc.cluster.local');
    expect(srv).toContain('80 db-0.db.default.svc.cluster.local');
    expect(srv).toContain(`80 ${dbPods[1].status!.podIP!.replace(/\./g, '-')}.db.default.svc.cluster.local`);
    const headless = await nslookup('db');
    for (const p of dbPods) expect(headless).toContain(p.status!.podIP!);
    expect(await nslookup('db-0.db.default.svc.cluster.local')).toContain(dbPods[0].status!.podIP!);
  });

  it('answers a pod by its dashed IP, and NXDOMAIN for names of the zone that do not exist', async () => {
    const ip = dbPods[1].status!.podIP!;
    expect(await nslookup(`${ip.replace(/\./g, '-')}.default.pod.cluster.local`)).toMatch(new RegExp(`Address:\\s+${ip.replace(/\./g, '\\.')}`));
    expect(await nslookup('nope.default.svc.cluster.local')).toMatch(/NXDOMAIN|can't find/);
    expect(stub.asked.map((a) => a.name)).not.toContain('nope.default.svc.cluster.local');
  });

  it('forwards other names to the host\'s resolver (here a local stub)', async () => {
    const out = await nslookup('example.com.');
    expect(out).toMatch(/Address:\s+192\.0\.2\.1/);
    expect(stub.asked.map((a) => a.name)).toContain('example.com');
  });
});
