import type { EndpointSlice, Node, Service } from '@peapod/api';
import { Client, createLogger } from '@peapod/client';
import { FakeApiServer, waitFor } from '@peapod/client/testing';
import type { Nft } from './nft/nft';
import type { TableObjects } from './nft/ruleset';
import { Proxier, tableName } from './proxier';

/** Records what the proxier would apply, and plays a kernel that holds nothing yet. */
class RecordingNft implements Nft {
  readonly scripts: string[] = [];
  async apply(script: string): Promise<void> {
    this.scripts.push(script);
  }
  async listTable(): Promise<TableObjects | undefined> {
    return undefined;
  }
  last(): string {
    return this.scripts[this.scripts.length - 1] ?? '';
  }
}

const service: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default', resourceVersion: '1' },
  spec: { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }] },
};

function slice(endpoints: EndpointSlice['endpoints']): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints,
    ports: [{ port: 8080, protocol: 'TCP' }],
  };
}

function node(heartbeat: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1' },
    status: { addresses: [{ type: 'InternalIP', address: '192.168.5.1' }], conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: heartbeat }] },
  } as Node;
}

jest.setTimeout(30_000);

describe('Proxier', () => {
  let fake: FakeApiServer;
  let client: Client;
  const log = createLogger('proxy-test', { level: 'error' });

  beforeEach(async () => {
    fake = new FakeApiServer();
    await fake.start();
    client = new Client({ server: fake.url });
  });

  afterEach(async () => {
    client.close();
    await fake.stop();
  });

  function proxier(nft: Nft): Proxier {
    return new Proxier({
      client,
      nodeName: 'n1',
      nft,
      table: tableName('n1'),
      network: { cidr: '192.168.5.0/24', gateway: '192.168.5.1' },
      serviceCIDR: '10.96.0.0/16',
      hairpin: false,
      syncPeriodMs: 60_000,
      log,
    });
  }

  it('writes the table once its informers have synced, follows the slices, skips changes that alter nothing, and removes the table on stop', async () => {
    fake.set('services', service);
    fake.set('endpointslices', slice([{ addresses: ['192.168.5.7'], conditions: { ready: true } }]));
    fake.set('nodes', node('2026-01-01T00:00:00Z'));
    const nft = new RecordingNft();
    const p = proxier(nft);
    await p.start();
    await waitFor('the first table', () => nft.scripts.length === 1);
    expect(nft.last()).toContain('add rule ip peapod-proxy-n1 ep-default/web/tcp/80__192.168.5.7/8080 meta l4proto tcp dnat to 192.168.5.7:8080');
    expect(nft.last()).toContain('add element ip peapod-proxy-n1 nodeport-ips { 192.168.5.1 }');

    // The pod starts terminating and no other is ready: it is still the one to use (the same
    // rules, so nothing is written); a heartbeat or an annotation changes nothing either.
    fake.set('endpointslices', slice([{ addresses: ['192.168.5.7'], conditions: { ready: false, serving: true, terminating: true } }, { addresses: ['192.168.5.8'], conditions: { ready: false } }]));
    fake.set('nodes', node('2026-01-01T00:00:10Z'));
    fake.set('services', { ...service, metadata: { ...service.metadata, resourceVersion: '2', annotations: { note: 'x' } } });
    await new Promise((r) => setTimeout(r, 500));
    expect(nft.scripts).toHaveLength(1);
    // A ready one: the terminating one leaves the rotation.
    fake.set('endpointslices', slice([{ addresses: ['192.168.5.7'], conditions: { ready: false, serving: true, terminating: true } }, { addresses: ['192.168.5.8'], conditions: { ready: true } }]));
    await waitFor('a second table', () => nft.scripts.length === 2);
    expect(nft.last()).toContain('dnat to 192.168.5.8:8080');
    expect(nft.last()).not.toContain('dnat to 192.168.5.7:8080');

    await p.stop();
    expect(nft.last()).toBe('add table ip peapod-proxy-n1\ndelete table ip peapod-proxy-n1\n');
  });

  it('stopped before it could sync (no API server), it still removes its table and does not fail', async () => {
    await fake.stop();
    const nft = new RecordingNft();
    const p = proxier(nft);
    const started = p.start();
    await new Promise((r) => setTimeout(r, 300));
    await p.stop();
    await expect(started).resolves.toBeUndefined();
    expect(nft.scripts).toEqual(['add table ip peapod-proxy-n1\ndelete table ip peapod-proxy-n1\n']);
    await fake.start();
  });

  it('names a long node\'s table within nftables\' limit, the same each time', () => {
    const long = 'n'.repeat(250);
    expect(tableName(long).length).toBeLessThanOrEqual(200);
    expect(tableName(long)).toBe(tableName(long));
    expect(tableName('node-1')).toBe('peapod-proxy-node-1');
  });
});
