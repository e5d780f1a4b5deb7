import dgram from 'dgram';
import net from 'net';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { createLogger } from '@peapod/client';
import { ClusterZone } from './cluster-zone';
import { Forwarder } from './forwarder';
import { DnsServer } from './server';
import { frame, takeFrames } from './tcp-frames';
import { startStubResolver, type StubResolver } from './testing/stub-resolver';

const log = createLogger('dns-test', { level: 'error' });
const zone = new ClusterZone('cluster.local', 5);
zone.setService({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20', ports: [{ port: 80 }] } });
zone.setService({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'many', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
zone.setSlice(undefined, {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'many-a', namespace: 'default', labels: { 'kubernetes.io/service-name': 'many' } },
  addressType: 'IPv4',
  endpoints: Array.from({ length: 20 }, (_, i) => ({ addresses: [`10.0.1.${i + 1}`] })),
  ports: [{ port: 80, protocol: 'TCP' }],
});

let stub: StubResolver;
let server: DnsServer;
let port: number;
let id = 1;

function query(name: string, type: RecordType, extra: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({ type: 'query', id: id++, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }], ...extra });
}

function overUdp(message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no answer'));
    }, 5000);
    socket.on('message', (m) => {
      clearTimeout(timer);
      socket.close();
      resolve(m);
    });
    socket.send(message, port, '127.0.0.1');
  });
}

function overTcp(messages: Buffer[]): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.concat(messages.map(frame))));
    let received: Buffer = Buffer.alloc(0);
    const answers: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      const taken = takeFrames(Buffer.concat([received, chunk]));
      received = taken.rest;
      answers.push(...taken.messages);
      if (answers.length === messages.length) {
        socket.destroy();
        resolve(answers);
      }
    });
    socket.on('error', reject);
  });
}

const rcode = (p: DecodedPacket) => (p as DecodedPacket & { rcode: string }).rcode;

beforeAll(async () => {
  stub = await startStubResolver('127.0.0.1', { 'example.com': '192.0.2.1', 'example.org': '192.0.2.1' });
  server = new DnsServer({ zone, forwarder: new Forwarder([{ host: '127.0.0.1', port: stub.port }], 500), log });
  port = await server.listen('127.0.0.1', 0);
});

afterAll(async () => {
  await server.close();
  await stub.close();
});

describe('DnsServer', () => {
  it('answers cluster names itself, authoritatively, over UDP and TCP', async () => {
    const udp = dnsPacket.decode(await overUdp(query('web.default.svc.cluster.local', 'A')));
    expect([rcode(udp), udp.flag_aa, udp.flag_rd, udp.flag_ra]).toEqual(['NOERROR', true, true, true]);
    expect(udp.answers?.map((a) => a.data)).toEqual(['10.96.0.20']);
    const [nx, srv] = (await overTcp([query('nope.default.svc.cluster.local', 'A'), query('web.default.svc.cluster.local', 'AAAA')])).map((b) => dnsPacket.decode(b));
    expect(rcode(nx)).toBe('NXDOMAIN');
    expect(nx.authorities?.[0].type).toBe('SOA');
    expect([rcode(srv), srv.answers?.length]).toEqual(['NOERROR', 0]);
    expect(stub.asked).toEqual([]);
  });

  it('forwards other names to the upstream over the transport they came on, and relays its answer', async () => {
    const udp = dnsPacket.decode(await overUdp(query('example.com', 'A')));
    expect(udp.answers?.map((a) => a.data)).toEqual(['192.0.2.1']);
    const [tcp] = (await overTcp([query('example.org', 'A')])).map((b) => dnsPacket.decode(b));
    expect(tcp.answers?.map((a) => a.data)).toEqual(['192.0.2.1']);
    expect(stub.asked).toEqual([
      { name: 'example.com', transport: 'udp' },
      { name: 'example.org', transport: 'tcp' },
    ]);
  });

  it('truncates a UDP answer larger than the client takes; TCP carries all of it; EDNS raises the limit', async () => {
    const udp = dnsPacket.decode(await overUdp(query('many.default.svc.cluster.local', 'A')));
    expect([udp.flag_tc, udp.answers?.length]).toEqual([true, 0]);
    const edns = dnsPacket.decode(
      await overUdp(query('many.default.svc.cluster.local', 'A', { additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] })),
    );
    expect([edns.flag_tc, edns.answers?.length]).toEqual([false, 20]);
    const [tcp] = (await overTcp([query('many.default.svc.cluster.local', 'A')])).map((b) => dnsPacket.decode(b));
    expect([tcp.flag_tc, tcp.answers?.length]).toEqual([false, 20]);
  });

  it('says FORMERR to what it cannot read, NOTIMP to other opcodes, SERVFAIL when no upstream answers', async () => {
    const garbage = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    const formerr = dnsPacket.decode(await overUdp(garbage));
    expect([formerr.id, rcode(formerr)]).toEqual([garbage.readUInt16BE(0), 'FORMERR']);
    const notify = query('cluster.local', 'SOA');
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2);
    expect(rcode(dnsPacket.decode(await overUdp(notify)))).toBe('NOTIMP');
    const silent = new DnsServer({ zone, forwarder: new Forwarder([{ host: '127.0.0.1', port: 9 }], 200), log });
    const answer = dnsPacket.decode((await silent.handle(query('example.net', 'A'), 'udp'))!);
    expect(rcode(answer)).toBe('SERVFAIL');
  });
});
